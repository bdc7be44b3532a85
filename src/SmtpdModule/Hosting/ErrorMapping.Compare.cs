using System;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // Compare-SmtpdRule's error records; ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>A -LogPath that names no file.</summary>
        public const string ReplayLogNotFound = "ReplayLogNotFound";
        /// <summary>A log whose format cannot be told from its first lines (or is not the -LogFormat given), or that cannot be read.</summary>
        public const string ReplayLogUnreadable = "ReplayLogUnreadable";
        /// <summary>A log line that is not a record this module reads; the target is file:line, and the replay goes on.</summary>
        public const string ReplayLogLineUnreadable = "ReplayLogLineUnreadable";
        /// <summary>A logged decision a replay cannot decide again (a stage other than MAIL or RCPT, a client that is not an address).</summary>
        public const string DecisionNotReplayable = "DecisionNotReplayable";

        public static ErrorRecord ReplayLogMissing(string path) =>
            new ErrorRecord(new System.IO.FileNotFoundException("There is no log at '" + path + "'.", path), ReplayLogNotFound, ErrorCategory.ObjectNotFound, path);

        public static ErrorRecord ReplayLogUnknown(Exception ex, string path) =>
            new ErrorRecord(ex, ReplayLogUnreadable, ex is System.IO.IOException ? ErrorCategory.ReadError : ErrorCategory.InvalidData, path);

        public static ErrorRecord ReplayLogLineBad(FormatException ex, string path, long line) =>
            Described(new ErrorRecord(ex, ReplayLogLineUnreadable, ErrorCategory.InvalidData, path + ":" + line),
                path + ":" + line + ": " + ex.Message);

        public static ErrorRecord NotReplayable(Exception ex, object record) =>
            new ErrorRecord(ex, DecisionNotReplayable, ErrorCategory.InvalidData, record);
    }
}
