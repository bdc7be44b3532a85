using System;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // Get-/Remove-SmtpdGreylistEntry's error records; ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>-Client is neither an address nor a CIDR network.</summary>
        public const string InvalidGreylistClient = "InvalidGreylistClient";
        /// <summary>The entry to remove was not there (expired, or removed by another).</summary>
        public const string GreylistEntryNotFound = "GreylistEntryNotFound";
        /// <summary>A key that is not greylisting's, or one the control channel cannot carry.</summary>
        public const string InvalidGreylistKey = "InvalidGreylistKey";
        /// <summary>The proxy's state store failed (a Redis store unreachable).</summary>
        public const string GreylistStoreUnavailable = "GreylistStoreUnavailable";

        public static ErrorRecord BadGreylistClient(string value, string reason) =>
            new ErrorRecord(new ArgumentException(reason), InvalidGreylistClient, ErrorCategory.InvalidArgument, value);

        public static ErrorRecord GreylistEntryGone(string key) =>
            new ErrorRecord(new ArgumentException("No greylist entry '" + key + "': it expired or was removed."), GreylistEntryNotFound, ErrorCategory.ObjectNotFound, key);

        public static ErrorRecord BadGreylistKey(string key, string why) =>
            new ErrorRecord(new ArgumentException("'" + key + "' " + why), InvalidGreylistKey, ErrorCategory.InvalidArgument, key);

        public static ErrorRecord GreylistStoreFailed(Exception ex, object target) =>
            Described(new ErrorRecord(ex, GreylistStoreUnavailable, ErrorCategory.ResourceUnavailable, target),
                "The greylist state could not be read or changed: " + ex.Message);

        /// <summary>-SpoolPath given and no proxy serves it: its greylist state is read through a running proxy.</summary>
        /// <param name="spool">The spool.</param>
        /// <param name="what">What the command reads through the channel ("greylist state is").</param>
        public static ErrorRecord NoProxyServes(string spool, string what = "greylist state is") =>
            new ErrorRecord(new ArgumentException("No running SMTP proxy serves the spool '" + spool + "': " + what + " read through the proxy's control channel."),
                SmtpdProxyNotFound, ErrorCategory.ObjectNotFound, spool);
    }
}
