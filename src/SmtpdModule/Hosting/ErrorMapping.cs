using System;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// The only place that makes ErrorRecords. Error ids are public API: scripts catch them and
    /// tests pin them, so an id is never renamed or reused for another failure.
    /// </summary>
    internal static partial class ErrorMapping
    {
        /// <summary>A rules file with errors (ParserError), or one that cannot be read (ReadError).</summary>
        public const string RuleFileSyntax = "RuleFileSyntax";
        public const string RuleFileUnreadable = "RuleFileUnreadable";
        /// <summary>The rules file does not exist, or the path is not a file-system path.</summary>
        public const string RuleFileNotFound = "RuleFileNotFound";
        public const string InvalidClientAddress = "InvalidClientAddress";
        public const string InvalidProtocolTest = "InvalidProtocolTest";
        public const string InvalidDnsServer = "InvalidDnsServer";
        public const string InvalidDnsTimeout = "InvalidDnsTimeout";
        public const string InvalidListenEndPoint = "InvalidListenEndPoint";
        public const string ListenerBindFailed = "ListenerBindFailed";
        public const string SpoolUnavailable = "SpoolUnavailable";
        public const string SpoolAccessDenied = "SpoolAccessDenied";
        /// <summary>No spool at the -SpoolPath of a spool cmdlet (no <c>ready/</c> there, or not a file-system path).</summary>
        public const string SpoolNotFound = "SpoolNotFound";
        /// <summary>No message with that id in the spool (a malformed id included).</summary>
        public const string SpoolItemNotFound = "SpoolItemNotFound";
        /// <summary>A forwarder is delivering the message: it cannot be held, released or removed now.</summary>
        public const string SpoolItemBusy = "SpoolItemBusy";
        /// <summary>The message's envelope or delivery record cannot be read.</summary>
        public const string SpoolItemCorrupt = "SpoolItemCorrupt";
        /// <summary>Export-SmtpdSpoolItem would overwrite a file (without -Force), or write one file twice.</summary>
        public const string SpoolExportFileExists = "SpoolExportFileExists";
        /// <summary>Export-SmtpdSpoolItem cannot write its file (not in the file system, I/O).</summary>
        public const string SpoolExportFailed = "SpoolExportFailed";
        public const string SmtpdProxyNotFound = "SmtpdProxyNotFound";
        public const string CertificateUnusable = "CertificateUnusable";
        public const string LogPathUnusable = "LogPathUnusable";
        public const string InvalidProxyOption = "InvalidProxyOption";
        public const string StateStoreUnusable = "StateStoreUnusable";
        /// <summary>Start-SmtpdProxy refused a rules file (or its directory) that other users can change.</summary>
        public const string RulesFileInsecure = "RulesFileInsecure";
        /// <summary>Start-SmtpdProxy refused a spool directory that other users can change.</summary>
        public const string SpoolInsecure = "SpoolInsecure";

        /// <summary>
        /// A refused rules file. The message is the exception's own (<c>file:line:col: error: …</c>);
        /// the target is the rules path.
        /// </summary>
        public static ErrorRecord From(RuleFileException ex, string path)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            var target = path ?? ex.Path;
            return ex.Code == RuleDiagnosticCodes.UnreadableFile
                ? new ErrorRecord(ex, RuleFileUnreadable, ErrorCategory.ReadError, target)
                : new ErrorRecord(ex, RuleFileSyntax, ErrorCategory.ParserError, target);
        }

        /// <summary>One error diagnostic of a refused file, reported on its own (Get-SmtpdRule lists them all).</summary>
        public static ErrorRecord From(RuleDiagnostic diagnostic, string path)
        {
            if (diagnostic == null) throw new ArgumentNullException(nameof(diagnostic));
            return From(new RuleFileException(diagnostic.Path ?? path, new[] { diagnostic }), path);
        }

        public static ErrorRecord RulesFileNotFound(string path)
        {
            var ex = new FileNotFoundException("The rules file '" + path + "' does not exist.", path);
            return new ErrorRecord(ex, RuleFileNotFound, ErrorCategory.ObjectNotFound, path);
        }

        public static ErrorRecord RulesPathNotInFileSystem(string path)
        {
            var ex = new FileNotFoundException("'" + path + "' is not a file-system path; the rules file must be a file.", path);
            return new ErrorRecord(ex, RuleFileNotFound, ErrorCategory.ObjectNotFound, path);
        }

        public static ErrorRecord BadClientAddress(string value, string reason)
        {
            var ex = new ArgumentException(reason ?? ("'" + value + "' is not an IP address."));
            return new ErrorRecord(ex, InvalidClientAddress, ErrorCategory.InvalidArgument, value);
        }

        public static ErrorRecord BadProtocolTest(string value, string known)
        {
            var ex = new ArgumentException("'" + value + "' is not a protocol test: expected " + known + " or ANY.");
            return new ErrorRecord(ex, InvalidProtocolTest, ErrorCategory.InvalidArgument, value);
        }

        public static ErrorRecord BadDnsServer(string value, string reason)
        {
            var ex = new ArgumentException(reason ?? ("'" + value + "' is not a DNS server address."));
            return new ErrorRecord(ex, InvalidDnsServer, ErrorCategory.InvalidArgument, value);
        }

        public static ErrorRecord BadDnsTimeout(ArgumentOutOfRangeException ex, TimeSpan value) =>
            new ErrorRecord(ex, InvalidDnsTimeout, ErrorCategory.InvalidArgument, value);

        public static ErrorRecord BadListen(string value, string reason)
        {
            var ex = new ArgumentException("'" + value + "' is not a listen end point: " + reason + "; expected ip:port, e.g. 127.0.0.1:2525, 0.0.0.0:25 or [::]:25.");
            return new ErrorRecord(ex, InvalidListenEndPoint, ErrorCategory.InvalidArgument, value);
        }

        /// <summary>A proxy part that could not start: the end point that could not be bound, the
        /// log, or a rules file or spool other users can change (target: that file or directory).</summary>
        public static ErrorRecord From(SmtpdModule.Engine.Smtp.ProxyStartException ex)
        {
            switch (ex.Failure)
            {
                case SmtpdModule.Engine.Smtp.ProxyStartFailure.Listen:
                    return new ErrorRecord(ex, ListenerBindFailed, ErrorCategory.ResourceUnavailable, ex.Target);
                case SmtpdModule.Engine.Smtp.ProxyStartFailure.RulesFileInsecure:
                    return Described(new ErrorRecord(ex, RulesFileInsecure, ErrorCategory.SecurityError, ex.Target),
                        ex.Message + ". Remove the write permission of other users, or use -AllowInsecurePermissions.");
                case SmtpdModule.Engine.Smtp.ProxyStartFailure.StateStore:
                    return Described(new ErrorRecord(ex, StateStoreUnusable, ErrorCategory.OpenError, ex.Target),
                        ex.Message + (ex.InnerException is SmtpdModule.Engine.State.StateStoreLockedException
                            ? ". Each proxy needs a state folder of its own: give another -StatePath, or share state through -StateStore."
                            : "."));
                case SmtpdModule.Engine.Smtp.ProxyStartFailure.SpoolInsecure:
                    return Described(new ErrorRecord(ex, SpoolInsecure, ErrorCategory.SecurityError, ex.Target),
                        ex.Message + ". Remove the write permission of other users, or use -AllowInsecurePermissions.");
                default:
                    return new ErrorRecord(ex, LogPathUnusable, ErrorCategory.OpenError, ex.Target);
            }
        }

        public static ErrorRecord BadProxyOption(ArgumentException ex) =>
            new ErrorRecord(ex, InvalidProxyOption, ErrorCategory.InvalidArgument, ex.ParamName);

        public static ErrorRecord From(SmtpdModule.Engine.Spool.SpoolException ex, string spoolPath)
        {
            var wrapped = new System.IO.IOException("The spool '" + spoolPath + "' cannot be used: " + ex.Message, ex);
            return new ErrorRecord(wrapped, SpoolUnavailable, ErrorCategory.ResourceUnavailable, spoolPath);
        }

        public static ErrorRecord AccessDenied(UnauthorizedAccessException ex, string path) =>
            new ErrorRecord(ex, SpoolAccessDenied, ErrorCategory.PermissionDenied, path);

        // --- The spool cmdlets (Get-SmtpdSpool, *-SmtpdSpoolItem) ------------------------------
        // The record keeps the engine's SpoolException (scripts can read its Reason, Line, Key);
        // the sentence an administrator reads is the record's ErrorDetails.

        /// <summary>No spool at <paramref name="path"/>: terminating, target the path.</summary>
        public static ErrorRecord NoSpool(string path, Exception inner)
        {
            var ex = inner as SpoolException ?? new SpoolException(null, SpoolErrorReason.NotFound, inner);
            return Described(new ErrorRecord(ex, SpoolNotFound, ErrorCategory.ObjectNotFound, path),
                "There is no spool at '" + path + "': a spool root has a 'ready' directory. Give the -SpoolPath of Start-SmtpdProxy.");
        }

        /// <summary>The spool itself failed (a state directory could not be listed): target the spool root.</summary>
        public static ErrorRecord FromSpoolListing(SpoolException ex, string root)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            if (ex.Reason == SpoolErrorReason.NotFound) return NoSpool(root, ex);
            var denied = ex.InnerException is UnauthorizedAccessException;
            return Described(new ErrorRecord(ex, denied ? SpoolAccessDenied : SpoolUnavailable,
                    denied ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable, root),
                "The spool '" + root + "' cannot be listed: " + Cause(ex));
        }

        /// <summary>One message's failure; target the id as the user gave it.</summary>
        public static ErrorRecord FromSpoolItem(SpoolException ex, string id, string root)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            switch (ex.Reason)
            {
                case SpoolErrorReason.NotFound:
                    return Described(new ErrorRecord(ex, SpoolItemNotFound, ErrorCategory.ObjectNotFound, id),
                        "There is no message '" + id + "' in the spool '" + root + "'.");
                case SpoolErrorReason.Busy:
                    return Described(new ErrorRecord(ex, SpoolItemBusy, ErrorCategory.ResourceBusy, id),
                        "Message '" + id + "' is being delivered by a forwarder; try again when that attempt has ended.");
                case SpoolErrorReason.Corrupt:
                    var where = ex.Line > 0 ? " at envelope line " + ex.Line : "";
                    if (ex.Key != null) where += " (" + ex.Key + ")";
                    return Described(new ErrorRecord(ex, SpoolItemCorrupt, ErrorCategory.InvalidData, id),
                        "Message '" + id + "' in the spool '" + root + "' cannot be read: its envelope or delivery record is damaged" + where + ".");
                default:
                    // Io and Full: the spool, not the message, is the problem.
                    var denied = ex.InnerException is UnauthorizedAccessException;
                    return Described(new ErrorRecord(ex, denied ? SpoolAccessDenied : SpoolUnavailable,
                            denied ? ErrorCategory.PermissionDenied : ErrorCategory.ResourceUnavailable, id),
                        "Message '" + id + "' in the spool '" + root + "' cannot be used: " + Cause(ex));
            }
        }

        /// <summary>Export-SmtpdSpoolItem without -Force found <paramref name="file"/> (or wrote it already).</summary>
        static ErrorRecord ExportFileExists(string file, bool writtenByThisCommand)
        {
            var ex = new IOException(writtenByThisCommand
                ? "'" + file + "' was already written by this command for another message; export several messages to a directory."
                : "'" + file + "' exists; use -Force to overwrite it.");
            return new ErrorRecord(ex, SpoolExportFileExists, ErrorCategory.ResourceExists, file);
        }

        /// <summary>Export-SmtpdSpoolItem could not write <paramref name="file"/>.</summary>
        static ErrorRecord ExportFailed(Exception ex, string file) =>
            Described(new ErrorRecord(ex, SpoolExportFailed, ErrorCategory.WriteError, file),
                "Cannot write '" + file + "': " + ex.Message);

        /// <summary>An export that wrote no file; target the file (for a missing folder, -Destination as given).</summary>
        public static ErrorRecord From(SpoolExportException ex, string destination)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            switch (ex.Failure)
            {
                case SpoolExportFailure.FolderNotFound: return ExportDestinationNotFound(destination, ex.Path);
                case SpoolExportFailure.Exists: return ExportFileExists(ex.Path, false);
                case SpoolExportFailure.AlreadyWritten: return ExportFileExists(ex.Path, true);
                default: return ExportFailed(ex.InnerException ?? ex, ex.Path);
            }
        }

        /// <summary>An -Destination outside the file system: nothing can be exported.</summary>
        public static ErrorRecord ExportDestinationNotInFileSystem(string destination) =>
            new ErrorRecord(new ArgumentException("'" + destination + "' is not a file-system path; -Destination must be a directory or a file."),
                SpoolExportFailed, ErrorCategory.InvalidArgument, destination);

        static ErrorRecord Described(ErrorRecord record, string message)
        {
            record.ErrorDetails = new ErrorDetails(message);
            return record;
        }

        static string Cause(SpoolException ex)
        {
            if (ex.Reason == SpoolErrorReason.Full) return "the disk or the quota is full.";
            return ex.InnerException != null && !string.IsNullOrEmpty(ex.InnerException.Message)
                ? ex.InnerException.Message
                : "input/output error.";
        }

        public static ErrorRecord ProxyNotFound(int id)
        {
            var ex = new ArgumentException("No running SMTP proxy has id " + id + " in this PowerShell process.");
            return new ErrorRecord(ex, SmtpdProxyNotFound, ErrorCategory.ObjectNotFound, id);
        }

        public static ErrorRecord From(SmtpdModule.Engine.Smtp.Tls.TlsConfigurationException ex)
        {
            object target = (object)ex.Path ?? ex.Thumbprint;
            return new ErrorRecord(ex, CertificateUnusable, ErrorCategory.InvalidArgument, target);
        }
    }
}
