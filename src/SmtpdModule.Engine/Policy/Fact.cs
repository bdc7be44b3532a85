using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// One answer from the network or the state store that a check used, kept as data so a log can
    /// write it and a replay can hand it back unchanged: the question, the answer, its lifetime.
    /// </summary>
    public sealed class Fact
    {
        static readonly string[] NoValues = new string[0];

        public Fact(FactKind kind, string name, DnsRecordType? recordType, string status, IReadOnlyList<string> values, string error, int? timeToLive)
        {
            Kind = kind;
            Name = name;
            RecordType = recordType;
            Status = status ?? throw new ArgumentNullException(nameof(status));
            Values = values ?? NoValues;
            Error = error;
            TimeToLive = timeToLive;
        }

        public FactKind Kind { get; }
        /// <summary>The DNS name asked, or the state key; null for ident.</summary>
        public string Name { get; }
        /// <summary>The DNS record type asked; null for ident and state.</summary>
        public DnsRecordType? RecordType { get; }
        /// <summary>DNS: Ok, NameError or Failed. Ident: User, None or Failed. State: Found or Missing.</summary>
        public string Status { get; }
        /// <summary>DNS: the record data; ident: the user; state: the value.</summary>
        public IReadOnlyList<string> Values { get; }
        /// <summary>Why the question failed; null unless <see cref="Status"/> is Failed.</summary>
        public string Error { get; }
        /// <summary>Seconds the answer may be kept, as the answer said; null when unknown.</summary>
        public int? TimeToLive { get; }

        /// <summary>Whether this fact answers the same question as another (answers are not compared).</summary>
        public bool Answers(FactKind kind, string name, DnsRecordType? type) =>
            Kind == kind && RecordType == type && string.Equals(Name, name, StringComparison.OrdinalIgnoreCase);

        public static Fact FromDns(string name, DnsRecordType type, DnsAnswer answer) =>
            new Fact(FactKind.Dns, name, type, answer.Status.ToString(), answer.Values, answer.Error, answer.TimeToLive);

        /// <exception cref="ArgumentException"><see cref="Status"/> is not a <see cref="DnsStatus"/> name.</exception>
        public DnsAnswer ToDnsAnswer()
        {
            // The three names as the proxy writes them, without Enum.Parse's cost; anything else as Enum.Parse reads it.
            DnsStatus status;
            switch (Status)
            {
                case "Ok": status = DnsStatus.Ok; break;
                case "NameError": status = DnsStatus.NameError; break;
                case "Failed": status = DnsStatus.Failed; break;
                default: status = (DnsStatus)Enum.Parse(typeof(DnsStatus), Status); break;
            }
            // A plain NXDOMAIN, the most common answer, is the one shared instance.
            if (status == DnsStatus.NameError && Values.Count == 0 && TimeToLive == null) return DnsAnswer.NameError;
            return DnsAnswer.Of(status, Values, Error, TimeToLive);
        }

        public static Fact FromIdent(IdentAnswer answer) =>
            new Fact(FactKind.Ident, null, null, answer.Failed ? "Failed" : answer.User == null ? "None" : "User",
                     answer.User == null ? null : new[] { answer.User }, answer.Failed ? answer.Error : null, null);

        public IdentAnswer ToIdentAnswer() =>
            Status == "Failed" ? IdentAnswer.Failure(Error) : IdentAnswer.Of(Values.Count > 0 ? Values[0] : null);

        public static Fact FromState(string key, string value) =>
            new Fact(FactKind.State, key, null, value == null ? "Missing" : "Found", value == null ? null : new[] { value }, null, null);

        public static Fact FromCount(string key, long value) =>
            new Fact(FactKind.Count, key, null, "Found", new[] { value.ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, null);

        public long ToCount() =>
            Values.Count > 0 && long.TryParse(Values[0], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

        public string ToStateValue() => Status == "Found" && Values.Count > 0 ? Values[0] : null;

        public override string ToString() =>
            Kind + (Name != null ? " " + Name : "") + (RecordType != null ? " " + RecordType : "") + ": " + Status
            + (Values.Count > 0 ? " [" + string.Join(", ", Values) + "]" : "") + (Error != null ? " (" + Error + ")" : "")
            + (TimeToLive != null ? " ttl " + TimeToLive : "");
    }
}
