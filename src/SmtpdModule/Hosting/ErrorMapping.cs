using System;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// The only place that makes ErrorRecords. Error ids are public API: scripts catch them and
    /// tests pin them, so an id is never renamed or reused for another failure.
    /// </summary>
    internal static class ErrorMapping
    {
        /// <summary>A rules file with errors (ParserError), or one that cannot be read (ReadError).</summary>
        public const string RuleFileSyntax = "RuleFileSyntax";
        public const string RuleFileUnreadable = "RuleFileUnreadable";
        /// <summary>The rules file does not exist, or the path is not a file-system path.</summary>
        public const string RuleFileNotFound = "RuleFileNotFound";
        public const string InvalidClientAddress = "InvalidClientAddress";
        public const string InvalidDnsServer = "InvalidDnsServer";
        public const string InvalidListenEndPoint = "InvalidListenEndPoint";
        public const string ListenerBindFailed = "ListenerBindFailed";
        public const string SpoolUnavailable = "SpoolUnavailable";
        public const string SpoolAccessDenied = "SpoolAccessDenied";
        public const string SmtpdProxyNotFound = "SmtpdProxyNotFound";
        public const string CertificateUnusable = "CertificateUnusable";
        public const string LogPathUnusable = "LogPathUnusable";
        public const string InvalidProxyOption = "InvalidProxyOption";

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

        public static ErrorRecord BadDnsServer(string value, string reason)
        {
            var ex = new ArgumentException(reason ?? ("'" + value + "' is not a DNS server address."));
            return new ErrorRecord(ex, InvalidDnsServer, ErrorCategory.InvalidArgument, value);
        }

        public static ErrorRecord BadListen(string value, string reason)
        {
            var ex = new ArgumentException("'" + value + "' is not a listen end point: " + reason + "; expected ip:port, e.g. 127.0.0.1:2525, 0.0.0.0:25 or [::]:25.");
            return new ErrorRecord(ex, InvalidListenEndPoint, ErrorCategory.InvalidArgument, value);
        }

        /// <summary>A proxy part that could not start: the end point that could not be bound, or the log.</summary>
        public static ErrorRecord From(SmtpdModule.Engine.Smtp.ProxyStartException ex) =>
            ex.Failure == SmtpdModule.Engine.Smtp.ProxyStartFailure.Listen
                ? new ErrorRecord(ex, ListenerBindFailed, ErrorCategory.ResourceUnavailable, ex.Target)
                : new ErrorRecord(ex, LogPathUnusable, ErrorCategory.OpenError, ex.Target);

        public static ErrorRecord BadProxyOption(ArgumentException ex) =>
            new ErrorRecord(ex, InvalidProxyOption, ErrorCategory.InvalidArgument, ex.ParamName);

        public static ErrorRecord From(SmtpdModule.Engine.Spool.SpoolException ex, string spoolPath)
        {
            var wrapped = new System.IO.IOException("The spool '" + spoolPath + "' cannot be used: " + ex.Message, ex);
            return new ErrorRecord(wrapped, SpoolUnavailable, ErrorCategory.ResourceUnavailable, spoolPath);
        }

        public static ErrorRecord AccessDenied(UnauthorizedAccessException ex, string path) =>
            new ErrorRecord(ex, SpoolAccessDenied, ErrorCategory.PermissionDenied, path);

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
