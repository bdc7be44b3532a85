using System.IO;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// A <see cref="FileStateStore"/>'s folder is held by another open store, most likely a second
    /// proxy pointed at the same folder. Two writers would interleave records in one journal; so
    /// the second is refused at open. Give each proxy its own folder, or share state through Redis.
    /// </summary>
    public sealed class StateStoreLockedException : IOException
    {
        public StateStoreLockedException(string directory, string lockFile, IOException inner)
            : base("state folder '" + directory + "' is in use by another process (lock file " + lockFile + ")", inner)
        {
            Directory = directory;
            LockFile = lockFile;
        }

        /// <summary>The store's folder.</summary>
        public string Directory { get; }

        /// <summary>The lock file the other store holds.</summary>
        public string LockFile { get; }
    }
}
