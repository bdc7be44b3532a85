using System;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// When a JSON Lines log is rotated and how many old files are kept. The defaults bound a log
    /// to <c>MaxSize × (MaxFiles + 1)</c> bytes (3.1 GB) whatever the traffic, so a log left alone
    /// never fills the disk: the current file is renamed once it would pass 100 MB or holds a day
    /// of events, and rotated files are deleted past 30 of them or 14 days.
    /// </summary>
    public sealed class LogRotationOptions
    {
        public const long DefaultMaxSize = 100L * 1024 * 1024;
        public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(1);
        public const int DefaultMaxFiles = 30;
        public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(14);

        /// <summary>The current file is rotated before a line would take it past this many bytes; 0: never by size.</summary>
        public long MaxSize { get; set; } = DefaultMaxSize;

        /// <summary>The current file is rotated before a line is written once its first line is this old; zero: never by age.</summary>
        public TimeSpan MaxAge { get; set; } = DefaultMaxAge;

        /// <summary>Rotated files kept; the oldest beyond it are deleted. 0 keeps none.</summary>
        public int MaxFiles { get; set; } = DefaultMaxFiles;

        /// <summary>Rotated files older than this (by the time in their name) are deleted; zero: kept whatever their age.</summary>
        public TimeSpan Retention { get; set; } = DefaultRetention;

        /// <summary>No rotation at all: one file that grows, for a log another tool rotates.</summary>
        public static LogRotationOptions Never() => new LogRotationOptions { MaxSize = 0, MaxAge = TimeSpan.Zero, Retention = TimeSpan.Zero };

        /// <summary>Rotation happens at all.</summary>
        public bool Rotates => MaxSize > 0 || MaxAge > TimeSpan.Zero;

        /// <exception cref="ArgumentOutOfRangeException">A value is negative.</exception>
        public void Validate()
        {
            if (MaxSize < 0) throw new ArgumentOutOfRangeException(nameof(MaxSize), "must be 0 (never by size) or a number of bytes");
            if (MaxAge < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxAge), "must be zero (never by age) or positive");
            if (MaxFiles < 0) throw new ArgumentOutOfRangeException(nameof(MaxFiles), "must be 0 or more");
            if (Retention < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Retention), "must be zero (no age limit) or positive");
        }
    }
}
