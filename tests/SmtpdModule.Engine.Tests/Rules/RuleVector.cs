using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using SmtpdModule.Engine.Tests.Fixtures;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>One conformance vector (reference §8).</summary>
    public sealed class RuleVector
    {
        public string Id;
        public string Rules;
        public string Ip, Name, Ident, Helo, From, To;
        public bool DenyOnFailure;
        public string Action, Reply, Basis, Quirk;
        public int? Line;
        public bool OursLoadError;
        public JsonElement Dns;

        public override string ToString() => Id;

        /// <summary>The vectors shipped in tests/fixtures/vectors, plus any file named by SMTPD_EXTRA_VECTORS.</summary>
        public static IEnumerable<RuleVector> All()
        {
            var files = new List<string> { RepoPaths.Fixture("vectors", "rule-vectors.json") };
            var extra = System.Environment.GetEnvironmentVariable("SMTPD_EXTRA_VECTORS");
            if (!string.IsNullOrEmpty(extra) && File.Exists(extra)) files.Add(extra);
            return files.SelectMany(Load);
        }

        static IEnumerable<RuleVector> Load(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                var client = e.GetProperty("client");
                var expect = e.GetProperty("expect");
                var v = new RuleVector
                {
                    Id = e.GetProperty("id").GetString(),
                    Rules = e.GetProperty("rules").GetString(),
                    Ip = client.GetProperty("ip").GetString(),
                    Name = Str(client, "name"),
                    Ident = Str(client, "ident"),
                    Helo = Str(client, "helo"),
                    From = e.GetProperty("from").GetString(),
                    To = e.GetProperty("to").GetString(),
                    Action = expect.GetProperty("action").GetString(),
                    Reply = Str(expect, "reply"),
                    Basis = Str(expect, "basis"),
                    Line = expect.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : (int?)null,
                    Quirk = Str(e, "quirk"),
                    Dns = e.TryGetProperty("dns", out var d) ? d.Clone() : default,
                };
                v.DenyOnFailure = e.TryGetProperty("build", out var b) && b.TryGetProperty("denyOnFailure", out var dof) && dof.ValueKind == JsonValueKind.True;
                v.OursLoadError = e.TryGetProperty("ours", out var o) && o.TryGetProperty("loadError", out var le) && le.ValueKind == JsonValueKind.True;
                yield return v;
            }
        }

        static string Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

        public FactDnsResolver Resolver()
        {
            var r = new FactDnsResolver();
            if (Dns.ValueKind != JsonValueKind.Object) return r;
            if (Dns.TryGetProperty("a", out var a))
                foreach (var p in a.EnumerateObject())
                    r.A(p.Name, p.Value.EnumerateArray().Select(x => x.GetString()).ToArray());
            if (Dns.TryGetProperty("nsmx", out var nsmx))
                foreach (var p in nsmx.EnumerateObject())
                    r.NsMx(p.Name, List(p.Value, "ns"), List(p.Value, "mx"));
            return r;
        }

        static string[] List(JsonElement e, string name) =>
            e.TryGetProperty(name, out var p) ? p.EnumerateArray().Select(x => x.GetString()).ToArray() : new string[0];

        /// <summary>
        /// Refused at load (reference §8, §9): parse failures of the original become load-time errors.
        /// Over-long and unterminated lines are the exception: we accept them (no line-length limit),
        /// so those vectors evaluate and must differ from the original's failure default.
        /// </summary>
        public bool ExpectLoadError => OursLoadError || (Basis != null && Basis.StartsWith("failure-") && Basis != "failure-line-too-long");

        /// <summary>The original's result reproduces a defect we fix: ours must differ.</summary>
        public bool ExpectDifferent => !ExpectLoadError && (Quirk != null || Basis == "failure-line-too-long");
    }
}
