using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The answer to one question: a status and the record data as text.</summary>
    /// <remarks>A and AAAA values are addresses in their usual text form; NS, MX and PTR values are
    /// target host names without the trailing root dot.</remarks>
    public sealed class DnsAnswer
    {
        static readonly string[] None = new string[0];

        DnsAnswer(DnsStatus status, IReadOnlyList<string> values, string error)
        {
            Status = status;
            Values = values ?? None;
            Error = error;
        }

        public DnsStatus Status { get; }
        public IReadOnlyList<string> Values { get; }
        /// <summary>Why the question failed, for logs; null unless <see cref="Status"/> is Failed.</summary>
        public string Error { get; }

        public static DnsAnswer Ok(IReadOnlyList<string> values) => new DnsAnswer(DnsStatus.Ok, values, null);
        public static readonly DnsAnswer NoData = new DnsAnswer(DnsStatus.Ok, None, null);
        public static readonly DnsAnswer NameError = new DnsAnswer(DnsStatus.NameError, None, null);
        public static DnsAnswer Failed(string error) => new DnsAnswer(DnsStatus.Failed, None, error ?? "lookup failed");

        public override string ToString() =>
            Status == DnsStatus.Ok ? "Ok [" + string.Join(", ", Values) + "]" : Status + (Error == null ? "" : ": " + Error);
    }
}
