using System;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    // Test-SmtpdDnsbl's error records; ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        public const string InvalidDnsblZone = "InvalidDnsblZone";
        public const string DnsUnavailable = "DnsUnavailable";

        public static ErrorRecord BadDnsblZone(string zone, string reason) =>
            new ErrorRecord(new ArgumentException(reason + "."), InvalidDnsblZone, ErrorCategory.InvalidArgument, zone);

        /// <summary>No -DnsServer and none configured on this system.</summary>
        public static ErrorRecord NoDns(InvalidOperationException ex) =>
            new ErrorRecord(ex, DnsUnavailable, ErrorCategory.ResourceUnavailable, null);
    }
}
