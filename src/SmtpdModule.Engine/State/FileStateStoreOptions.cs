using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>The settings of a <see cref="FileStateStore"/>; each has a default that suits a proxy.</summary>
    public sealed class FileStateStoreOptions
    {
        /// <summary>The most entries held at once (as <see cref="MemoryStateStore.MaxEntries"/>);
        /// default <see cref="MemoryStateStore.DefaultMaxEntries"/>.</summary>
        public int MaxEntries { get; set; } = MemoryStateStore.DefaultMaxEntries;

        /// <summary>How often the journal is fsynced, at most, when something was written: the
        /// writes a power loss can take. A killed process loses nothing either way. Positive, at
        /// most an hour; default 1 s.</summary>
        public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>A journal smaller than this is never compacted, however much of it is dead:
        /// rewriting a small file buys nothing. Default 1 MiB.</summary>
        public long CompactionFloorBytes { get; set; } = 1L << 20;

        /// <summary>The time expiry is measured by; null for the machine's clock.</summary>
        public ISystemClock Clock { get; set; }
    }
}
