using System;
using System.Collections.Generic;
using System.Text;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Reads one log line (UTF-8 bytes) into a <see cref="DecisionRecord"/> straight from the bytes:
    /// the fast path of <see cref="DecisionRecordReader"/>, which stays the reference. A line the
    /// fast path is not sure of (any error, a repeated field, an escaped name, a value of an
    /// unexpected type) goes to the reference reader, so results and error messages are the
    /// reference's; DecisionLineParserTests holds the two equal. Other events are read past without
    /// decoding. Repeating values come from a per-parser string cache. Not thread-safe: one per reader.
    /// </summary>
    internal sealed class DecisionLineParser
    {
        // The top-level fields in the order DecisionRecord.ToData writes them (after the event's own),
        // so the next name is usually the one expected.
        enum Field
        {
            Time, Event, Session, Client, Message, V, Stage, Verdict, Replies, Reply, Reason, Delay, ClientAddress, Name, Reverse,
            ReverseFailed, Helo, Esmtp, Tls, From, SmtpUtf8, To, Action, Basis, Line, Rule, Ident, Failure, Rules, RulesSha256,
            Size, Downstream, Failed, Score, ScoreDetail, Facts, Results,
        }

        static readonly byte[][] Fields = Names(
            "time", "event", "session", "client", "message", "v", "stage", "verdict", "replies", "reply", "reason", "delay", "clientAddress",
            "name", "reverse", "reverseFailed", "helo", "esmtp", "tls", "from", "smtputf8", "to", "action", "basis", "line", "rule", "ident",
            "failure", "rules", "rulesSha256", "size", "downstream", "failed", "score", "scoreDetail", "facts", "results");

        static readonly byte[][] QuotedFields = Quoted(Fields);

        enum FactField { Kind, Name, Type, Status, Values, Error, Ttl }
        static readonly byte[][] FactFields = Names("kind", "name", "type", "status", "values", "error", "ttl");

        static readonly byte[][] QuotedFactFields = Quoted(FactFields);

        enum DownstreamField { Size, SmtpUtf8, EightBitMime, Learned, From }
        static readonly byte[][] DownstreamFields = Names("size", "smtputf8", "8bitmime", "learned", "from");

        static readonly byte[][] QuotedDownstreamFields = Quoted(DownstreamFields);

        static readonly string[] NoTexts = new string[0];

        readonly Utf8JsonCursor _json = new Utf8JsonCursor(new Utf8StringCache());
        readonly List<string> _texts = new List<string>();
        readonly EnumCache<PolicyStage> _stages = new EnumCache<PolicyStage>("stage");
        readonly EnumCache<VerdictKind> _verdicts = new EnumCache<VerdictKind>("verdict");
        readonly EnumCache<FactKind> _factKinds = new EnumCache<FactKind>("kind");
        readonly EnumCache<DnsRecordType> _recordTypes = new EnumCache<DnsRecordType>("type");

        /// <summary>Lines handed to the reference reader: none for a log the proxy wrote (the tests hold it so).</summary>
        public long Declines { get; private set; }

        /// <summary>The record one line holds; null when it holds another event.</summary>
        /// <exception cref="FormatException">The line is not JSON or not a record this module reads (the reference reader's message).</exception>
        public DecisionRecord Parse(byte[] bytes, int start, int length)
        {
            try { return Fast(bytes, start, length); }
            catch (Exception ex) when (ex is Utf8JsonCursor.Declined || ex is FormatException || ex is ArgumentException || ex is OverflowException) { Declines++; }
            return DecisionRecordReader.FromJsonText(Encoding.UTF8.GetString(bytes, start, length));
        }

        DecisionRecord Fast(byte[] bytes, int start, int length)
        {
            var json = _json;
            json.Reset(bytes, start, length);
            if (!json.BeginObject()) return json.AtEnd ? null : throw Utf8JsonCursor.Decline();
            var r = new DecisionRecord();
            double? version = null;
            bool? decision = null;   // not yet named
            long seen = 0;
            int expected = 0;
            do
            {
                int f = Member(Fields, QuotedFields, ref expected);
                if (f < 0 || (decision == false && f != (int)Field.Event)) { json.Skip(1); continue; }   // another event: only checked
                if ((seen & (1L << f)) != 0) throw Utf8JsonCursor.Decline();   // the reference keeps the last; rare enough to leave to it
                seen |= 1L << f;
                switch ((Field)f)
                {
                    case Field.Event: decision = json.StringOrNull(true) == DecisionRecordReader.EventName; break;
                    case Field.Time: r.Time = json.TimeOrDefault(); break;
                    case Field.Session: r.Session = json.StringOrNull(false); break;
                    case Field.V: version = json.NumberOrNull(); break;
                    case Field.Stage: r.Stage = _stages.Get(json.StringOrNull(true)); break;
                    case Field.Verdict: r.Kind = _verdicts.Get(json.StringOrNull(true)); break;
                    case Field.Replies: r.Replies = Texts(); break;
                    case Field.Reason: r.Reason = json.StringOrNull(true); break;
                    case Field.Delay: r.DelaySeconds = json.NumberOrNull() ?? 0; break;
                    case Field.ClientAddress: r.ClientAddress = json.StringOrNull(true); break;
                    case Field.Name: r.ClientName = json.StringOrNull(true); break;
                    case Field.Reverse: r.ReverseLookupNote = json.StringOrNull(true); break;
                    case Field.ReverseFailed: r.ReverseLookupFailed = json.Flag(1); break;
                    case Field.Helo: r.Helo = json.StringOrNull(true); break;
                    case Field.Esmtp: r.Esmtp = json.Flag(1); break;
                    case Field.Tls: r.Tls = json.Flag(1); break;
                    case Field.From: r.From = json.StringOrNull(false); break;
                    case Field.SmtpUtf8: r.SmtpUtf8 = json.Flag(1); break;
                    case Field.To: r.To = json.StringOrNull(false); break;
                    case Field.Action: r.Action = json.StringOrNull(true); break;
                    case Field.Basis: r.Basis = json.StringOrNull(true); break;
                    case Field.Line: r.Line = (int?)json.NumberOrNull(); break;
                    case Field.Rule: r.Rule = json.StringOrNull(true); break;
                    case Field.Ident: r.Ident = json.StringOrNull(true); break;
                    case Field.Failure: r.Failure = json.StringOrNull(true); break;
                    case Field.Rules: r.RulesPath = json.StringOrNull(true); break;
                    case Field.RulesSha256: r.RulesSha256 = json.StringOrNull(true); break;
                    case Field.Size: r.Size = (long?)json.NumberOrNull(); break;
                    case Field.Downstream: r.Downstream = Downstream(); break;
                    case Field.Failed: r.FailedTests = Texts(); break;
                    case Field.Score: r.Score = (int?)json.NumberOrNull(); break;
                    case Field.ScoreDetail: r.ScoreDetail = json.StringOrNull(true); break;
                    case Field.Facts: r.Facts = Facts(); break;
                    case Field.Results: r.Results = Results(); break;
                    default: json.Skip(1); break;   // written for people (client, message, reply), not read back
                }
            } while (json.NextMember());
            if (!json.AtEnd) throw Utf8JsonCursor.Decline();
            if (decision != true) return null;
            // What the reference reader refuses, or fills in itself, it decides.
            var v = (int)(version ?? 0);
            if (v < 1 || v > DecisionRecord.SchemaVersion) throw Utf8JsonCursor.Decline();
            if ((seen & (1L << (int)Field.Stage | 1L << (int)Field.Verdict)) != (1L << (int)Field.Stage | 1L << (int)Field.Verdict))
                throw Utf8JsonCursor.Decline();
            r.Version = v;
            if ((seen & 1L << (int)Field.Replies) == 0) r.Replies = NoTexts;
            if ((seen & 1L << (int)Field.Failed) == 0) r.FailedTests = NoTexts;
            if ((seen & 1L << (int)Field.Facts) == 0) r.Facts = new List<Fact>();
            if ((seen & 1L << (int)Field.Results) == 0) r.Results = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            return r;
        }

        /// <summary>A list of strings; null is empty, and a null item is left to the reference (which refuses it).</summary>
        IReadOnlyList<string> Texts()
        {
            var json = _json;
            if (json.Peek() == 'n') { json.Skip(1); return NoTexts; }
            if (!json.BeginArray()) return NoTexts;
            _texts.Clear();
            do _texts.Add(json.StringOrNull(true) ?? throw Utf8JsonCursor.Decline());
            while (json.NextItem());
            return _texts.ToArray();
        }

        List<Fact> Facts()
        {
            var json = _json;
            var list = new List<Fact>();
            if (json.Peek() == 'n') { json.Skip(1); return list; }
            if (!json.BeginArray()) return list;
            do list.Add(Fact());
            while (json.NextItem());
            return list;
        }

        Fact Fact()
        {
            var json = _json;
            if (json.Peek() != '{') throw Utf8JsonCursor.Decline();
            FactKind? kind = null;
            string name = null, type = null, status = null, error = null;
            IReadOnlyList<string> values = null;
            double? ttl = null;
            int seen = 0, expected = 0;
            if (json.BeginObject())
                do
                {
                    int f = Member(FactFields, QuotedFactFields, ref expected);
                    if (f < 0) { json.Skip(3); continue; }
                    if ((seen & (1 << f)) != 0) throw Utf8JsonCursor.Decline();
                    seen |= 1 << f;
                    switch ((FactField)f)
                    {
                        case FactField.Kind: kind = _factKinds.Get(json.StringOrNull(true)); break;
                        case FactField.Name: name = json.StringOrNull(true); break;
                        case FactField.Type: type = json.StringOrNull(true); break;
                        case FactField.Status: status = json.StringOrNull(true); break;
                        case FactField.Values: values = Texts(); break;
                        case FactField.Error: error = json.StringOrNull(true); break;
                        case FactField.Ttl: ttl = json.NumberOrNull(); break;
                    }
                } while (json.NextMember());
            if (kind == null || status == null) throw Utf8JsonCursor.Decline();
            return new Fact(kind.Value, name, type == null ? (DnsRecordType?)null : _recordTypes.Get(type), status, values ?? NoTexts, error, (int?)ttl);
        }

        DownstreamLimits Downstream()
        {
            var json = _json;
            var c = json.Peek();
            if (c == 'n') { json.Skip(1); return DownstreamLimits.Unknown; }
            if (c != '{') throw Utf8JsonCursor.Decline();
            double? size = null;
            bool smtpUtf8 = false, eightBitMime = false;
            DateTimeOffset learned = default;
            string from = null;
            int seen = 0, expected = 0;
            if (json.BeginObject())
                do
                {
                    int f = Member(DownstreamFields, QuotedDownstreamFields, ref expected);
                    if (f < 0) { json.Skip(2); continue; }
                    if ((seen & (1 << f)) != 0) throw Utf8JsonCursor.Decline();
                    seen |= 1 << f;
                    switch ((DownstreamField)f)
                    {
                        case DownstreamField.Size: size = json.NumberOrNull(); break;
                        case DownstreamField.SmtpUtf8: smtpUtf8 = json.Flag(2); break;
                        case DownstreamField.EightBitMime: eightBitMime = json.Flag(2); break;
                        case DownstreamField.Learned: learned = json.TimeOrDefault(); break;
                        case DownstreamField.From: from = json.StringOrNull(true); break;
                    }
                } while (json.NextMember());
            var bytes = size ?? 0;
            if (bytes < 0 || bytes != Math.Floor(bytes)) throw Utf8JsonCursor.Decline();
            return new DownstreamLimits((long)bytes, smtpUtf8, eightBitMime, learned, from);
        }

        Dictionary<string, string> Results()
        {
            var json = _json;
            var results = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var c = json.Peek();
            if (c == 'n') { json.Skip(1); return results; }
            if (c != '{') throw Utf8JsonCursor.Decline();
            if (!json.BeginObject()) return results;
            do
            {
                var key = json.DataName();
                // Names equal but for case: the reference's last-wins order decides.
                if (results.ContainsKey(key)) throw Utf8JsonCursor.Decline();
                results.Add(key, json.StringOrNull(true));
            } while (json.NextMember());
            return results;
        }

        /// <summary>The next member's name as an index into <paramref name="names"/>; -1 for a name not there.</summary>
        int Member(byte[][] names, byte[][] quoted, ref int expected)
        {
            if (expected < names.Length && _json.TryName(quoted[expected])) return expected++;
            int length = _json.Name(out int start);
            for (int i = 0; i < names.Length; i++)
                if (_json.NameIs(start, length, names[i]))
                {
                    expected = i + 1;
                    return i;
                }
            return -1;
        }

        static byte[][] Names(params string[] names)
        {
            var result = new byte[names.Length][];
            for (int i = 0; i < names.Length; i++) result[i] = Encoding.ASCII.GetBytes(names[i]);
            return result;
        }

        /// <summary>Each name as written: in quotes, with its ':'.</summary>
        static byte[][] Quoted(byte[][] names)
        {
            var result = new byte[names.Length][];
            for (int i = 0; i < names.Length; i++) result[i] = Encoding.ASCII.GetBytes("\"" + Encoding.ASCII.GetString(names[i]) + "\":");
            return result;
        }

        /// <summary>Enum values by the (usually cached, so identical) strings that name them, parsed as the reference parses them.</summary>
        sealed class EnumCache<T> where T : struct
        {
            readonly string _field;
            readonly string[] _names = new string[16];
            readonly T[] _values = new T[16];
            int _count;

            public EnumCache(string field) { _field = field; }

            public T Get(string text)
            {
                if (text == null) throw Utf8JsonCursor.Decline();
                for (int i = 0; i < _count; i++)
                    if (string.Equals(_names[i], text)) return _values[i];
                var value = DecisionRecordReader.Parse<T>(text, _field);
                if (_count < _names.Length)
                {
                    _names[_count] = text;
                    _values[_count++] = value;
                }
                return value;
            }
        }
    }
}
