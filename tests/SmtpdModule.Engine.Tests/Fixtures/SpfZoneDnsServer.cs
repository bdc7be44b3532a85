using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A UDP DNS server on 127.0.0.1 that answers from one scenario's zone data of the openspf RFC 7208
    /// suite, as the suite's README says its drivers read it: SPF records also as TXT unless the name
    /// has TXT entries of its own (<c>TXT: NONE</c>: none at all); a bare TIMEOUT swallows questions
    /// for types not seen before it; names outside the data are NXDOMAIN, except <c>error.*</c>, which
    /// never answer; CNAMEs are followed as a recursive server would (a loop is SERVFAIL).
    /// </summary>
    /// <remarks>Written here rather than served by knotd: the scenarios reuse names with different
    /// data, and hold names (spaces, ':', '/', '%'), a null MX and CNAME loops that a zone file and
    /// knotd's semantic checks make awkward, while a question that must never be answered needs a
    /// server that can stay silent anyway.</remarks>
    public sealed class SpfZoneDnsServer : FakeDnsServer
    {
        public const ushort TypeA = 1, TypeCname = 5, TypePtr = 12, TypeMx = 15, TypeTxt = 16, TypeAaaa = 28, TypeSpf = 99;
        const ushort TypeTimeout = 0;

        readonly Dictionary<string, List<(ushort Type, byte[] Data)>> _zone;

        SpfZoneDnsServer(Socket udp, Dictionary<string, List<(ushort, byte[])>> zone) : base(udp)
        {
            _zone = zone;
        }

        /// <summary>Serves <paramref name="zone"/>: per name (any case), its entries in order; an entry is
        /// (type, value) with value a string, a string list (TXT/SPF character-strings) or
        /// (preference, host) for MX; type "TIMEOUT" with a null value is the suite's bare TIMEOUT.</summary>
        public static SpfZoneDnsServer Start(IEnumerable<(string Name, string Type, object Value)> zone)
        {
            var built = new Dictionary<string, List<(ushort, byte[])>>(StringComparer.Ordinal);
            var explicitTxt = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<(string Name, string Type, object Value)>();
            foreach (var e in zone)
            {
                var name = Key(e.Name);
                entries.Add((name, e.Type.ToUpperInvariant(), e.Value));
                if (e.Type.Equals("TXT", StringComparison.OrdinalIgnoreCase)) explicitTxt.Add(name);
            }
            foreach (var (name, type, value) in entries)
            {
                if (!built.TryGetValue(name, out var list)) built[name] = list = new List<(ushort, byte[])>();
                switch (type)
                {
                    case "TIMEOUT": list.Add((TypeTimeout, null)); break;
                    case "A": list.Add((TypeA, IPAddress.Parse((string)value).GetAddressBytes())); break;
                    case "AAAA": list.Add((TypeAaaa, IPAddress.Parse((string)value).GetAddressBytes())); break;
                    case "PTR": list.Add((TypePtr, EncodeName((string)value))); break;
                    case "CNAME": list.Add((TypeCname, EncodeName((string)value))); break;
                    case "MX":
                        var (preference, host) = ((int, string))value;
                        var mx = new List<byte> { (byte)(preference >> 8), (byte)preference };
                        mx.AddRange(EncodeName(host));
                        list.Add((TypeMx, mx.ToArray()));
                        break;
                    case "TXT":
                        // "NONE" only marks that the name has no TXT record.
                        if (!(value is string none && none == "NONE")) list.Add((TypeTxt, EncodeText(value)));
                        break;
                    case "SPF":
                        list.Add((TypeSpf, EncodeText(value)));
                        if (!explicitTxt.Contains(name)) list.Add((TypeTxt, EncodeText(value)));
                        break;
                    default: throw new ArgumentException("unknown zone data type " + type);
                }
            }
            var server = new SpfZoneDnsServer(BindUdp(), built);
            server.Begin();
            return server;
        }

        static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

        protected override byte[] Reply(byte[] query, int length)
        {
            if (length < 17 || (query[2] & 0x80) != 0) return null;
            var labels = new List<string>();
            var i = 12;
            while (i < length && query[i] != 0)
            {
                int len = query[i];
                if ((len & 0xC0) != 0 || i + 1 + len > length) return null;
                labels.Add(Encoding.Latin1.GetString(query, i + 1, len));
                i += 1 + len;
            }
            if (i + 5 > length) return null;
            var questionEnd = i + 5;
            var qtype = (ushort)((query[i + 1] << 8) | query[i + 2]);
            var name = string.Join(".", labels).ToLowerInvariant();

            var answers = new List<byte[]>();
            var rcode = Resolve(name, qtype, answers, 0);
            if (rcode < 0) return null;   // the question must time out

            var reply = new List<byte>();
            reply.AddRange(new[] { query[0], query[1], (byte)(0x84 | (query[2] & 0x01)), (byte)(0x80 | rcode), (byte)0, (byte)1 });
            reply.Add((byte)(answers.Count >> 8)); reply.Add((byte)answers.Count);
            reply.AddRange(new byte[4]);
            for (var q = 12; q < questionEnd; q++) reply.Add(query[q]);
            foreach (var a in answers) reply.AddRange(a);
            return reply.ToArray();
        }

        /// <summary>Adds the answer records for (name, type); returns the RCODE, or -1 for no answer at all.</summary>
        int Resolve(string name, ushort qtype, List<byte[]> answers, int depth)
        {
            if (!_zone.TryGetValue(name, out var records))
                return name.StartsWith("error.", StringComparison.Ordinal) ? -1 : 3;
            var seen = new HashSet<ushort>();
            foreach (var (type, data) in records)
            {
                if (type == TypeTimeout)
                {
                    if (!seen.Contains(qtype)) return -1;
                    continue;
                }
                seen.Add(type);
                if (type == TypeCname && qtype != TypeCname)
                {
                    if (depth > 8) return 2;   // a loop: SERVFAIL, as a recursive resolver gives
                    answers.Add(Record(name, TypeCname, data));
                    return Resolve(DecodeName(data), qtype, answers, depth + 1);
                }
                if (type == qtype) answers.Add(Record(name, type, data));
            }
            return 0;
        }

        static byte[] Record(string name, ushort type, byte[] data)
        {
            var r = new List<byte>(EncodeName(name));
            r.Add((byte)(type >> 8)); r.Add((byte)type);
            r.Add(0); r.Add(1);                      // IN
            r.AddRange(new byte[] { 0, 0, 0, 60 });  // TTL 60
            r.Add((byte)(data.Length >> 8)); r.Add((byte)data.Length);
            r.AddRange(data);
            return r.ToArray();
        }

        // Names and texts are bytes: the suite's "\xEF" is the byte 0xEF, so chars up to U+00FF map one to one.
        static byte[] EncodeName(string name)
        {
            var bytes = new List<byte>();
            var trimmed = name.TrimEnd('.');
            if (trimmed.Length > 0)
                foreach (var label in trimmed.Split('.'))
                {
                    var b = Encoding.Latin1.GetBytes(label);
                    bytes.Add((byte)b.Length);
                    bytes.AddRange(b);
                }
            bytes.Add(0);
            return bytes.ToArray();
        }

        static string DecodeName(byte[] data)
        {
            var labels = new List<string>();
            for (var i = 0; data[i] != 0; i += 1 + data[i])
                labels.Add(Encoding.Latin1.GetString(data, i + 1, data[i]));
            return string.Join(".", labels).ToLowerInvariant();
        }

        static byte[] EncodeText(object value)
        {
            var strings = value is string s ? new List<string> { s } : new List<string>((IEnumerable<string>)value);
            if (strings.Count == 0) strings.Add("");
            var bytes = new List<byte>();
            foreach (var text in strings)
            {
                var b = Encoding.Latin1.GetBytes(text);
                for (var off = 0; off == 0 || off < b.Length; off += 255)
                {
                    var n = Math.Min(255, b.Length - off);
                    bytes.Add((byte)n);
                    for (var k = 0; k < n; k++) bytes.Add(b[off + k]);
                }
            }
            return bytes.ToArray();
        }
    }
}
