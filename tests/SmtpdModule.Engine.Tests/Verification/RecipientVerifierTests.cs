using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>The verifier asks its sources in order, keeps what they know in the state store, and the
    /// pipeline turns its answer into the RCPT verdict, after the rules and only for what they allow.</summary>
    public class RecipientVerifierTests
    {
        /// <summary>A source that answers from a table and counts the questions.</summary>
        sealed class TableSource : IRecipientSource
        {
            readonly Dictionary<string, MailboxStatus> _answers;
            public TableSource(string name, Dictionary<string, MailboxStatus> answers) { Name = name; _answers = answers; }
            public string Name { get; }
            public int Asked;
            public Func<string, RecipientAnswer> Override;
            public Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref Asked);
                if (Override != null) return Task.FromResult(Override(mailbox));
                var status = _answers.TryGetValue(mailbox, out var s) ? s : MailboxStatus.Unknown;
                return Task.FromResult(new RecipientAnswer(status, Name, "table"));
            }
        }

        static Dictionary<string, MailboxStatus> Users(params string[] known) => known.ToDictionary(k => k, _ => MailboxStatus.Known, StringComparer.OrdinalIgnoreCase);

        static Func<string, CancellationToken, Task<string>> Reader(IStateStore store) => (k, ct) => store.GetAsync(k, ct);

        [Fact]
        public async Task The_first_source_that_knows_decides_and_one_that_cannot_answer_passes_to_the_next()
        {
            var down = new TableSource("callahead", null) { Override = m => new RecipientAnswer(MailboxStatus.Unavailable, "callahead", "connection refused") };
            var list = new TableSource("list", Users("alice@example.test"));
            var verifier = new RecipientVerifier(new[] { new VerificationSource(down), new VerificationSource(list) }, new MemoryStateStore());

            var alice = await verifier.VerifyAsync("alice@example.test", Reader(new MemoryStateStore()));
            Assert.Equal(MailboxStatus.Known, alice.Status);
            Assert.Equal("list", alice.Source);
            // Every source asked shows, so -Explain and the log tell why the list decided.
            Assert.Equal("callahead", Assert.Single(alice.PassedOver).Source);
            Assert.Equal("callahead: Unavailable (connection refused) -> list: Known", alice.ToString().Substring(0, 58));
            var carol = await verifier.VerifyAsync("carol@example.test", Reader(new MemoryStateStore()));
            Assert.Equal(MailboxStatus.Unknown, carol.Status);

            var onlyDown = new RecipientVerifier(new[] { new VerificationSource(down) }, new MemoryStateStore());
            var none = await onlyDown.VerifyAsync("alice@example.test", Reader(new MemoryStateStore()));
            Assert.Equal(MailboxStatus.Unavailable, none.Status);
            Assert.Equal("connection refused", none.Detail);
            Assert.Empty(none.PassedOver);
            Assert.Equal("callahead: Unavailable (connection refused)", none.ToString());
        }

        [Fact]
        public async Task Known_and_unknown_are_kept_for_their_time_unavailable_never()
        {
            var store = new MemoryStateStore();
            var source = new TableSource("callahead", Users("alice@example.test"));
            var verifier = new RecipientVerifier(new[] { new VerificationSource(source, TimeSpan.FromDays(7), TimeSpan.FromHours(3)) }, store);

            Assert.False((await verifier.VerifyAsync("Alice@Example.test", Reader(store))).FromCache);
            var again = await verifier.VerifyAsync("alice@example.test", Reader(store));
            Assert.True(again.FromCache);
            Assert.Equal(MailboxStatus.Known, again.Status);
            await verifier.VerifyAsync("carol@example.test", Reader(store));
            Assert.Equal(MailboxStatus.Unknown, (await verifier.VerifyAsync("carol@example.test", Reader(store))).Status);
            Assert.Equal(2, source.Asked);

            source.Override = m => new RecipientAnswer(MailboxStatus.Unavailable, "callahead", "451 4.3.0 try later");
            await verifier.VerifyAsync("dave@example.test", Reader(store));
            await verifier.VerifyAsync("dave@example.test", Reader(store));
            Assert.Equal(4, source.Asked);
            Assert.Null(await store.GetAsync(RecipientVerifier.CacheKey("callahead", "dave@example.test")));
        }

        [Fact]
        public async Task A_source_that_throws_could_not_answer()
        {
            var source = new TableSource("ldap", null) { Override = m => throw new InvalidOperationException("bind failed") };
            var verifier = new RecipientVerifier(new[] { new VerificationSource(source) }, new MemoryStateStore());
            var answer = await verifier.VerifyAsync("alice@example.test", Reader(new MemoryStateStore()));
            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("bind failed", answer.Detail);
        }

        static async Task<Verdict> Rcpt(string rules, TableSource source, string to, VerificationFailMode mode = VerificationFailMode.TempFail)
        {
            var store = new MemoryStateStore();
            var verifier = new RecipientVerifier(new[] { new VerificationSource(source) }, store, mode);
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Parse(rules)), new PolicyOptions { ReverseLookup = false }, verifier);
            var session = new PolicySession(IPAddress.Parse("192.0.2.7"), new LiveFacts(new FactDnsResolver(), null, store));
            session.Greeted("client.test", true);
            MailPath.TryParse("<sender@elsewhere.test>", allowNull: true, strict: true, smtpUtf8: false, out var from);
            session.BeginTransaction(from, false);
            return await pipeline.RcptAsync(session, to);
        }

        [Fact]
        public async Task An_allowed_recipient_without_a_mailbox_gets_550_5_1_1_and_keeps_the_allowing_line()
        {
            var v = await Rcpt("allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n", new TableSource("list", Users("alice@example.test")), "<carol@example.test>");
            Assert.Equal(VerdictKind.Reject, v.Kind);
            Assert.Equal(new[] { "550 5.1.1 Recipient address rejected: user unknown" }, v.Replies);
            Assert.Equal(DecisionBasis.RecipientVerification, v.Decision.Basis);
            Assert.Equal(RuleAction.Noto, v.Decision.Action);
            Assert.Equal(1, v.LineNumber);
            Assert.StartsWith("list: Unknown", v.Decision.Verification);

            var ok = await Rcpt("allow:ALL:ALL:*@example.test\n", new TableSource("list", Users("alice@example.test")), "<alice@example.test>");
            Assert.Equal(VerdictKind.Continue, ok.Kind);
            Assert.Equal(RuleAction.Allow, ok.Decision.Action);
            Assert.StartsWith("list: Known", ok.Decision.Verification);
        }

        [Fact]
        public async Task What_the_rules_refuse_is_never_verified()
        {
            var source = new TableSource("callahead", Users("alice@example.test"));
            var v = await Rcpt("noto:ALL:ALL:ALL\n", source, "<alice@example.test>");
            Assert.Equal(VerdictKind.Reject, v.Kind);
            Assert.Equal(0, source.Asked);
            Assert.Null(v.Decision.Verification);
        }

        [Fact]
        public async Task A_recipients_results_do_not_carry_over_to_the_next_recipient()
        {
            // Before issue 19, the results of a session's checks kept the last verified recipient's
            // answer: a recipient the rules refused then showed "verify: list: Unknown" in its record.
            var store = new MemoryStateStore();
            var verifier = new RecipientVerifier(new[] { new VerificationSource(new TableSource("list", Users("alice@example.test"))) }, store);
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Parse("allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n")),
                                              new PolicyOptions { ReverseLookup = false }, verifier);
            var session = new PolicySession(IPAddress.Parse("192.0.2.7"), new LiveFacts(new FactDnsResolver(), null, store));
            session.Greeted("client.test", true);
            MailPath.TryParse("<sender@elsewhere.test>", allowNull: true, strict: true, smtpUtf8: false, out var from);
            session.BeginTransaction(from, false);
            await pipeline.RcptAsync(session, "<carol@example.test>");
            Assert.StartsWith("list: Unknown", session.Results["verify"]);
            var relay = await pipeline.RcptAsync(session, "<x@elsewhere.test>");
            Assert.Equal(VerdictKind.Reject, relay.Kind);
            Assert.False(session.Results.ContainsKey("verify"));
            Assert.False(DecisionRecord.Of(session, relay, pipeline, "s1").Results.ContainsKey("verify"));
        }

        [Fact]
        public async Task A_source_that_cannot_answer_defers_or_accepts_as_the_fail_mode_says()
        {
            var down = new TableSource("callahead", null) { Override = m => new RecipientAnswer(MailboxStatus.Unavailable, "callahead", "timed out") };
            var deferred = await Rcpt("allow:ALL:ALL:ALL\n", down, "<alice@example.test>");
            Assert.Equal(VerdictKind.TempFail, deferred.Kind);
            Assert.Equal(new[] { "450 4.4.3 Recipient verification unavailable, try again later" }, deferred.Replies);
            Assert.Equal(RuleAction.Defer, deferred.Decision.Action);

            var accepted = await Rcpt("allow:ALL:ALL:ALL\n", down, "<alice@example.test>", VerificationFailMode.Accept);
            Assert.Equal(VerdictKind.Continue, accepted.Kind);
            Assert.Equal(new[] { "250 2.1.5 Recipient OK" }, accepted.Replies);
            Assert.Contains("timed out", accepted.Decision.Verification);
        }
    }
}
