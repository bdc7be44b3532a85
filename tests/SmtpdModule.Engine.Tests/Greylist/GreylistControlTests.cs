using System;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.Greylist
{
    /// <summary>
    /// The control channel's greylist requests: the line stays within the endpoint's 256 bytes
    /// whatever the filter, a page stays within its byte budget and says where the next starts,
    /// entries read back as the proxy's own reader reads them, and malformed requests are refused.
    /// </summary>
    public class GreylistControlTests
    {
        readonly FakeClock _clock = new FakeClock();
        readonly MemoryStateStore _store;
        readonly GreylistOptions _options = new GreylistOptions { AutoAllowAfter = 3, IPv4PrefixLength = 28 };

        public GreylistControlTests() { _store = new MemoryStateStore(clock: _clock); }

        static string Triplet(string identity, string client, string from, string to, out string key)
        {
            key = GreylistKeys.Triplet(identity, from, to);
            return "1\n1767225600\n-\n" + client + "\n" + from + "\n" + to;
        }

        async Task<ControlFields> AskAsync(string request)
        {
            var answer = await GreylistControl.AnswerAsync(request, _store, _options, _clock);
            Assert.NotNull(answer);
            Assert.StartsWith("ok\n", answer);
            return ControlFields.Parse(answer.Split('\n').Skip(1));
        }

        [Fact]
        public async Task A_page_read_back_is_what_the_proxy_reads_with_its_own_prefix_lengths_and_threshold()
        {
            var value = Triplet("n:192.0.2.16/28", "192.0.2.17", "a@example.org", "b@example.test", out var key);
            await _store.SetAsync(key, value, TimeSpan.FromHours(1));
            await _store.SetAsync("grey:a:n:192.0.2.16/28", "3", TimeSpan.FromDays(1));

            var request = GreylistControl.ListRequest(GreylistFilter.All, 0, 10, out var whole);
            Assert.True(whole);
            var page = GreylistControl.ReadPage(await AskAsync(request), out var next);
            Assert.Equal(-1, next);
            Assert.Equal(2, page.Total);
            var triplet = Assert.Single(page.Entries, e => e.Kind == GreylistEntryKind.Triplet);
            Assert.Equal("n:192.0.2.16/28", triplet.Identity);
            Assert.Equal(_clock.UtcNow + TimeSpan.FromHours(1), triplet.Expires);
            Assert.Equal(GreylistEntryState.AutoAllowed, Assert.Single(page.Entries, e => e.Kind == GreylistEntryKind.AutoAllow).State);
        }

        [Fact]
        public async Task Filters_travel_escaped_and_long_patterns_are_left_to_the_caller_within_256_bytes()
        {
            await _store.SetAsync("grey:trap:192.0.2.1", "1767225600\ntrap@example.test", null);
            await _store.SetAsync("grey:trap:203.0.113.1", "1767225600\ntrap@example.test", null);
            Assert.True(GreylistFilter.TryCreate("192.0.2.0/24", null, "TRAP@* x", new[] { GreylistEntryKind.Trap }, out var filter, out _));
            var request = GreylistControl.ListRequest(filter, 0, 10, out var whole);
            Assert.True(whole);
            Assert.DoesNotContain("TRAP@* x", request);
            Assert.Empty(GreylistControl.ReadPage(await AskAsync(request), out _).Entries);   // "x" is part of the pattern
            Assert.True(GreylistFilter.TryCreate("192.0.2.0/24", null, "TRAP@*", new[] { GreylistEntryKind.Trap }, out filter, out _));
            Assert.Equal("grey:trap:192.0.2.1", Assert.Single(GreylistControl.ReadPage(await AskAsync(GreylistControl.ListRequest(filter, 0, 10, out _)), out _).Entries).Key);

            var longPattern = new string('x', 120) + "@" + new string('y', 120) + ".example";
            Assert.True(GreylistFilter.TryCreate("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", longPattern, longPattern, null, out filter, out _));
            request = GreylistControl.ListRequest(filter, 123456, GreylistControl.MaxPage, out whole);
            Assert.False(whole);
            Assert.True(request.Length < ControlEndpoint.MaxRequest);
            Assert.NotNull(await GreylistControl.AnswerAsync(request, _store, _options, _clock));
        }

        [Fact]
        public async Task A_page_of_long_entries_stays_within_its_budget_and_the_next_request_goes_on_from_where_it_stopped()
        {
            var longAddress = new string('a', 200) + "@" + new string('b', 50) + ".example";
            for (int i = 0; i < 400; i++)
                await _store.SetAsync("grey:t:" + i.ToString("d4"), "1\n1767225600\n-\n192.0.2.1\n" + longAddress + "\n" + i + longAddress, null);

            int offset = 0, pages = 0, seen = 0;
            while (offset >= 0)
            {
                var answer = await GreylistControl.AnswerAsync(GreylistControl.ListRequest(GreylistFilter.All, offset, GreylistControl.MaxPage, out _), _store, _options, _clock);
                Assert.True(answer.Length < 64 * 1024, "an answer of " + answer.Length + " bytes");
                var page = GreylistControl.ReadPage(ControlFields.Parse(answer.Split('\n').Skip(1)), out offset);
                Assert.Equal(400, page.Total);
                seen += page.Entries.Count;
                pages++;
            }
            Assert.Equal(400, seen);
            Assert.True(pages > 1);
        }

        [Fact]
        public async Task Remove_answers_whether_the_key_was_there()
        {
            await _store.SetAsync("grey:trap:192.0.2.1", "1767225600\ntrap@example.test", null);
            Assert.True(GreylistControl.TryRemoveRequest("grey:trap:192.0.2.1", out var request));
            Assert.True(GreylistControl.ReadRemoved(await AskAsync(request)));
            Assert.False(GreylistControl.ReadRemoved(await AskAsync(request)));
            Assert.False(GreylistControl.TryRemoveRequest("rate:192.0.2.1", out _));
            Assert.False(GreylistControl.TryRemoveRequest("grey:a:d:" + new string('x', 250) + ".example", out _));
            Assert.False(GreylistControl.TryRemoveRequest("grey:a:d:bücher.example", out _));
        }

        [Theory]
        [InlineData("greylist")]
        [InlineData("greylist 0")]
        [InlineData("greylist -1 10")]
        [InlineData("greylist 0 0")]
        [InlineData("greylist 0 1001")]
        [InlineData("greylist 0 10 k=Nothing")]
        [InlineData("greylist 0 10 c=mail.example.org")]
        [InlineData("greylist 0 10 z=1")]
        [InlineData("greylist-remove")]
        [InlineData("greylist-remove rate:1")]
        [InlineData("greylist-remove grey:t:1 grey:t:2")]
        public async Task Malformed_greylist_requests_are_refused(string request) =>
            Assert.StartsWith("error ", await GreylistControl.AnswerAsync(request, _store, _options, _clock));

        [Theory]
        [InlineData("status")]
        [InlineData("stop 5")]
        [InlineData("greylisted")]
        public async Task Other_requests_are_left_to_the_endpoint(string request) =>
            Assert.Null(await GreylistControl.AnswerAsync(request, _store, _options, _clock));
    }
}
