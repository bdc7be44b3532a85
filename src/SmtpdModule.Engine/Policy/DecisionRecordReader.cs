using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Reads decision records back from the proxy's JSON Lines log: the inverse of
    /// <see cref="DecisionRecord.ToData"/>, so a replay decides again on exactly the facts the
    /// proxy used. Other events are passed over; a line that is not JSON, or a record written by a
    /// newer schema, is refused with a <see cref="FormatException"/> that names the line.
    /// </summary>
    public static class DecisionRecordReader
    {
        /// <summary>The log's name for an event that carries a decision record.</summary>
        public const string EventName = "decision";

        /// <summary>Every decision record in the log at <paramref name="path"/>, in the order written
        /// (read by <see cref="DecisionLogReader"/>; a file may be appended to while it is read).</summary>
        /// <exception cref="FormatException">A line is not JSON, not a record this module reads, or longer
        /// than <see cref="DecisionLogReader.DefaultMaxLineLength"/>; the message starts with path:line.</exception>
        public static IEnumerable<DecisionRecord> ReadFile(string path)
        {
            using (var reader = DecisionLogReader.Open(path))
                while (reader.Read(out var entry))
                {
                    if (entry.Error != null) throw new FormatException(path + ":" + entry.LineNumber + ": " + entry.Error.Message, entry.Error);
                    yield return entry.Record;
                }
        }

        static readonly Encoding StrictUtf8 = new UTF8Encoding(false, true);
        [ThreadStatic] static DecisionLineParser t_parser;

        /// <summary>The record one log line holds; null when the line is another kind of event.</summary>
        /// <exception cref="FormatException">The line is not JSON, or not a record this module reads.</exception>
        public static DecisionRecord FromLine(string line)
        {
            if (line == null) throw new ArgumentNullException(nameof(line));
            byte[] bytes;
            // A lone surrogate has no UTF-8 form: such a string is read as it is, by the reference.
            try { bytes = StrictUtf8.GetBytes(line); }
            catch (EncoderFallbackException) { return FromJsonText(line); }
            return (t_parser ?? (t_parser = new DecisionLineParser())).Parse(bytes, 0, bytes.Length);
        }

        /// <summary>The reference reading of one line, through <see cref="JsonReader"/> and
        /// <see cref="FromData"/>: what the fast path (<see cref="DecisionLineParser"/>) must equal,
        /// and what decides every line it is not sure of.</summary>
        internal static DecisionRecord FromJsonText(string line)
        {
            if (!(JsonReader.Parse(line) is Dictionary<string, object> data)) throw new FormatException("A log line is a JSON object.");
            return Text(data, "event") == EventName ? FromData(data) : null;
        }

        /// <summary>The record in one parsed log event.</summary>
        public static DecisionRecord FromData(IDictionary<string, object> data)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            var version = (int)(Number(data, "v") ?? 0);
            if (version < 1 || version > DecisionRecord.SchemaVersion)
                throw new FormatException("Decision record version " + version + " is not one this module reads (1 to " + DecisionRecord.SchemaVersion + ").");
            var time = Text(data, "time");
            return new DecisionRecord
            {
                Version = version,
                Time = time == null ? default : DateTimeOffset.Parse(time, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                Session = Text(data, "session"),
                Stage = Enum<PolicyStage>(data, "stage"),
                Kind = Enum<VerdictKind>(data, "verdict"),
                Replies = Texts(data, "replies"),
                Reason = Text(data, "reason"),
                DelaySeconds = Number(data, "delay") ?? 0,
                ClientAddress = Text(data, "clientAddress"),
                ClientName = Text(data, "name"),
                ReverseLookupNote = Text(data, "reverse"),
                ReverseLookupFailed = Flag(data, "reverseFailed"),
                Helo = Text(data, "helo"),
                Esmtp = Flag(data, "esmtp"),
                Tls = Flag(data, "tls"),
                From = Text(data, "from"),
                SmtpUtf8 = Flag(data, "smtputf8"),
                To = Text(data, "to"),
                Size = (long?)Number(data, "size"),
                Downstream = Downstream(data),
                Action = Text(data, "action"),
                Basis = Text(data, "basis"),
                Line = (int?)Number(data, "line"),
                Rule = Text(data, "rule"),
                Ident = Text(data, "ident"),
                Failure = Text(data, "failure"),
                Score = (int?)Number(data, "score"),
                ScoreDetail = Text(data, "scoreDetail"),
                RulesPath = Text(data, "rules"),
                RulesSha256 = Text(data, "rulesSha256"),
                Facts = Facts(data),
                Results = Results(data),
                FailedTests = Texts(data, "failed"),
            };
        }

        static IReadOnlyList<Fact> Facts(IDictionary<string, object> data)
        {
            var list = new List<Fact>();
            if (!data.TryGetValue("facts", out var raw) || raw == null) return list;
            if (!(raw is List<object> items)) throw new FormatException("'facts' is a list.");
            foreach (var item in items)
            {
                if (!(item is Dictionary<string, object> f)) throw new FormatException("Each fact is an object.");
                var type = Text(f, "type");
                list.Add(new Fact(
                    Enum<FactKind>(f, "kind"),
                    Text(f, "name"),
                    type == null ? (DnsRecordType?)null : Parse<DnsRecordType>(type, "type"),
                    Text(f, "status") ?? throw new FormatException("A fact has no status."),
                    Texts(f, "values"),
                    Text(f, "error"),
                    (int?)Number(f, "ttl")));
            }
            return list;
        }

        /// <summary>A record without the field (older, or nothing known) decided with the proxy's own limits.</summary>
        static DownstreamLimits Downstream(IDictionary<string, object> data)
        {
            if (!data.TryGetValue("downstream", out var raw) || raw == null) return DownstreamLimits.Unknown;
            if (!(raw is Dictionary<string, object> d)) throw new FormatException("'downstream' is an object.");
            var size = Number(d, "size") ?? 0;
            if (size < 0 || size != Math.Floor(size)) throw new FormatException("'downstream.size' is a whole number of bytes.");
            var learned = Text(d, "learned");
            return new DownstreamLimits((long)size, Flag(d, "smtputf8"), Flag(d, "8bitmime"),
                learned == null ? default : DateTimeOffset.Parse(learned, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                Text(d, "from"));
        }

        static IReadOnlyDictionary<string, string> Results(IDictionary<string, object> data)
        {
            var results = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (!data.TryGetValue("results", out var raw) || raw == null) return results;
            if (!(raw is Dictionary<string, object> map)) throw new FormatException("'results' is an object.");
            foreach (var kv in map) results[kv.Key] = kv.Value as string;
            return results;
        }

        static string Text(IDictionary<string, object> data, string key)
        {
            if (!data.TryGetValue(key, out var v) || v == null) return null;
            return v as string ?? throw new FormatException("'" + key + "' is a string.");
        }

        static IReadOnlyList<string> Texts(IDictionary<string, object> data, string key)
        {
            if (!data.TryGetValue(key, out var v) || v == null) return new string[0];
            if (!(v is List<object> items)) throw new FormatException("'" + key + "' is a list of strings.");
            var result = new string[items.Count];
            for (int i = 0; i < items.Count; i++)
                result[i] = items[i] as string ?? throw new FormatException("'" + key + "' is a list of strings.");
            return result;
        }

        static double? Number(IDictionary<string, object> data, string key)
        {
            if (!data.TryGetValue(key, out var v) || v == null) return null;
            if (v is long l) return l;
            if (v is double d) return d;
            throw new FormatException("'" + key + "' is a number.");
        }

        static bool Flag(IDictionary<string, object> data, string key) =>
            data.TryGetValue(key, out var v) && v is bool b ? b : false;

        static T Enum<T>(IDictionary<string, object> data, string key) where T : struct =>
            Parse<T>(Text(data, key) ?? throw new FormatException("'" + key + "' is missing."), key);

        internal static T Parse<T>(string text, string key) where T : struct =>
            System.Enum.TryParse<T>(text, false, out var value) && System.Enum.IsDefined(typeof(T), value)
                ? value
                : throw new FormatException("'" + key + "' is '" + text + "', not one of " + string.Join(", ", System.Enum.GetNames(typeof(T))) + ".");
    }
}
