using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Hosting
{
    internal static partial class ErrorMapping
    {
        /// <summary>A proxy or forwarder's control endpoint did not answer in time, or its process is gone.</summary>
        public const string ControlChannelNoAnswer = "ControlChannelNoAnswer";
        /// <summary>A proxy or forwarder answered a control request with an error.</summary>
        public const string ControlChannelRefused = "ControlChannelRefused";
        /// <summary>The control folder of a spool (or an endpoint in it) may not be used by this user.</summary>
        public const string ControlChannelAccessDenied = "ControlChannelAccessDenied";

        /// <summary>A failed control request; target the endpoint.</summary>
        public static ErrorRecord From(ControlException ex) =>
            new ErrorRecord(ex, ex.Failure == ControlFailure.Refused ? ControlChannelRefused : ControlChannelNoAnswer,
                ex.Failure == ControlFailure.Refused ? ErrorCategory.InvalidOperation
                : ex.Failure == ControlFailure.NotRunning ? ErrorCategory.ObjectNotFound : ErrorCategory.OperationTimeout,
                ex.Location?.File);

        /// <summary>Not the service account nor an administrator: the control folder is private.</summary>
        public static ErrorRecord ControlAccessDenied(UnauthorizedAccessException ex, string path) =>
            Described(new ErrorRecord(ex, ControlChannelAccessDenied, ErrorCategory.PermissionDenied, path),
                "The control folder '" + path + "' may be used only by the account the proxy or forwarder runs as and by administrators: " + ex.Message);

        /// <summary>Nothing of that kind (<see cref="ControlLocation.ProxyKind"/>, <see cref="ControlLocation.ForwarderKind"/>)
        /// runs with that id in this process.</summary>
        public static ErrorRecord NotRunningHere(string kind, int id) =>
            kind == ControlLocation.ProxyKind ? ProxyNotFound(id) : ForwarderNotFound(id);

        /// <summary>-SpoolPath given and nothing of that id runs there.</summary>
        public static ErrorRecord NotFoundInSpool(string what, int id, string spool)
        {
            var ex = new ArgumentException("No running " + what + " with id " + id + " serves the spool '" + spool + "'.");
            return new ErrorRecord(ex, what == "proxy" ? SmtpdProxyNotFound : SmtpFwdNotFound, ErrorCategory.ObjectNotFound, id);
        }
    }
}
