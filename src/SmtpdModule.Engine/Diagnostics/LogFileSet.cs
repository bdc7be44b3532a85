using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// A log and its rotated files. <c>smtpd.log</c> rotates to <c>smtpd.20261207T010203.123Z.log</c>:
    /// the UTC time of the rotation, fixed width, so that the names sort by time; no ':' so that
    /// Windows takes them; the extension kept so that tools still know the file. The writer
    /// (<see cref="RotatingLogFile"/>) and the readers find the files through this one class.
    /// </summary>
    public sealed class LogFileSet
    {
        const string StampFormat = "yyyyMMdd'T'HHmmss'.'fff'Z'";
        static readonly Regex Rotated = new Regex(@"^(?<stem>.+)\.(?<stamp>\d{8}T\d{6}\.\d{3}Z)(?<ext>\.[^.]+)?$", RegexOptions.CultureInvariant);

        readonly string _stem, _ext;

        // Windows' names ignore case: smtpd.log and SMTPD.20261207T010203.123Z.log are one log there.
        static readonly StringComparison PathComparison =
            System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows)
                ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

        /// <param name="path">The log's own (current) file.</param>
        public LogFileSet(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentNullException(nameof(path));
            Path = System.IO.Path.GetFullPath(path);
            Directory = System.IO.Path.GetDirectoryName(Path);
            _stem = System.IO.Path.GetFileNameWithoutExtension(Path);
            _ext = System.IO.Path.GetExtension(Path);
        }

        /// <summary>The current file, which the writer appends to.</summary>
        public string Path { get; }
        public string Directory { get; }

        /// <summary>The name the current file gets when it is rotated at <paramref name="time"/>.</summary>
        public string RotatedPath(DateTimeOffset time) =>
            System.IO.Path.Combine(Directory, _stem + "." + time.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture) + _ext);

        /// <summary>The rotated files that exist, oldest first; none when the folder does not exist.</summary>
        public IReadOnlyList<RotatedLogFile> RotatedFiles()
        {
            var list = new List<RotatedLogFile>();
            if (!System.IO.Directory.Exists(Directory)) return list;
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, _stem + ".*" + _ext))
                if (TryParse(file, out var basePath, out var time) && string.Equals(basePath, Path, PathComparison))
                    list.Add(new RotatedLogFile(file, time));
            list.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            return list;
        }

        /// <summary>Every file of the log, oldest first: the rotated files, then the current one when it exists.</summary>
        public IReadOnlyList<string> AllFiles()
        {
            var files = new List<string>();
            foreach (var r in RotatedFiles()) files.Add(r.Path);
            if (File.Exists(Path)) files.Add(Path);
            return files;
        }

        /// <summary>Whether <paramref name="path"/> is a rotated file's name, and then whose and when.</summary>
        public static bool TryParse(string path, out string basePath, out DateTimeOffset rotated)
        {
            basePath = null;
            rotated = default;
            var m = Rotated.Match(System.IO.Path.GetFileName(path ?? ""));
            if (!m.Success
                || !DateTime.TryParseExact(m.Groups["stamp"].Value, StampFormat, CultureInfo.InvariantCulture,
                                           DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var utc))
                return false;
            basePath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)), m.Groups["stem"].Value + m.Groups["ext"].Value);
            rotated = new DateTimeOffset(utc, TimeSpan.Zero);
            return true;
        }
    }

    /// <summary>A rotated file and the time it was rotated (its last line is no later).</summary>
    public sealed class RotatedLogFile
    {
        public RotatedLogFile(string path, DateTimeOffset rotated) { Path = path; Rotated = rotated; }
        public string Path { get; }
        public DateTimeOffset Rotated { get; }
    }
}
