using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// A DNSBL's answer for one address, sorted the way a list means it: listing codes (127.0.0.0/8),
    /// error codes (127.255.255.0/24, which Spamhaus answers for a typo in the zone, a query through a
    /// public resolver, or too many queries: never a listing), and everything else (wildcards,
    /// misconfiguration), which counts as nothing.
    /// </summary>
    public sealed class DnsblAnswer
    {
        static readonly IPAddress[] None = new IPAddress[0];
        static readonly string[] NoRaw = new string[0];
        // Most questions to a list are answered "no such name": that answer is one shared instance.
        static readonly DnsblAnswer NotListed = new DnsblAnswer(LookupOutcome.NotFound, null, null, null, null);

        DnsblAnswer(LookupOutcome outcome, IReadOnlyList<IPAddress> listings, IReadOnlyList<IPAddress> errorCodes, IReadOnlyList<string> raw, string error)
        {
            Outcome = outcome;
            Listings = listings ?? None;
            ErrorCodes = errorCodes ?? None;
            Raw = raw ?? NoRaw;
            Error = error;
        }

        /// <summary>Found: some listing code; NotFound: none (NXDOMAIN, no data, only error or foreign codes); Failed: no answer.</summary>
        public LookupOutcome Outcome { get; }
        /// <summary>Answers in 127.0.0.0/8 outside the error block: what answer filters look at.</summary>
        public IReadOnlyList<IPAddress> Listings { get; }
        /// <summary>Answers in 127.255.255.0/24: the list reports an error, not a listing.</summary>
        public IReadOnlyList<IPAddress> ErrorCodes { get; }
        /// <summary>Every A record as answered.</summary>
        public IReadOnlyList<string> Raw { get; }
        /// <summary>Why the lookup failed; null unless Failed.</summary>
        public string Error { get; }

        /// <summary>127.255.255.0/24: a DNSBL's error answer.</summary>
        public static bool IsErrorCode(IPAddress a)
        {
            var b = a.GetAddressBytes();
            return b.Length == 4 && b[0] == 127 && b[1] == 255 && b[2] == 255;
        }

        public static DnsblAnswer Failed(string error) => new DnsblAnswer(LookupOutcome.Failed, null, null, null, error);

        /// <summary>Sorts a DNS answer to an A question.</summary>
        public static DnsblAnswer From(DnsAnswer answer)
        {
            if (answer.Status == DnsStatus.Failed) return Failed(answer.Error ?? "lookup failed");
            if (answer.Values.Count == 0) return NotListed;
            List<IPAddress> listings = null, errors = null;
            foreach (var v in answer.Values)
            {
                if (!IPAddress.TryParse(v, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork || ip.GetAddressBytes()[0] != 127) continue;
                if (IsErrorCode(ip)) (errors ?? (errors = new List<IPAddress>())).Add(ip);
                else (listings ?? (listings = new List<IPAddress>())).Add(ip);
            }
            return new DnsblAnswer(listings != null ? LookupOutcome.Found : LookupOutcome.NotFound, listings, errors, answer.Values, null);
        }

        public override string ToString() =>
            Outcome == LookupOutcome.Failed ? "failed: " + Error : Raw.Count == 0 ? "not listed" : string.Join(", ", Raw);
    }
}
