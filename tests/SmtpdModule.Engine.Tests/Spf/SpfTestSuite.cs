using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>One case of the openspf RFC 7208 suite.</summary>
    public sealed class SpfSuiteCase
    {
        public string Id { get; set; }
        public int Scenario { get; set; }
        public string Helo { get; set; }
        public string Host { get; set; }
        public string MailFrom { get; set; }
        public string[] Results { get; set; }
        public string Explanation { get; set; }
    }

    /// <summary>The suite as read from the shared reference (YAML, one document per scenario).</summary>
    public sealed class SpfTestSuite
    {
        public List<SpfSuiteCase> Cases { get; } = new List<SpfSuiteCase>();
        public List<List<(string Name, string Type, object Value)>> Zones { get; } = new List<List<(string, string, object)>>();

        static SpfTestSuite _loaded;

        public static SpfTestSuite Load()
        {
            if (_loaded != null) return _loaded;
            var suite = new SpfTestSuite();
            var stream = new YamlStream();
            using (var reader = new StreamReader(FindSuite()))
                stream.Load(reader);
            foreach (var document in stream.Documents)
            {
                var root = (YamlMappingNode)document.RootNode;
                var scenario = suite.Zones.Count;
                var description = Text(root, "description");
                foreach (var test in (YamlMappingNode)root.Children[new YamlScalarNode("tests")])
                {
                    var t = (YamlMappingNode)test.Value;
                    var result = t.Children[new YamlScalarNode("result")];
                    suite.Cases.Add(new SpfSuiteCase
                    {
                        Id = description + ": " + ((YamlScalarNode)test.Key).Value,
                        Scenario = scenario,
                        Helo = Text(t, "helo"),
                        Host = Text(t, "host"),
                        MailFrom = Text(t, "mailfrom") ?? "",
                        Results = result is YamlSequenceNode seq ? seq.Select(n => ((YamlScalarNode)n).Value).ToArray() : new[] { ((YamlScalarNode)result).Value },
                        Explanation = Text(t, "explanation"),
                    });
                }
                var zone = new List<(string, string, object)>();
                foreach (var entry in (YamlMappingNode)root.Children[new YamlScalarNode("zonedata")])
                {
                    var name = ((YamlScalarNode)entry.Key).Value;
                    foreach (var record in (YamlSequenceNode)entry.Value)
                    {
                        if (record is YamlScalarNode bare) { zone.Add((name, bare.Value, null)); continue; }
                        foreach (var kv in (YamlMappingNode)record)
                        {
                            var type = ((YamlScalarNode)kv.Key).Value;
                            object value;
                            if (type == "MX")
                            {
                                var mx = (YamlSequenceNode)kv.Value;
                                value = (int.Parse(((YamlScalarNode)mx.Children[0]).Value, CultureInfo.InvariantCulture), ((YamlScalarNode)mx.Children[1]).Value);
                            }
                            else if (kv.Value is YamlSequenceNode strings)
                                value = strings.Select(n => ((YamlScalarNode)n).Value).ToList();
                            else
                                value = ((YamlScalarNode)kv.Value).Value;
                            zone.Add((name, type, value));
                        }
                    }
                }
                suite.Zones.Add(zone);
            }
            return _loaded = suite;
        }

        static string Text(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

        /// <summary>The suite kept in tests/fixtures/spf, or the copy SMTPD_SPF_SUITE names.</summary>
        static string FindSuite()
        {
            var configured = Environment.GetEnvironmentVariable("SMTPD_SPF_SUITE");
            if (!string.IsNullOrEmpty(configured)) return configured;
            var kept = RepoPaths.Fixture("spf", "rfc7208-tests.yml");
            if (File.Exists(kept)) return kept;
            throw new FileNotFoundException(kept + " is missing; set SMTPD_SPF_SUITE to the suite's path.");
        }
    }
}
