using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.Greylist
{
    /// <summary>
    /// What an administrator's listing shows of the state the proxy's own decision path wrote
    /// (first tries, passes, SPF domains, traps, auto-allow counts), filtered and paged, and that
    /// removal touches only greylist keys. The state is made by real grey lines on the policy
    /// pipeline, against the embedded store and a clock the test moves.
    /// </summary>
    public class GreylistReaderTests
    {
        readonly FakeClock _clock = new FakeClock();
        readonly MemoryStateStore _store;
        readonly GreylistOptions _options = new GreylistOptions { Greytraps = { "trap@example.test" }, AutoAllowAfter = 2 };

        public GreylistReaderTests() { _store = new MemoryStateStore(clock: _clock); }

        GreylistReader Reader() => new GreylistReader(_store, _options, _clock);

        async Task TryAsync(string client, string from, string to = "<b@example.test>")
        {
            var dns = new TxtDnsResolver().Txt("pool.example.org", "v=spf1 ip4:198.51.100.0/24 -all");
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Parse("grey:ALL:ALL:ALL\nallow:ALL:ALL:ALL\n"), new RuleEvaluationOptions { Greylist = _options }),
                                              new PolicyOptions { HostName = "mx.example.test", ReverseLookup = false },
                                              greylist: new GreylistRecorder(_store, _options));
            var session = new PolicySession(IPAddress.Parse(client), new LiveFacts(dns, null, _store)) { Clock = _clock };
            session.Greeted("client.example.org", esmtp: true);
            var mail = pipeline.Mail(session, from, smtpUtf8: false);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            await pipeline.RcptAsync(session, to, explain: false);
            session.EndTransaction();
        }

        async Task<IReadOnlyList<GreylistEntry>> ListAsync(GreylistFilter filter = null) =>
            (await Reader().ListAsync(filter ?? GreylistFilter.All, 0, 1000)).Entries;

        static GreylistFilter Filter(string client = null, string from = null, string to = null, params GreylistEntryKind[] kinds)
        {
            Assert.True(GreylistFilter.TryCreate(client, from, to, kinds, out var filter, out var error), error);
            return filter;
        }

        [Fact]
        public async Task A_first_try_is_a_waiting_triplet_with_its_client_network_sender_recipient_and_expiry()
        {
            var start = _clock.UtcNow;
            await TryAsync("192.0.2.7", "<A@Example.org>");

            var e = Assert.Single(await ListAsync());
            Assert.Equal(GreylistEntryKind.Triplet, e.Kind);
            Assert.Equal(GreylistEntryState.Waiting, e.State);
            Assert.StartsWith("grey:t:", e.Key);
            Assert.Equal("192.0.2.7", e.Client);
            Assert.Equal("n:192.0.2.0/24", e.Identity);
            Assert.Equal("A@Example.org", e.From);
            Assert.Equal("b@example.test", e.To);
            Assert.Equal(start, e.FirstSeen);
            Assert.Null(e.Passed);
            Assert.Null(e.Count);
            Assert.Equal(start + _options.RetryWindow, e.Expires);
        }

        [Fact]
        public async Task A_retry_after_the_delay_shows_a_passed_triplet_and_a_count_that_auto_allows_at_the_threshold()
        {
            await TryAsync("192.0.2.7", "<a@example.org>");
            _clock.Advance(_options.Delay);
            var passedAt = _clock.UtcNow;
            await TryAsync("192.0.2.8", "<a@example.org>");

            var entries = await ListAsync();
            var triplet = Assert.Single(entries, x => x.Kind == GreylistEntryKind.Triplet);
            Assert.Equal(GreylistEntryState.Passed, triplet.State);
            Assert.Equal(passedAt, triplet.Passed);
            Assert.Equal(passedAt - _options.Delay, triplet.FirstSeen);
            Assert.Equal("192.0.2.8", triplet.Client);
            Assert.Equal(passedAt + _options.PassLifetime, triplet.Expires);
            var count = Assert.Single(entries, x => x.Kind == GreylistEntryKind.AutoAllow);
            Assert.Equal("grey:a:n:192.0.2.0/24", count.Key);
            Assert.Equal("192.0.2.0/24", count.Client);
            Assert.Equal(1, count.Count);
            Assert.Equal(GreylistEntryState.Counting, count.State);

            await TryAsync("192.0.2.9", "<c@example.org>");
            _clock.Advance(_options.Delay);
            await TryAsync("192.0.2.9", "<c@example.org>");
            count = Assert.Single(await ListAsync(Filter(kinds: GreylistEntryKind.AutoAllow)));
            Assert.Equal(2, count.Count);
            Assert.Equal(GreylistEntryState.AutoAllowed, count.State);
        }

        [Fact]
        public async Task A_sender_whose_SPF_passes_shows_its_domain_as_identity_and_its_count_has_no_client()
        {
            await TryAsync("198.51.100.7", "<bounce@pool.example.org>");
            _clock.Advance(_options.Delay);
            await TryAsync("198.51.100.9", "<bounce@pool.example.org>");

            var entries = await ListAsync();
            Assert.Equal("d:pool.example.org", Assert.Single(entries, x => x.Kind == GreylistEntryKind.Triplet).Identity);
            var count = Assert.Single(entries, x => x.Kind == GreylistEntryKind.AutoAllow);
            Assert.Equal("d:pool.example.org", count.Identity);
            Assert.Null(count.Client);
            Assert.Empty(await ListAsync(Filter(client: "198.51.100.0/24", kinds: GreylistEntryKind.AutoAllow)));
        }

        [Fact]
        public async Task A_greytrap_hit_shows_the_trapped_address_and_the_trap_it_wrote_to()
        {
            var at = _clock.UtcNow;
            await TryAsync("203.0.113.5", "<x@spam.example>", "<trap@example.test>");

            var trap = Assert.Single(await ListAsync(Filter(kinds: GreylistEntryKind.Trap)));
            Assert.Equal("grey:trap:203.0.113.5", trap.Key);
            Assert.Equal(GreylistEntryState.Trapped, trap.State);
            Assert.Equal("203.0.113.5", trap.Client);
            Assert.Equal("trap@example.test", trap.To);
            Assert.Null(trap.From);
            Assert.Null(trap.Identity);
            Assert.Equal(at, trap.FirstSeen);
            Assert.Equal(at + _options.TrapLifetime, trap.Expires);
        }

        [Fact]
        public async Task The_client_filter_takes_an_address_or_a_network_and_matches_triplets_traps_and_overlapping_counts()
        {
            await TryAsync("192.0.2.7", "<a@example.org>");
            _clock.Advance(_options.Delay);
            await TryAsync("192.0.2.7", "<a@example.org>");              // a passed triplet and n:192.0.2.0/24
            await TryAsync("203.0.113.5", "<x@spam.example>", "<trap@example.test>");   // a triplet and a trap

            // An address: a triplet's own client, and the auto-allowed network that holds it.
            Assert.Equal(new[] { GreylistEntryKind.Triplet, GreylistEntryKind.AutoAllow },
                         (await ListAsync(Filter(client: "192.0.2.7"))).Select(x => x.Kind).OrderBy(k => k));
            Assert.Equal(GreylistEntryKind.AutoAllow, Assert.Single(await ListAsync(Filter(client: "192.0.2.99"))).Kind);
            Assert.Single(await ListAsync(Filter(client: "192.0.2.7", kinds: GreylistEntryKind.Triplet)));
            Assert.Equal(2, (await ListAsync(Filter(client: "192.0.0.0/16"))).Count);
            Assert.Equal(2, (await ListAsync(Filter(client: "203.0.113.5"))).Count);
            Assert.Empty(await ListAsync(Filter(client: "2001:db8::1")));
            Assert.Equal(4, (await ListAsync(Filter(client: "0.0.0.0/0"))).Count);
        }

        [Fact]
        public async Task Sender_and_recipient_filters_are_whole_case_insensitive_wildcards_and_brackets_and_the_null_sender_work()
        {
            await TryAsync("192.0.2.7", "<alice@example.org>", "<bob@example.test>");
            await TryAsync("192.0.2.7", "<>", "<carol@example.test>");
            await TryAsync("203.0.113.5", "<x@spam.example>", "<trap@example.test>");

            Assert.Equal("alice@example.org", Assert.Single(await ListAsync(Filter(from: "*@EXAMPLE.ORG"))).From);
            Assert.Single(await ListAsync(Filter(from: "<alic?@example.org>")));
            Assert.Empty(await ListAsync(Filter(from: "alice@example")));
            Assert.Equal("carol@example.test", Assert.Single(await ListAsync(Filter(from: "<>"))).To);
            // A trap has a recipient (the greytrap) but no sender.
            Assert.Equal(new[] { GreylistEntryKind.Trap, GreylistEntryKind.Triplet },
                         (await ListAsync(Filter(to: "trap@*"))).Select(x => x.Kind).OrderBy(k => k.ToString()));
            Assert.Single(await ListAsync(Filter(from: "*", to: "trap@*")));
            Assert.Equal(4, (await ListAsync(Filter(to: "*"))).Count);
        }

        [Fact]
        public async Task Values_greylisting_did_not_write_and_other_keys_are_left_out()
        {
            await TryAsync("192.0.2.7", "<a@example.org>");
            await _store.SetAsync("grey:t:0123", "2\n1\n-\n192.0.2.1\na@b\nc@d", null);     // another version
            await _store.SetAsync("grey:t:0124", "1\n99999999999999\n-\n192.0.2.1\na@b\nc@d", null);   // past year 9999
            await _store.SetAsync("grey:a:n:192.0.2.0/24", "many", null);
            await _store.SetAsync("grey:a:x:what", "3", null);
            await _store.SetAsync("grey:trap:192.0.2.1", "yesterday", null);
            await _store.SetAsync("grey:other", "1", null);
            await _store.SetAsync("rate:192.0.2.1", "5", null);

            Assert.Equal(GreylistEntryKind.Triplet, Assert.Single(await ListAsync()).Kind);
        }

        [Fact]
        public async Task Pages_follow_key_order_and_say_how_many_matched()
        {
            for (int i = 0; i < 5; i++) await TryAsync("192.0.2." + (10 + i), "<a" + i + "@example.org>");
            var all = (await ListAsync()).Select(x => x.Key).ToList();
            Assert.Equal(all.OrderBy(k => k, StringComparer.Ordinal), all);

            var first = await Reader().ListAsync(GreylistFilter.All, 0, 2);
            var last = await Reader().ListAsync(GreylistFilter.All, 4, 2);
            Assert.Equal(5, first.Total);
            Assert.True(first.HasMore);
            Assert.Equal(all.Take(2), first.Entries.Select(x => x.Key));
            Assert.Equal(all[4], Assert.Single(last.Entries).Key);
            Assert.False(last.HasMore);
            Assert.False(last.Incomplete);
            Assert.Empty((await Reader().ListAsync(GreylistFilter.All, 9, 2)).Entries);
        }

        [Fact]
        public async Task Removal_takes_a_greylist_key_says_whether_it_was_there_and_refuses_other_keys()
        {
            await TryAsync("192.0.2.7", "<a@example.org>");
            await _store.SetAsync("rate:192.0.2.7", "5", null);
            var key = Assert.Single(await ListAsync()).Key;

            Assert.True(await Reader().RemoveAsync(key));
            Assert.False(await Reader().RemoveAsync(key));
            Assert.Empty(await ListAsync());
            await Assert.ThrowsAsync<ArgumentException>(() => Reader().RemoveAsync("rate:192.0.2.7"));
            await Assert.ThrowsAsync<ArgumentException>(() => Reader().RemoveAsync("grey:"));
            await Assert.ThrowsAsync<ArgumentException>(() => Reader().RemoveAsync("grey:trap:"));
            Assert.Equal("5", await _store.GetAsync("rate:192.0.2.7"));
        }

        [Fact]
        public void A_client_filter_that_is_not_an_address_or_network_is_refused_with_a_reason()
        {
            Assert.False(GreylistFilter.TryCreate("mail.example.org", null, null, null, out _, out var error));
            Assert.Contains("mail.example.org", error);
            Assert.False(GreylistFilter.TryCreate("192.0.2.0/33", null, null, null, out _, out _));
        }

        [Theory]
        [InlineData("*@example.org", "a@EXAMPLE.org", true)]
        [InlineData("a?c@x", "abc@x", true)]
        [InlineData("a?c@x", "ac@x", false)]
        [InlineData("*", "", true)]
        [InlineData("<>", "", true)]
        [InlineData("<>", "a@x", false)]
        [InlineData("a*b*c", "aXbYbZc", true)]
        [InlineData("a*b*c", "aXbYc", true)]
        [InlineData("a*b*c", "aXcYb", false)]
        [InlineData("example.org", "a@example.org", false)]
        [InlineData("*example.org", "a@example.org", true)]
        public void Address_wildcards_match_the_whole_address(string pattern, string text, bool matches) =>
            Assert.Equal(matches, new AddressWildcard(pattern).IsMatch(text));
    }
}
