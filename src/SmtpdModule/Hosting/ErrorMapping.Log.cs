using System;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Evidence;

namespace SmtpdModule.Hosting
{
    // Get-SmtpdLog's errors. Ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>A -Path or -LiteralPath that names no log file (and no rotated file of one).</summary>
        public const string LogFileNotFound = "LogFileNotFound";
        /// <summary>A log file that exists but cannot be read.</summary>
        public const string LogFileUnreadable = "LogFileUnreadable";
        /// <summary>A line of a log that is not a JSON event (cut short, edited, another program's).</summary>
        public const string LogLineUnreadable = "LogLineUnreadable";
        /// <summary>Get-SmtpdLog -Client that is not an address or a network.</summary>
        public const string InvalidLogFilter = "InvalidLogFilter";

        public static ErrorRecord LogNotFound(string path) =>
            new ErrorRecord(new FileNotFoundException("There is no log file '" + path + "' (nor a rotated file of it).", path),
                LogFileNotFound, ErrorCategory.ObjectNotFound, path);

        public static ErrorRecord LogUnreadable(Exception ex, string path) =>
            new ErrorRecord(ex, LogFileUnreadable, ex is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, path);

        /// <summary>The target is <c>file:line</c>.</summary>
        public static ErrorRecord From(LogLineError error) =>
            new ErrorRecord(new FormatException(error.ToString()), LogLineUnreadable, ErrorCategory.InvalidData, error.Where);

        public static ErrorRecord BadLogFilter(ArgumentException ex, object target) =>
            new ErrorRecord(ex, InvalidLogFilter, ErrorCategory.InvalidArgument, target);
    }
}
