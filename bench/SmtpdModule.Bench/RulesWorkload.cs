using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench
{
    /// <summary>
    /// A generated rules file that looks like a real anti-spam / anti-relay file, and the RCPT
    /// checks run against it. Everything comes from a fixed seed, so every benchmark process (and
    /// every run) sees the same file and the same inputs.
    /// </summary>
    /// <remarks>
    /// Layout: a comment, six hand-written rules of the kind every real file starts with (the
    /// classic anti-relay globs, localhost, a sender regex, an EXCEPT list), then bulk lines mixing
    /// blocked IPv4 hosts (/32), blocked IPv4 networks (/24), blocked sender domains and allowed
    /// local recipients, with a comment every 1,000 lines, and finally the catch-all
    /// <c>noto:ALL:ALL:ALL:550 relaying denied</c>. <see cref="Lines"/> counts every physical line.
    /// </remarks>
    public sealed class RulesWorkload
    {
        public const int Seed = 20_250_601;
        /// <summary>Checks prepared per workload; benchmarks rotate through them.</summary>
        public const int InputCount = 1024;
        /// <summary>
        /// The inputs repeat this pattern of kinds, so any <see cref="CycleLength"/> consecutive
        /// inputs hold the same mix: 3 decided by the header, 3 by a random bulk line (uniform
        /// depth), 2 by nothing before the final catch-all line.
        /// </summary>
        public static readonly CheckKind[] Cycle =
        {
            CheckKind.Early, CheckKind.Deep, CheckKind.NoMatch, CheckKind.Early,
            CheckKind.Deep, CheckKind.NoMatch, CheckKind.Early, CheckKind.Deep,
        };
        public const int CycleLength = 8;

        public const string LocalDomain = "example.test";

        static readonly string[] Header =
        {
            "# smtpd_check_rules: generated for benchmarking (fixed seed); anti-relay first, then the block lists",
            "noto:ALL:ALL:*%*@*:550 percent-hack relaying (%T) refused",
            "noto:ALL:ALL:*!*@*:550 bang-path relaying (%T) refused",
            "noto:ALL:ALL:*@*@*:550 source-routed address %T refused",
            "allow:127.0.0.0/8:ALL:ALL",
            // No "{5,}" here: a comma splits list tokens, regexes included (reference §1.2).
            "noto:ALL:/^[0-9][0-9][0-9][0-9][0-9]+@/:ALL:550 numeric sender %F refused",
            "noto:*.dialup.example EXCEPT ok.dialup.example:ALL:ALL:550 dial-up host %H (%I) must use its provider's relay",
        };
        const int HeaderRulesFirstLine = 2;
        const string FinalLine = "noto:ALL:ALL:ALL:550 relaying denied";

        public enum CheckKind { Early, Deep, NoMatch }
        enum BulkKind { Host32, Net24, SenderDomain, Recipient }

        /// <summary>One bulk line and the value it lists.</summary>
        readonly struct Bulk
        {
            public Bulk(int line, BulkKind kind, uint address, int number)
            {
                Line = line;
                Kind = kind;
                Address = address;
                Number = number;
            }
            public readonly int Line;
            public readonly BulkKind Kind;
            public readonly uint Address;   // Host32: the host; Net24: the network
            public readonly int Number;     // SenderDomain: spammerN.test; Recipient: userN@example.test
        }

        public int Lines { get; }
        public string Text { get; }
        public RuleInput[] Inputs { get; }
        /// <summary>For each input, the line that must decide it (the final line for no-match checks).</summary>
        public int[] ExpectedLines { get; }
        public RuleAction[] ExpectedActions { get; }

        RulesWorkload(int lines, string text, RuleInput[] inputs, int[] expectedLines, RuleAction[] expectedActions)
        {
            Lines = lines;
            Text = text;
            Inputs = inputs;
            ExpectedLines = expectedLines;
            ExpectedActions = expectedActions;
        }

        public static RulesWorkload Create(int lines)
        {
            if (lines < Header.Length + 1) throw new ArgumentOutOfRangeException(nameof(lines), "at least " + (Header.Length + 1) + " lines");
            var random = new Random(Seed);
            var text = new StringBuilder(lines * 48);
            foreach (var h in Header) text.Append(h).Append('\n');

            var bulk = new List<Bulk>();
            var usedHosts = new HashSet<uint>();
            var usedNets = new HashSet<uint>();
            int senderDomains = 0, recipients = 0;
            for (int line = Header.Length + 1; line < lines; line++)
            {
                int position = line - Header.Length - 1;
                if (position > 0 && position % 1000 == 0)
                {
                    text.Append("# block list, part ").Append(position / 1000 + 1).Append('\n');
                    continue;
                }
                int roll = random.Next(100);
                if (roll < 30)
                {
                    // A blocked host in 198.51.0.0/16.
                    uint a;
                    do a = 0xC6330000u | (uint)random.Next(1, 65535); while (!usedHosts.Add(a));
                    text.Append("noto:").Append(Dotted(a)).Append(":ALL:ALL:550 blocked %I\n");
                    bulk.Add(new Bulk(line, BulkKind.Host32, a, 0));
                }
                else if (roll < 40)
                {
                    // A blocked network in 100.64.0.0/10 (disjoint from the hosts above).
                    uint n;
                    do n = 0x64400000u | ((uint)random.Next(0, 1 << 14) << 8); while (!usedNets.Add(n));
                    text.Append("noto:").Append(Dotted(n)).Append("/24:ALL:ALL:550 network of %I blocked\n");
                    bulk.Add(new Bulk(line, BulkKind.Net24, n, 0));
                }
                else if (roll < 70)
                {
                    int n = ++senderDomains;
                    text.Append("noto:ALL:*@spammer").Append(n).Append(".test:ALL:550 mail from %F refused\n");
                    bulk.Add(new Bulk(line, BulkKind.SenderDomain, 0, n));
                }
                else
                {
                    int n = ++recipients;
                    text.Append("allow:ALL:ALL:user").Append(n).Append('@').Append(LocalDomain).Append('\n');
                    bulk.Add(new Bulk(line, BulkKind.Recipient, 0, n));
                }
            }
            text.Append(FinalLine).Append('\n');

            var inputs = new RuleInput[InputCount];
            var expectedLines = new int[InputCount];
            var expectedActions = new RuleAction[InputCount];
            for (int i = 0; i < InputCount; i++)
            {
                var kind = Cycle[i % CycleLength];
                if (kind == CheckKind.Deep && bulk.Count == 0) kind = CheckKind.NoMatch;
                switch (kind)
                {
                    case CheckKind.Early:
                        inputs[i] = EarlyInput(random, i / CycleLength, out expectedLines[i], out expectedActions[i]);
                        break;
                    case CheckKind.Deep:
                        var b = bulk[random.Next(bulk.Count)];
                        inputs[i] = DeepInput(random, b);
                        expectedLines[i] = b.Line;
                        expectedActions[i] = b.Kind == BulkKind.Recipient ? RuleAction.Allow : RuleAction.Noto;
                        break;
                    default:
                        inputs[i] = NoMatchInput(random, i);
                        expectedLines[i] = lines;
                        expectedActions[i] = RuleAction.Noto;
                        break;
                }
            }
            return new RulesWorkload(lines, text.ToString(), inputs, expectedLines, expectedActions);
        }

        /// <summary>Writes the file into a fresh temporary folder and returns its path.</summary>
        public string WriteTo(string directory)
        {
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, "smtpd_check_rules." + Lines);
            File.WriteAllText(path, Text, new UTF8Encoding(false));
            return path;
        }

        /// <summary>A folder of its own under the temporary directory.</summary>
        public static string NewTempDirectory() =>
            Path.Combine(Path.GetTempPath(), "smtpd-bench-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        static RuleInput EarlyInput(Random random, int round, out int line, out RuleAction action)
        {
            var peer = Address(0xC0000200u | (uint)random.Next(1, 255));   // 192.0.2.0/24: never listed
            switch (round % 5)
            {
                case 0:
                    line = HeaderRulesFirstLine;
                    action = RuleAction.Noto;
                    return new RuleInput(peer, "relay" + round + ".partner.test", "<news@partner.test>", "<victim%remote" + round + ".test@" + LocalDomain + ">");
                case 1:
                    line = HeaderRulesFirstLine + 1;
                    action = RuleAction.Noto;
                    return new RuleInput(peer, null, "<news@partner.test>", "<remote" + round + "!victim@" + LocalDomain + ">");
                case 2:
                    line = HeaderRulesFirstLine + 3;
                    action = RuleAction.Allow;
                    return new RuleInput(IPAddress.Loopback, "localhost", "<cron@" + LocalDomain + ">", "<someone" + round + "@elsewhere.test>");
                case 3:
                    line = HeaderRulesFirstLine + 4;
                    action = RuleAction.Noto;
                    return new RuleInput(peer, "mx.numbers.test", "<" + (1000000 + random.Next(9000000)) + "@numbers.test>", "<user1@" + LocalDomain + ">");
                default:
                    line = HeaderRulesFirstLine + 5;
                    action = RuleAction.Noto;
                    return new RuleInput(peer, "ppp-" + random.Next(10000) + ".dialup.example", "<home@isp.test>", "<user1@" + LocalDomain + ">");
            }
        }

        static RuleInput DeepInput(Random random, Bulk b)
        {
            var peer = Address(0xC0000200u | (uint)random.Next(1, 255));
            // postmaster@ is never listed, so only the targeted line can decide.
            const string unlisted = "<postmaster@" + LocalDomain + ">";
            switch (b.Kind)
            {
                case BulkKind.Host32:
                    return new RuleInput(Address(b.Address), null, "<offers@bulk.test>", unlisted);
                case BulkKind.Net24:
                    return new RuleInput(Address(b.Address | (uint)random.Next(1, 255)), "host.cable.test", "<offers@bulk.test>", unlisted);
                case BulkKind.SenderDomain:
                    return new RuleInput(peer, "mail.bulk.test", "<offers@spammer" + b.Number + ".test>", unlisted);
                default:
                    return new RuleInput(peer, "mail.partner.test", "<friend@partner.test>", "<user" + b.Number + "@" + LocalDomain + ">");
            }
        }

        static RuleInput NoMatchInput(Random random, int i)
        {
            var peer = Address(0xCB007100u | (uint)random.Next(1, 255));   // 203.0.113.0/24: never listed
            // Half are relay attempts, half unknown local users: both fall through to the final line.
            var to = (i / CycleLength) % 2 == 0 ? "<someone" + i + "@elsewhere.test>" : "<nosuchuser" + i + "@" + LocalDomain + ">";
            return new RuleInput(peer, i % 3 == 0 ? null : "mail" + i + ".partner.test", "<news@partner.test>", to);
        }

        static IPAddress Address(uint a) => new IPAddress(new[] { (byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a });

        static string Dotted(uint a) => (a >> 24) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
    }
}
