using System;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // The forwarder's error records; ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        public const string SmtpFwdNotFound = "SmtpFwdNotFound";
        public const string InvalidForwarderOption = "InvalidForwarderOption";
        public const string InvalidSmartHost = "InvalidSmartHost";
        public const string SendmailNotFound = "SendmailNotFound";

        public static ErrorRecord ForwarderNotFound(int id)
        {
            var ex = new ArgumentException("No running forwarder has id " + id + " in this PowerShell process.");
            return new ErrorRecord(ex, SmtpFwdNotFound, ErrorCategory.ObjectNotFound, id);
        }

        public static ErrorRecord BadForwarderOption(ArgumentException ex, object target) =>
            new ErrorRecord(ex, InvalidForwarderOption, ErrorCategory.InvalidArgument, target ?? ex.ParamName);

        public static ErrorRecord BadSmartHost(string value, string reason) =>
            new ErrorRecord(new ArgumentException("'" + value + "' is not a smart host (host[:port]): " + reason + "."),
                InvalidSmartHost, ErrorCategory.InvalidArgument, value);

        /// <summary>The forwarder's -LogPath cannot be opened (the proxy's comes as a ProxyStartException).</summary>
        public static ErrorRecord LogUnusable(Exception ex, string path) =>
            new ErrorRecord(ex, LogPathUnusable, ErrorCategory.OpenError, path);

        public static ErrorRecord MissingSendmail(string path) =>
            new ErrorRecord(new System.IO.FileNotFoundException("The mail program '" + path + "' does not exist.", path),
                SendmailNotFound, ErrorCategory.ObjectNotFound, path);
    }
}
