using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The answer to one question: a status and the record data as text.</summary>
    /// <remarks>A and AAAA values are addresses in their usual text form; NS, MX and PTR values are
    /// target host names without the trailing root dot; a TXT value is one record, its character-strings
    /// joined.</remarks>
    public sealed class DnsAnswer
    {
        static readonly string[] None = new string[0];

        DnsAnswer(DnsStatus status, IReadOnlyList<string> values, string error, int? ttl = null)
        {
            Status = status;
            Values = values ?? None;
            Error = error;
            TimeToLive = ttl;
        }

        public DnsStatus Status { get; }
        public IReadOnlyList<string> Values { get; }
        /// <summary>Why the question failed, for logs; null unless <see cref="Status"/> is Failed.</summary>
        public string Error { get; }
        /// <summary>How long the answer may be kept, in seconds: the smallest TTL of the answer's
        /// records, or for a negative answer the SOA's negative TTL (RFC 2308 §5); null when unknown.</summary>
        public int? TimeToLive { get; }

        /// <summary>The same answer with its time to live.</summary>
        public DnsAnswer WithTimeToLive(int? seconds) => new DnsAnswer(Status, Values, Error, seconds);

        /// <summary>An answer as a fact record holds it (a replay rebuilds what the proxy saw).</summary>
        public static DnsAnswer Of(DnsStatus status, IReadOnlyList<string> values, string error, int? ttl) =>
            new DnsAnswer(status, values, status == DnsStatus.Failed ? error ?? "lookup failed" : null, ttl);

        public static DnsAnswer Ok(IReadOnlyList<string> values) => new DnsAnswer(DnsStatus.Ok, values, null);
        public static readonly DnsAnswer NoData = new DnsAnswer(DnsStatus.Ok, None, null);
        public static readonly DnsAnswer NameError = new DnsAnswer(DnsStatus.NameError, None, null);
        public static DnsAnswer Failed(string error) => new DnsAnswer(DnsStatus.Failed, None, error ?? "lookup failed");

        public override string ToString() =>
            Status == DnsStatus.Ok ? "Ok [" + string.Join(", ", Values) + "]" : Status + (Error == null ? "" : ": " + Error);
    }
}
