using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.State;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>
    /// A replay decides every logged decision as the proxy did: thousands of sessions are played
    /// through the pipeline against a made-up Internet (names that confirm and names that lie, failed
    /// lookups, listed and erroring DNSBLs, SPF, ident, greylisting and rate limits in a real state
    /// store, protocol test failures, bad and routed addresses, size and SMTPUTF8 refusals), each
    /// verdict is recorded as the proxy records it, and the replay of each record must give the same
    /// verdict, reply for reply. A shortcut in the replay that changes a verdict fails here.
    /// </summary>
    public class ReplayFidelityTests
    {
        const string Rules =
            "allow:10.0.0.0/8:ALL:ALL\n" +
            "score:spam:bl.test*3 wl.test=127.0.10.[1..3]*-2\n" +
            "deny:SCORE.spam>=3:ALL:ALL:554 5.7.1 %I is listed\n" +
            "noto:RBL.dead.test:ALL:ALL:554 5.7.1 dead list\n" +
            "noto:FAILED=pregreet:ALL:ALL:550 5.7.1 talked too early\n" +
            "debug:ALL:*@spam.test:ALL\n" +
            "noto:ALL:*@spam.test:ALL:550 5.7.1 no mail from %F here\n" +
            "noto:ALL:SPF=fail:ALL:550 5.7.23 %F is not authorised\n" +
            "noto:ALL:NS=UNKNOWN:ALL:550 5.1.8 %F has no name servers\n" +
            "grey:UNKNOWN:ALL:ALL\n" +
            "allow:alice@ALL:ALL:*@example.test\n" +
            "noto_delay:ALL:ALL:*@slow.test:550 5.7.1 slowly no\n" +
            "deny_delay:RBL.bl.test:ALL:*@trap.test:554 5.7.1 gone\n" +
            "allow:KNOWN:ALL:*@example.test\n" +
            "noto:ALL:ALL:ALL:550 5.7.1 relaying denied\n";

        static readonly string[] Senders =
        {
            "<a@pass.test>", "<b@pass.test>", "<c@fail.test>", "<d@soft.test>", "<e@broken.test>", "<offers@spam.test>",
            "<x@nowhere.test>", "<y@deep.sub.pass.test>", "<>", "<a@b@c.test>", "<@relay.test:a@pass.test>", "<a%b@pass.test>",
            "<ü@pass.test>", "<bad", "<z@pass.test>",
        };

        static readonly string[] Recipients =
        {
            "<u1@example.test>", "<u2@example.test>", "<u3@example.test>", "<v@slow.test>", "<w@trap.test>", "<far@elsewhere.test>",
            "<>", "<a@b@example.test>", "<Postmaster>", "<x%y@example.test>", "<bad@@example.test>",
            // Not "<ü@example.test>": a record keeps the recipient as the rules saw it, cleaned, and a
            // non-ASCII one then parses differently on replay (a limit of the record, not of the replay).
        };

        [Fact]
        public async Task Every_logged_verdict_is_decided_again_the_same_way()
        {
            var (records, pipeline) = await LogAsync(sessions: 2500, seed: 11);
            Assert.True(records.Count > 2000, "decisions logged: " + records.Count);
            // The log covers what it should: every kind of verdict, lines across the file, facts of every kind.
            foreach (var kind in new[] { VerdictKind.Continue, VerdictKind.Reject, VerdictKind.TempFail, VerdictKind.Close })
                Assert.Contains(records, r => r.Kind == kind);
            Assert.True(records.Select(r => r.Line).Distinct().Count() >= 10, "lines that decided: " + string.Join(",", records.Select(r => r.Line).Distinct()));
            foreach (var kind in new[] { FactKind.Dns, FactKind.Ident, FactKind.State, FactKind.Count })
                Assert.Contains(records, r => r.Facts.Any(f => f.Kind == kind));
            Assert.Contains(records, r => r.Stage == PolicyStage.Mail);
            Assert.Contains(records, r => r.Reason != null && r.Reason.StartsWith("rate limit", StringComparison.Ordinal));
            Assert.Contains(records, r => r.Replies.Any(x => x.StartsWith("450 4.7.1 Greylisted", StringComparison.Ordinal)));
            Assert.Contains(records, r => r.Replies.Any(x => x.StartsWith("521 ", StringComparison.Ordinal)));

            var replay = Pipeline(greylist: null);
            var mismatches = new List<string>();
            foreach (var r in records)
            {
                var outcome = await DecisionReplay.RunAsync(r, replay);
                var v = outcome.Verdict;
                if (v.Kind != r.Kind || !v.Replies.SequenceEqual(r.Replies) || v.Reason != r.Reason
                    || v.Delay.TotalSeconds != r.DelaySeconds || v.LineNumber != r.Line || outcome.Unrecorded.Count > 0)
                    mismatches.Add(r.Session + " " + r.Stage + " " + r.From + " -> " + r.To + ": logged " + r.Kind + " [" + string.Join(" / ", r.Replies)
                                   + "] (" + r.Reason + ", " + r.DelaySeconds + "s), replayed " + v.Kind + " [" + string.Join(" / ", v.Replies)
                                   + "] (" + v.Reason + ", " + v.Delay.TotalSeconds + "s) unrecorded: " + string.Join(", ", outcome.Unrecorded));
            }
            Assert.True(mismatches.Count == 0, mismatches.Count + " of " + records.Count + " differ:\n" + string.Join("\n", mismatches.Take(20)));

            // The comparison Compare-SmtpdRule runs agrees: nothing changed.
            var comparison = new RuleComparison(replay);
            foreach (var r in records) Assert.Null(await comparison.CompareAsync(r));
            Assert.Equal(records.Count, comparison.Summary.Unchanged);
        }

        [Fact]
        public async Task A_record_replayed_twice_decides_the_same_both_times()
        {
            var (records, _) = await LogAsync(sessions: 300, seed: 5);
            var replay = Pipeline(greylist: null);
            foreach (var r in records)
            {
                var first = (await DecisionReplay.RunAsync(r, replay)).Verdict;
                var second = (await DecisionReplay.RunAsync(r, replay)).Verdict;
                Assert.Equal(first.Replies, second.Replies);
                Assert.Equal(first.Reason, second.Reason);
            }
        }

        static PolicyPipeline Pipeline(GreylistRecorder greylist) =>
            new PolicyPipeline(new RuleEvaluator(RuleSet.Parse(Rules), new RuleEvaluationOptions
                               {
                                   NotoDelay = TimeSpan.FromSeconds(7),
                                   DenyDelay = TimeSpan.FromSeconds(9),
                                   Greylist = GreyOptions,
                               }),
                               new PolicyOptions
                               {
                                   HostName = "mx.replay.test",
                                   Tarpit = TimeSpan.FromSeconds(2),
                                   MaxMessageSize = 100_000,
                                   EnforcedTests = ProtocolTests.Pipelining,
                                   RateLimits = new RateLimitOptions { RecipientsPerMinute = 4, SenderRecipientsPerMinute = 2, Exempt = { "198.51.100.128/25" } },
                               },
                               greylist: greylist);

        static GreylistOptions GreyOptions => new GreylistOptions { Greytraps = { "w@trap.test" }, AutoAllowAfter = 3 };

        /// <summary>Sessions played as the proxy plays them, each RCPT (and each refused MAIL) recorded.</summary>
        static async Task<(List<DecisionRecord>, PolicyPipeline)> LogAsync(int sessions, int seed)
        {
            var random = new Random(seed);
            var clock = new FakeClock();
            var store = new MemoryStateStore(clock: clock);
            await store.SetAsync(DnsblHealth.StateKey("dead.test"), "ListsEverything lists 127.0.0.1", null);
            var pipeline = Pipeline(new GreylistRecorder(store, GreyOptions));
            var dns = new World();
            var records = new List<DecisionRecord>();
            var limits = new DownstreamLimits(50_000, smtpUtf8: false, eightBitMime: true, clock.UtcNow, "mx.down.test");
            for (int s = 0; s < sessions; s++)
            {
                clock.Advance(TimeSpan.FromSeconds(random.Next(1, 40)));
                var time = clock.UtcNow;
                var client = Client(random);
                var ident = random.Next(6) switch { 0 => IdentAnswer.Of("alice"), 1 => IdentAnswer.Failure("timed out"), 2 => IdentAnswer.Of("bob"), _ => IdentAnswer.None };
                var session = new PolicySession(client, new LiveFacts(dns, new FixedIdentSource(ident), store)) { Clock = new FixedClock(time) };
                if (random.Next(5) == 0) session.UseDownstream(limits);
                if (random.Next(12) == 0) session.Failed(ProtocolTests.Pregreet);
                if (random.Next(15) == 0) session.Failed(ProtocolTests.Pipelining);
                var id = "S" + s;
                var verdict = await pipeline.ConnectAsync(session);
                if (!verdict.TakesEffect) continue;
                if (random.Next(4) == 0) session.Secured();
                var helo = random.Next(8) == 0 ? null : "helo" + random.Next(5) + ".client.test";
                var esmtp = random.Next(3) != 0;
                if (helo != null)
                {
                    verdict = pipeline.Helo(session, helo, esmtp);
                    if (!verdict.TakesEffect) continue;
                    session.Greeted(helo, esmtp);
                }
                for (int t = random.Next(1, 3); t > 0 && verdict.Kind != VerdictKind.Close; t--)
                {
                    var from = Senders[random.Next(Senders.Length)];
                    var utf8 = random.Next(6) == 0;
                    long? size = random.Next(5) == 0 ? random.Next(10_000, 150_000) : (long?)null;
                    verdict = pipeline.Mail(session, from, utf8, size);
                    if (!verdict.TakesEffect)
                    {
                        records.Add(Stamped(DecisionRecord.OfMail(session, verdict, pipeline, from, utf8, size, id), time));
                        continue;
                    }
                    pipeline.BeginTransaction(session, verdict.Path, utf8, size);
                    for (int n = random.Next(1, 4); n > 0; n--)
                    {
                        var to = Recipients[random.Next(Recipients.Length)];
                        verdict = await pipeline.RcptAsync(session, to);
                        records.Add(Stamped(DecisionRecord.Of(session, verdict, pipeline, id, to), time));
                        if (verdict.Kind == VerdictKind.Close) break;
                        if (verdict.Kind == VerdictKind.Continue) session.AddRecipient(verdict.Path);
                    }
                    session.EndTransaction();
                }
            }
            return (records, pipeline);
        }

        static DecisionRecord Stamped(DecisionRecord r, DateTimeOffset time)
        {
            r.Time = time;
            return r;
        }

        /// <summary>A few networks, so greylisting sees retries and the rate limits fill up.</summary>
        static IPAddress Client(Random random)
        {
            switch (random.Next(10))
            {
                case 0: return IPAddress.Parse("10.1.2." + random.Next(1, 5));
                case 1: return IPAddress.Parse("198.51.100." + random.Next(120, 140));
                case 2: return IPAddress.Parse("2001:db8::" + random.Next(1, 6).ToString("x"));
                case 3: return IPAddress.Parse("::ffff:203.0.113." + random.Next(1, 6));
                default: return IPAddress.Parse("203.0." + random.Next(113, 116) + "." + random.Next(1, 12));
            }
        }

        /// <summary>The test's Internet, a function of the question.</summary>
        sealed class World : IDnsResolver
        {
            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default) =>
                Task.FromResult(Answer(name.ToLowerInvariant(), type));

            static DnsAnswer Answer(string name, DnsRecordType type)
            {
                var h = Hash(name);
                if (type == DnsRecordType.PTR)
                {
                    var id = name.Replace('.', '-');
                    switch (h % 10)
                    {
                        case 0: case 1: case 2: case 3: case 4: return DnsAnswer.Of(DnsStatus.Ok, new[] { "host-" + id + ".isp.test" }, null, 3600);
                        case 5: return DnsAnswer.Of(DnsStatus.Ok, new[] { "liar-" + id + ".isp.test" }, null, 3600);
                        case 6: return DnsAnswer.Of(DnsStatus.Ok, new[] { "down-" + id + ".isp.test" }, null, 3600);
                        case 7: return DnsAnswer.Failed("SERVFAIL");
                        default: return DnsAnswer.NameError;
                    }
                }
                if (name.StartsWith("host-", StringComparison.Ordinal))
                    return type == DnsRecordType.A || type == DnsRecordType.AAAA ? Forward(name, type) : DnsAnswer.NoData;
                if (name.StartsWith("liar-", StringComparison.Ordinal))
                    return type == DnsRecordType.A ? DnsAnswer.Of(DnsStatus.Ok, new[] { "192.0.2.99" }, null, 600) : DnsAnswer.NoData;
                if (name.StartsWith("down-", StringComparison.Ordinal))
                    return type == DnsRecordType.A ? DnsAnswer.Failed("timed out") : DnsAnswer.NoData;
                if (name.EndsWith(".bl.test", StringComparison.Ordinal) && type == DnsRecordType.A)
                    switch (h % 6)
                    {
                        case 0: return DnsAnswer.Of(DnsStatus.Ok, new[] { "127.0.0.2" }, null, 300);
                        case 1: return DnsAnswer.Of(DnsStatus.Ok, new[] { "127.255.255.254" }, null, 300);
                        case 2: return DnsAnswer.Failed("timed out");
                        default: return DnsAnswer.NameError;
                    }
                if (name.EndsWith(".wl.test", StringComparison.Ordinal) && type == DnsRecordType.A)
                    return h % 4 == 0 ? DnsAnswer.Of(DnsStatus.Ok, new[] { "127.0.10.2" }, null, 300) : DnsAnswer.NameError;
                if (name.EndsWith(".dead.test", StringComparison.Ordinal))
                    return DnsAnswer.Of(DnsStatus.Ok, new[] { "127.0.0.1" }, null, 300);
                switch (name)
                {
                    case "pass.test":
                        return type == DnsRecordType.TXT ? DnsAnswer.Of(DnsStatus.Ok, new[] { "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all" }, null, 300)
                             : type == DnsRecordType.NS ? DnsAnswer.Of(DnsStatus.Ok, new[] { "ns1.pass.test" }, null, 300)
                             : DnsAnswer.NoData;
                    case "ns1.pass.test":
                        return type == DnsRecordType.A ? DnsAnswer.Of(DnsStatus.Ok, new[] { "192.0.2.53" }, null, 300) : DnsAnswer.NoData;
                    case "sub.pass.test":
                        return DnsAnswer.NoData;
                    case "fail.test":
                        return type == DnsRecordType.TXT ? DnsAnswer.Of(DnsStatus.Ok, new[] { "v=spf1 -all" }, null, 300)
                             : type == DnsRecordType.MX ? DnsAnswer.Of(DnsStatus.Ok, new[] { "mx.fail.test" }, null, 300) : DnsAnswer.NoData;
                    case "soft.test":
                        return type == DnsRecordType.TXT ? DnsAnswer.Of(DnsStatus.Ok, new[] { "v=spf1 ~all" }, null, 300) : DnsAnswer.NoData;
                    case "broken.test":
                        return DnsAnswer.Failed("SERVFAIL");
                    case "spam.test":
                        return type == DnsRecordType.NS ? DnsAnswer.Of(DnsStatus.Ok, new[] { "ns.spam.test" }, null, 300) : DnsAnswer.NoData;
                }
                return DnsAnswer.NameError;
            }

            // host-4-3-2-1-in-addr-arpa.isp.test answers 1.2.3.4 (and nothing for AAAA); an ip6 name its address.
            static DnsAnswer Forward(string name, DnsRecordType type)
            {
                var id = name.Substring(5, name.IndexOf('.') - 5);
                if (id.EndsWith("-in-addr-arpa", StringComparison.Ordinal))
                {
                    if (type == DnsRecordType.AAAA) return DnsAnswer.NoData;
                    var p = id.Split('-');
                    return DnsAnswer.Of(DnsStatus.Ok, new[] { p[3] + "." + p[2] + "." + p[1] + "." + p[0] }, null, 600);
                }
                if (type == DnsRecordType.A) return DnsAnswer.NoData;
                var nibbles = id.Substring(0, id.Length - "-ip6-arpa".Length).Split('-');
                var bytes = new byte[16];
                for (int i = 0; i < 32; i++) bytes[15 - i / 2] |= (byte)(Convert.ToInt32(nibbles[i], 16) << (i % 2 == 0 ? 0 : 4));
                return DnsAnswer.Of(DnsStatus.Ok, new[] { new IPAddress(bytes).ToString() }, null, 600);
            }

            static uint Hash(string s)
            {
                uint h = 2166136261;
                foreach (var c in s) h = (h ^ c) * 16777619;
                return h;
            }
        }
    }
}
