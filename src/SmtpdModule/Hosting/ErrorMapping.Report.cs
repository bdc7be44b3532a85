using System;
using System.IO;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // Export-SmtpdReport's errors. Ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>-After/-Before/-Interval that make no window: it ends before it starts, or cuts into too many points.</summary>
        public const string InvalidReportWindow = "InvalidReportWindow";
        /// <summary>-NoClobber and the report file exists.</summary>
        public const string ReportFileExists = "ReportFileExists";
        /// <summary>The report could not be written (folder missing, no permission, disk full).</summary>
        public const string ReportNotWritten = "ReportNotWritten";
        /// <summary>-SpoolPath could not be counted; the report is written without the spool's depth.</summary>
        public const string ReportSpoolUnreadable = "ReportSpoolUnreadable";

        public static ErrorRecord BadReportWindow(ArgumentException ex, object target) =>
            new ErrorRecord(ex, InvalidReportWindow, ErrorCategory.InvalidArgument, target);

        public static ErrorRecord ReportExists(string path) =>
            new ErrorRecord(new IOException("The file '" + path + "' exists and -NoClobber was given."), ReportFileExists, ErrorCategory.ResourceExists, path);

        public static ErrorRecord ReportNotSaved(Exception ex, string path) =>
            new ErrorRecord(ex, ReportNotWritten, ex is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, path);

        public static ErrorRecord ReportSpoolNotCounted(Exception ex, string spoolPath) =>
            new ErrorRecord(ex, ReportSpoolUnreadable, ex is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.ReadError, spoolPath);
    }
}
