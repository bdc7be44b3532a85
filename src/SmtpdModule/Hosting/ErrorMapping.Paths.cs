using System.IO;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // Paths of the wrong kind, found before anything starts (issue 12): the error says which path
    // is which kind and what was expected, instead of the failure a later step would meet
    // ("already exists", "Could not find file", a deferral at the first delivery). Ids are public
    // API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>-RulesPath (or Get-/Test-SmtpdRule -Path) names a directory.</summary>
        public const string RuleFileIsDirectory = "RuleFileIsDirectory";
        /// <summary>-SpoolPath names a file; a spool is a directory.</summary>
        public const string SpoolPathIsFile = "SpoolPathIsFile";
        /// <summary>Start-SmtpFwd -PickupDirectory names a file.</summary>
        public const string PickupDirectoryIsFile = "PickupDirectoryIsFile";
        /// <summary>Export-SmtpdSpoolItem -Destination is in (or is) a directory that does not exist.</summary>
        public const string SpoolExportDestinationNotFound = "SpoolExportDestinationNotFound";

        /// <summary>A path a cmdlet needs in the file system names another provider (or no drive).</summary>
        public const string PathNotInFileSystem = "PathNotInFileSystem";

        public static ErrorRecord NotInFileSystem(string path) =>
            new ErrorRecord(new System.ArgumentException("'" + path + "' is not a file-system path."),
                PathNotInFileSystem, ErrorCategory.InvalidArgument, path);

        public static ErrorRecord RulesPathIsDirectory(string path) =>
            new ErrorRecord(new IOException("'" + path + "' is a folder; the rules path names a file, such as '"
                    + Path.Combine(path, "smtpd_check_rules") + "'."),
                RuleFileIsDirectory, ErrorCategory.InvalidArgument, path);

        public static ErrorRecord SpoolIsFile(string path) =>
            new ErrorRecord(new IOException("'" + path + "' is a file; the spool path names a folder (it is created if it does not exist)."),
                SpoolPathIsFile, ErrorCategory.InvalidArgument, path);

        public static ErrorRecord PickupIsFile(string path) =>
            new ErrorRecord(new IOException("'" + path + "' is a file; the pickup directory names a folder (it is created if it does not exist)."),
                PickupDirectoryIsFile, ErrorCategory.InvalidArgument, path);

        static ErrorRecord ExportDestinationNotFound(string destination, string folder) =>
            new ErrorRecord(new DirectoryNotFoundException("The folder '" + folder + "' "
                    + (File.Exists(folder) ? "is a file" : "does not exist") + "; give an existing folder, "
                    + "or a file name in one, as -Destination."),
                SpoolExportDestinationNotFound, ErrorCategory.ObjectNotFound, destination);
    }
}
