using System;
using SmtpdModule.Engine.Files;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A rules file that follows its edits. <see cref="Current"/> checks the file's time stamp
    /// and length at most once per <see cref="CheckInterval"/>; a changed file is compiled again
    /// and replaces the rules atomically. A broken edit (or a deleted, unreadable file) keeps the
    /// last good rules in force and is reported once through <see cref="ReloadFailed"/>.
    /// </summary>
    /// <remarks>Polling on access rather than a file-system watcher: it behaves the same on every
    /// platform and file system (network shares included) and costs one stat per interval.</remarks>
    public sealed class RulesFile
    {
        readonly WatchedFile<RuleSet, RuleFileException> _file;

        RulesFile(WatchedFile<RuleSet, RuleFileException> file) { _file = file; }

        public string Path => _file.Path;
        public TimeSpan CheckInterval => _file.CheckInterval;
        /// <summary>The error of the last failed reload while it is still the file's state; null once a reload succeeds.</summary>
        public RuleFileException LastError => _file.LastError;

        /// <summary>Raised (on the thread that noticed the change) after new rules took effect.</summary>
        public event EventHandler<RuleSet> Reloaded { add => _file.Reloaded += value; remove => _file.Reloaded -= value; }
        /// <summary>Raised once per broken state of the file; the previous rules stay in force.</summary>
        public event EventHandler<RuleFileException> ReloadFailed { add => _file.ReloadFailed += value; remove => _file.ReloadFailed -= value; }

        /// <summary>Loads the file.</summary>
        /// <exception cref="RuleFileException">The file cannot be read or has errors.</exception>
        public static RulesFile Open(string path, RuleParseOptions options = null, TimeSpan? checkInterval = null) =>
            new RulesFile(new WatchedFile<RuleSet, RuleFileException>(path ?? throw new ArgumentNullException(nameof(path)),
                p => RuleSet.Load(p, options), set => (set.FileTimeUtc, set.FileLength), checkInterval ?? TimeSpan.FromSeconds(1)));

        /// <summary>The rules in force, reloaded first if the file changed.</summary>
        public RuleSet Current => _file.Current;

        /// <summary>Checks the file now, whatever the interval. True when new rules took effect.</summary>
        public bool CheckNow() => _file.CheckNow();
    }
}
