using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>RCPT verdicts counted per rule line and verdict, carried over a reload for unchanged lines.</summary>
    public class RuleHitCounterTests
    {
        const string Rules = "allow:ALL:ALL:a@example.test\nnoto:ALL:ALL:n@example.test\ndeny:ALL:ALL:d@example.test\n"
                           + "grey:ALL:ALL:g@example.test\ndebug:ALL:ALL:ALL\nnoto:ALL:ALL:*@noto.test\n";

        // Real verdicts from the one decision path, counted as the proxy counts them.
        static async Task<Verdict> Decide(PolicyPipeline pipeline, string to)
        {
            var session = new PolicySession(IPAddress.Parse("192.0.2.7"), new LiveFacts(new FactDnsResolver(), null, new SmtpdModule.Engine.State.MemoryStateStore()));
            session.Greeted("client.test", esmtp: true);
            MailPath.TryParse("<s@example.org>", true, false, false, out var sender);
            session.BeginTransaction(sender, false);
            var v = await pipeline.RcptAsync(session, to);
            pipeline.Hits.Count(v);
            return v;
        }

        static PolicyPipeline Pipeline(RuleSet rules, RuleHitCounter previous = null, DateTimeOffset? now = null) =>
            new PolicyPipeline(new RuleEvaluator(rules), new PolicyOptions { HostName = "mx.test", MaxRecipients = 100 })
            { Hits = previous == null ? new RuleHitCounter(rules) : new RuleHitCounter(rules, previous, now ?? DateTimeOffset.UtcNow) };

        static RuleHit Line(RuleHitSnapshot s, int line) => s.Lines.Single(h => h.Line == line);
        static RuleHit Other(RuleHitSnapshot s, RuleHitBasis basis) => s.Others.Single(h => h.Basis == basis);

        [Fact]
        public async Task Counts_each_verdict_on_its_deciding_line_and_the_rest_by_basis()
        {
            var p = Pipeline(RuleSet.Parse(Rules));
            foreach (var to in new[] { "<a@example.test>", "<a@example.test>", "<n@example.test>", "<x@noto.test>", "<d@example.test>", "<g@example.test>", "<other@example.test>", "<bad@@x>", "<>" })
                await Decide(p, to);

            var s = p.Hits.Snapshot(7, 1234);

            Assert.Equal(new int?[] { 1, 2, 3, 4, 5, 6 }, s.Lines.Select(h => h.Line));
            Assert.Equal(2, Line(s, 1).Accepted);
            Assert.Equal(RuleAction.Allow, Line(s, 1).Action);
            Assert.Equal("allow:ALL:ALL:a@example.test", Line(s, 1).Rule);
            Assert.Equal(1, Line(s, 2).Refused);
            Assert.Equal(1, Line(s, 3).Closed);
            Assert.Equal(1, Line(s, 4).Deferred);
            Assert.Equal(RuleAction.Grey, Line(s, 4).Action);
            Assert.Equal(0, Line(s, 5).Total);
            Assert.Null(Line(s, 5).Action);   // debug lines never decide
            Assert.Equal(1, Line(s, 6).Refused);
            Assert.Equal(1, Other(s, RuleHitBasis.DefaultNoMatch).Accepted);   // the default is allow
            Assert.Equal(2, Other(s, RuleHitBasis.AddressCheck).Refused);      // bad syntax and the null recipient
            Assert.Equal(0, Other(s, RuleHitBasis.Limit).Total);
            Assert.Equal(9, s.Total);
            Assert.Equal(3, s.Accepted);
            Assert.Equal(4, s.Refused);
            Assert.All(s.All, h => Assert.Equal(7, h.ProxyId));
            Assert.All(s.All, h => Assert.Equal(1234, h.ProcessId));
            Assert.DoesNotContain(s.Others, h => h.Basis == RuleHitBasis.Rule);
        }

        [Fact]
        public async Task A_reload_keeps_the_counts_of_unchanged_lines_wherever_they_moved_and_restarts_changed_ones()
        {
            var before = DateTimeOffset.UtcNow.AddMinutes(-5);
            var old = Pipeline(RuleSet.Parse(Rules));
            await Decide(old, "<a@example.test>");
            await Decide(old, "<a@example.test>");
            await Decide(old, "<n@example.test>");
            await Decide(old, "<x@noto.test>");
            await Decide(old, "<other@example.test>");
            var reloadTime = DateTimeOffset.UtcNow.AddMinutes(5);

            // A comment on top moves every line down; line 2 (noto n@) is changed, the rest only moved.
            var edited = "# edited\n" + Rules.Replace("noto:ALL:ALL:n@example.test", "noto:ALL:ALL:n@example.test:550 go away");
            var next = Pipeline(RuleSet.Parse(edited), old.Hits, reloadTime);
            var s = next.Hits.Snapshot();

            Assert.Equal(2, Line(s, 2).Accepted);   // allow a@, was line 1
            Assert.True(Line(s, 2).Since < reloadTime);
            Assert.Equal(0, Line(s, 3).Total);      // the changed noto line
            Assert.Equal(reloadTime, Line(s, 3).Since);
            Assert.Equal(1, Line(s, 7).Refused);    // noto *@noto.test, was line 6
            Assert.Equal(1, Other(s, RuleHitBasis.DefaultNoMatch).Accepted);

            // A session still deciding under the old rules counts where the new counter shows it.
            await Decide(old, "<a@example.test>");
            await Decide(next, "<a@example.test>");
            await Decide(next, "<n@example.test>");
            s = next.Hits.Snapshot();
            Assert.Equal(4, Line(s, 2).Accepted);
            Assert.Equal(1, Line(s, 3).Refused);
            Assert.True(before < Line(s, 2).Since);
        }

        [Fact]
        public async Task Lines_with_the_same_text_are_paired_in_file_order()
        {
            var first = Pipeline(RuleSet.Parse("noto:ALL:ALL:x@a.test\nallow:ALL:ALL:ALL\nnoto:ALL:ALL:x@a.test\n"));
            await Decide(first, "<x@a.test>");   // the first of the two decides

            var second = Pipeline(RuleSet.Parse("allow:ALL:ALL:b@a.test\nnoto:ALL:ALL:x@a.test\nnoto:ALL:ALL:x@a.test\n"), first.Hits);

            var s = second.Hits.Snapshot();
            Assert.Equal(new long[] { 0, 1, 0 }, s.Lines.Select(h => h.Refused));
        }

        [Fact]
        public async Task A_proxy_counts_its_sessions_and_answers_the_control_channel_in_pages()
        {
            using var proxy = TestProxy.Start("allow:ALL:ALL:a@example.test\n" + string.Concat(Enumerable.Range(0, 600).Select(i => "noto:ALL:ALL:" + new string('x', 100) + i + "@example.test\n")));
            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await smtp.SendAsync("EHLO client.test", expect: "250");
                await smtp.SendAsync("MAIL FROM:<s@example.org>", expect: "250");
                await smtp.SendAsync("RCPT TO:<a@example.test>", expect: "250");
                await smtp.SendAsync("RCPT TO:<" + new string('x', 100) + "7@example.test>", expect: "550");
                await smtp.SendAsync("RCPT TO:<c@example.test>", expect: "250");
                await smtp.SendAsync("QUIT", expect: "221");
            }
            var local = proxy.Proxy.RuleHits;
            Assert.Equal(1, local.Lines[0].Accepted);
            Assert.Equal(1, local.Lines[8].Refused);
            Assert.Equal(3, local.Total);

            // Through the control channel: more rows than one answer holds, read page by page.
            var location = ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind).Single();
            var rows = new System.Collections.Generic.List<RuleHit>();
            int offset = 0, pages = 0;
            string sha = null;
            while (offset >= 0)
            {
                var answer = await ControlClient.RequestAsync(location, RuleHitControl.Request(offset), TimeSpan.FromSeconds(10));
                rows.AddRange(RuleHitControl.ReadPage(answer, location.Id, location.ProcessId, out sha, out offset));
                pages++;
            }
            Assert.True(pages > 1);
            Assert.Equal(local.RulesSha256, sha);
            Assert.Equal(local.All.Select(h => (h.Line, h.Rule, h.Basis, h.Action, h.Accepted, h.Refused, h.Total)),
                         rows.Select(h => (h.Line, h.Rule, h.Basis, h.Action, h.Accepted, h.Refused, h.Total)));
            Assert.Equal(local.Lines[3].Since.ToUnixTimeMilliseconds(), rows[3].Since.ToUnixTimeMilliseconds());
        }

        [Fact]
        public async Task A_proxy_that_reloads_its_rules_carries_the_unchanged_lines_counts_over()
        {
            using var proxy = TestProxy.Start("allow:ALL:ALL:a@example.test\nnoto:ALL:ALL:n@example.test\n");
            async Task Send(params string[] rcpts)
            {
                using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
                await smtp.SendAsync("EHLO client.test", expect: "250");
                await smtp.SendAsync("MAIL FROM:<s@example.org>", expect: "250");
                foreach (var r in rcpts) await smtp.SendAsync("RCPT TO:<" + r + ">", expect: r.StartsWith("n@") ? "550" : "250");
                await smtp.SendAsync("QUIT", expect: "221");
            }
            await Send("a@example.test", "n@example.test", "a@example.test");
            var before = proxy.Proxy.RuleHits;

            File.WriteAllText(proxy.RulesPath, "noto:ALL:ALL:n@example.test:550 5.7.1 go away\nallow:ALL:ALL:a@example.test\n");
            var sha = RuleSet.Load(proxy.RulesPath).Sha256;
            // The proxy looks at the file at most once a second, when asked.
            await TestWait.UntilAsync(() => proxy.Proxy.RuleHits.RulesSha256 == sha, proxy.Log);
            await Send("a@example.test", "n@example.test");

            var after = proxy.Proxy.RuleHits;
            Assert.Equal(3, after.Lines[1].Accepted);           // allow a@: moved to line 2, kept its count
            Assert.Equal(before.Lines[0].Since, after.Lines[1].Since);
            Assert.Equal(1, after.Lines[0].Refused);            // the changed noto line started again
            Assert.True(after.Lines[0].Since > before.Lines[1].Since);
        }

        [Fact]
        public void A_malformed_request_is_refused_and_another_request_is_not_answered()
        {
            Assert.Null(RuleHitControl.Answer("status", () => throw new InvalidOperationException()));
            Assert.StartsWith("error ", RuleHitControl.Answer("rule-hits -1", () => new RuleHitCounter(RuleSet.Parse("allow:ALL:ALL:ALL\n")).Snapshot()));
            Assert.StartsWith("error ", RuleHitControl.Answer("rule-hits", () => new RuleHitCounter(RuleSet.Parse("allow:ALL:ALL:ALL\n")).Snapshot()));
        }
    }
}
