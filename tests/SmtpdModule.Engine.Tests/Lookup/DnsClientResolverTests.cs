using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Lookup
{
    /// <summary>The resolver against a real knotd serving tests/fixtures/dns (facts in its README.md),
    /// and against servers that never answer or answer only SERVFAIL.</summary>
    [Collection("dns")]
    public sealed class DnsClientResolverTests
    {
        static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
        readonly TestDnsServer _dns;

        public DnsClientResolverTests(TestDnsServer dns)
        {
            _dns = dns;
        }

        async Task<DnsAnswer> AskAsync(string name, DnsRecordType type)
        {
            using var resolver = _dns.CreateResolver();
            return await resolver.QueryAsync(name, type);
        }

        void AssertOk(DnsAnswer answer, params string[] expected)
        {
            Assert.True(answer.Status == DnsStatus.Ok, $"expected Ok, got {answer}\nknotd log:\n{_dns.Log}");
            Assert.Equal(expected.OrderBy(v => v, StringComparer.Ordinal), answer.Values.OrderBy(v => v, StringComparer.Ordinal));
        }

        [Fact]
        public async Task A_record_is_returned_as_address_text()
        {
            AssertOk(await AskAsync("mail.example.test", DnsRecordType.A), "192.0.2.10");
        }

        [Fact]
        public async Task All_A_records_of_a_name_are_returned()
        {
            AssertOk(await AskAsync("multi.example.test", DnsRecordType.A), "192.0.2.13", "192.0.2.14");
        }

        [Fact]
        public async Task Trailing_dot_asks_the_same_name()
        {
            AssertOk(await AskAsync("mail.example.test.", DnsRecordType.A), "192.0.2.10");
        }

        [Fact]
        public async Task Names_are_case_insensitive()
        {
            AssertOk(await AskAsync("MAIL.Example.TEST", DnsRecordType.A), "192.0.2.10");
        }

        [Fact]
        public async Task Aaaa_record_is_returned_as_compressed_ipv6_text()
        {
            AssertOk(await AskAsync("mail.example.test", DnsRecordType.AAAA), "2001:db8::10");
        }

        [Fact]
        public async Task Ns_record_is_the_target_without_trailing_dot()
        {
            AssertOk(await AskAsync("example.test", DnsRecordType.NS), "ns1.example.test");
        }

        [Fact]
        public async Task Mx_record_is_the_exchange_without_preference_or_trailing_dot()
        {
            AssertOk(await AskAsync("example.test", DnsRecordType.MX), "mx.example.test");
        }

        [Fact]
        public async Task Ptr_of_an_ipv4_reverse_name_is_the_host_name()
        {
            AssertOk(await AskAsync("10.2.0.192.in-addr.arpa", DnsRecordType.PTR), "mail.example.test");
        }

        [Fact]
        public async Task Ptr_of_an_ipv6_reverse_name_is_the_host_name()
        {
            var name = ReverseNames.ReverseName(IPAddress.Parse("2001:db8::10"));
            AssertOk(await AskAsync(name, DnsRecordType.PTR), "mail.example.test");
        }

        [Fact]
        public async Task Ptr_that_looks_like_an_address_is_returned_verbatim()
        {
            AssertOk(await AskAsync("15.2.0.192.in-addr.arpa", DnsRecordType.PTR), "10.1.2.3");
        }

        [Fact]
        public async Task Dnsbl_listing_is_an_a_record_under_the_list_zone()
        {
            AssertOk(await AskAsync(ReverseNames.DnsblName(IPAddress.Parse("192.0.2.10"), "bl.test"), DnsRecordType.A), "127.0.0.2");
            AssertOk(await AskAsync(ReverseNames.DnsblName(IPAddress.Parse("2001:db8::10"), "bl.test"), DnsRecordType.A), "127.0.0.2");
        }

        [Fact]
        public async Task Dnsbl_miss_is_a_name_error()
        {
            var answer = await AskAsync(ReverseNames.DnsblName(IPAddress.Parse("192.0.2.12"), "bl.test"), DnsRecordType.A);
            Assert.Equal(DnsStatus.NameError, answer.Status);
        }

        [Fact]
        public async Task Nxdomain_is_a_name_error_not_a_failure()
        {
            var answer = await AskAsync("nosuch.example.test", DnsRecordType.A);
            Assert.Equal(DnsStatus.NameError, answer.Status);
            Assert.Empty(answer.Values);
            Assert.Null(answer.Error);
        }

        [Fact]
        public async Task Missing_ptr_is_a_name_error()
        {
            var answer = await AskAsync("12.2.0.192.in-addr.arpa", DnsRecordType.PTR);
            Assert.Equal(DnsStatus.NameError, answer.Status);
        }

        [Theory]
        [InlineData("mail.example.test", DnsRecordType.MX)]
        [InlineData("spam.test", DnsRecordType.MX)]
        [InlineData("mx.spam.test", DnsRecordType.AAAA)]
        [InlineData("sub.example.test", DnsRecordType.A)]     // empty non-terminal
        public async Task Existing_name_without_that_type_is_ok_with_no_values(string name, DnsRecordType type)
        {
            AssertOk(await AskAsync(name, type));
        }

        [Fact]
        public async Task Refused_for_a_name_outside_the_served_zones_is_a_failure()
        {
            var answer = await AskAsync("www.example.org", DnsRecordType.A);
            Assert.Equal(DnsStatus.Failed, answer.Status);
            Assert.Contains("REFUSED", answer.Error);
        }

        [Fact]
        public async Task Server_is_reachable_over_ipv6_loopback()
        {
            if (_dns.EndPointV6 == null)
                return;   // no ::1 on this machine (knotd then listens on 127.0.0.1 only)
            using var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { _dns.EndPointV6 }, Retries = 0 });
            AssertOk(await resolver.QueryAsync("mail.example.test", DnsRecordType.AAAA), "2001:db8::10");
        }

        [Fact]
        public async Task Parsed_dns_server_text_reaches_the_server()
        {
            var endPoint = DnsServerEndpoint.Parse("127.0.0.1:" + _dns.Port);
            using var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { endPoint }, Retries = 0 });
            AssertOk(await resolver.QueryAsync("ns1.spam.test", DnsRecordType.A), "203.0.113.7");
        }

        [Fact]
        public async Task Many_concurrent_questions_beyond_the_limit_all_get_answers()
        {
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { _dns.EndPoint },
                MaxConcurrentQueries = 4,
            });
            var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
                resolver.QueryAsync(i % 2 == 0 ? "mail.example.test" : "nosuch" + i + ".example.test", DnsRecordType.A)));
            for (var i = 0; i < answers.Length; i++)
                Assert.Equal(i % 2 == 0 ? DnsStatus.Ok : DnsStatus.NameError, answers[i].Status);
        }

        [Fact]
        public async Task Silent_server_is_a_failure_after_the_timeout()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { blackhole.EndPoint },
                Timeout = TimeSpan.FromMilliseconds(300),
                Retries = 0,
            });

            var clock = Stopwatch.StartNew();
            var answer = await resolver.QueryAsync("mail.example.test", DnsRecordType.A);
            clock.Stop();

            Assert.Equal(DnsStatus.Failed, answer.Status);
            Assert.NotNull(answer.Error);
            Assert.True(clock.Elapsed < Patience, $"took {clock.Elapsed}");
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"gave up after {clock.Elapsed}, before the timeout");
            Assert.Equal(1, blackhole.QueriesReceived);
        }

        [Fact]
        public async Task Silent_server_is_asked_again_once_per_retry()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { blackhole.EndPoint },
                Timeout = TimeSpan.FromMilliseconds(200),
                Retries = 2,
            });

            var answer = await resolver.QueryAsync("mail.example.test", DnsRecordType.A);

            Assert.Equal(DnsStatus.Failed, answer.Status);
            // The server's receive loop may count the last datagram after the resolver gave up.
            await blackhole.WaitForQueriesAsync(3, TimeSpan.FromSeconds(5));
            Assert.Equal(3, blackhole.QueriesReceived);
        }

        [Fact]
        public async Task Silent_first_server_moves_the_question_to_the_next()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { blackhole.EndPoint, _dns.EndPoint },
                Timeout = TimeSpan.FromMilliseconds(300),
                Retries = 0,
            });

            AssertOk(await resolver.QueryAsync("mail.example.test", DnsRecordType.A), "192.0.2.10");
            Assert.Equal(1, blackhole.QueriesReceived);
        }

        [Fact]
        public async Task Servfail_is_a_failure()
        {
            using var servfail = ServfailDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { servfail.EndPoint }, Retries = 0 });

            var answer = await resolver.QueryAsync("mail.example.test", DnsRecordType.A);

            Assert.Equal(DnsStatus.Failed, answer.Status);
            Assert.Contains("SERVFAIL", answer.Error);
        }

        [Fact]
        public async Task Servfail_ends_the_question_without_retry_or_next_server()
        {
            using var servfail = ServfailDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { servfail.EndPoint, _dns.EndPoint },
                Retries = 2,
            });

            var answer = await resolver.QueryAsync("mail.example.test", DnsRecordType.A);

            Assert.Equal(DnsStatus.Failed, answer.Status);
            Assert.Equal(1, servfail.QueriesReceived);
        }

        [Fact]
        public async Task Cancelled_token_before_asking_throws_operation_canceled()
        {
            using var resolver = _dns.CreateResolver();
            using var cts = new CancellationTokenSource();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolver.QueryAsync("mail.example.test", DnsRecordType.A, cts.Token));
        }

        [Fact]
        public async Task Cancelling_a_question_in_flight_throws_operation_canceled_not_a_failed_answer()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { blackhole.EndPoint },
                Timeout = TimeSpan.FromSeconds(30),
                Retries = 0,
            });
            using var cts = new CancellationTokenSource();

            var question = resolver.QueryAsync("mail.example.test", DnsRecordType.A, cts.Token);
            await blackhole.WaitForQueriesAsync(1, Patience);
            var clock = Stopwatch.StartNew();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => question);
            Assert.True(clock.Elapsed < Patience, $"cancellation took {clock.Elapsed}");
        }

        [Fact]
        public async Task Cancelling_a_question_waiting_for_a_slot_throws_without_asking()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { blackhole.EndPoint },
                Timeout = TimeSpan.FromSeconds(30),
                Retries = 0,
                MaxConcurrentQueries = 1,
            });
            using var first = new CancellationTokenSource();
            using var second = new CancellationTokenSource();

            var holding = resolver.QueryAsync("mail.example.test", DnsRecordType.A, first.Token);
            await blackhole.WaitForQueriesAsync(1, Patience);
            var waiting = resolver.QueryAsync("multi.example.test", DnsRecordType.A, second.Token);
            second.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            Assert.Equal(1, blackhole.QueriesReceived);

            first.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => holding);
        }

        [Theory]
        [InlineData("")]
        [InlineData(".")]
        [InlineData("a..example.test")]
        [InlineData(".example.test")]
        [InlineData("a-label-that-is-much-longer-than-sixty-three-characters-is-not-allowed.example.test")]
        public async Task Text_that_is_not_a_dns_name_is_a_failure_without_asking(string name)
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { blackhole.EndPoint }, Retries = 0 });

            var answer = await resolver.QueryAsync(name, DnsRecordType.A);

            Assert.Equal(DnsStatus.Failed, answer.Status);
            Assert.Equal(0, blackhole.QueriesReceived);
        }

        [Fact]
        public async Task Name_longer_than_253_characters_is_a_failure()
        {
            var name = string.Join(".", Enumerable.Repeat("abcdefghi", 26)) + ".test";   // 264 characters
            var answer = await AskAsync(name, DnsRecordType.A);
            Assert.Equal(DnsStatus.Failed, answer.Status);
        }

        [Fact]
        public async Task Arguments_are_checked_before_anything_is_asked()
        {
            using var resolver = _dns.CreateResolver();
            await Assert.ThrowsAsync<ArgumentNullException>(() => resolver.QueryAsync(null, DnsRecordType.A));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => resolver.QueryAsync("mail.example.test", (DnsRecordType)99));
        }

        [Fact]
        public async Task Disposed_resolver_refuses_new_questions()
        {
            var resolver = _dns.CreateResolver();
            resolver.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => resolver.QueryAsync("mail.example.test", DnsRecordType.A));
        }

        [Fact]
        public void Options_are_copied_when_the_resolver_is_built()
        {
            var options = new DnsResolverOptions { Servers = new[] { _dns.EndPoint }, Timeout = TimeSpan.FromSeconds(1) };
            using var resolver = new DnsClientResolver(options);
            options.Timeout = TimeSpan.FromSeconds(9);
            options.Servers = new[] { new IPEndPoint(IPAddress.Loopback, 1) };

            Assert.Equal(TimeSpan.FromSeconds(1), resolver.Options.Timeout);
            Assert.Equal(new[] { _dns.EndPoint }, resolver.Servers);
        }
    }

    public sealed class DnsResolverOptionsTests
    {
        [Fact]
        public void Defaults_are_system_servers_three_seconds_one_retry_64_queries_tcp_fallback()
        {
            var options = new DnsResolverOptions();
            Assert.Empty(options.Servers);
            Assert.Equal(TimeSpan.FromSeconds(3), options.Timeout);
            Assert.Equal(1, options.Retries);
            Assert.Equal(64, options.MaxConcurrentQueries);
            Assert.True(options.UseTcpFallback);
        }

        [Fact]
        public void Out_of_range_values_are_refused()
        {
            var options = new DnsResolverOptions();
            Assert.Throws<ArgumentOutOfRangeException>(() => options.Timeout = TimeSpan.Zero);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.Timeout = Timeout.InfiniteTimeSpan);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.Retries = -1);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConcurrentQueries = 0);
            Assert.Throws<ArgumentNullException>(() => options.Servers = null);
            Assert.Throws<ArgumentNullException>(() => options.Servers = new IPEndPoint[] { null });
            Assert.Throws<ArgumentException>(() => options.Servers = new[] { new IPEndPoint(IPAddress.Loopback, 0) });
            Assert.Throws<ArgumentException>(() => options.Servers = new[] { new IPEndPoint(IPAddress.Any, 53) });
        }

        [Fact]
        public void Servers_are_copied_so_later_changes_to_the_end_point_do_not_leak_in()
        {
            var endPoint = new IPEndPoint(IPAddress.Loopback, 5353);
            var options = new DnsResolverOptions { Servers = new[] { endPoint } };
            endPoint.Port = 99;
            Assert.Equal(5353, options.Servers[0].Port);
        }
    }

    public sealed class DnsServerEndpointTests
    {
        [Theory]
        [InlineData("127.0.0.1", "127.0.0.1", 53)]
        [InlineData("127.0.0.1:5353", "127.0.0.1", 5353)]
        [InlineData(" 192.0.2.1:1 ", "192.0.2.1", 1)]
        [InlineData("10.0.0.1:65535", "10.0.0.1", 65535)]
        [InlineData("::1", "::1", 53)]
        [InlineData("[::1]:5353", "::1", 5353)]
        [InlineData("[::1]", "::1", 53)]
        [InlineData("2001:db8::1", "2001:db8::1", 53)]
        [InlineData("[2001:db8::1]:53", "2001:db8::1", 53)]
        [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1", 53)]
        public void Valid_text_parses_to_address_and_port(string text, string address, int port)
        {
            Assert.True(DnsServerEndpoint.TryParse(text, out var endPoint, out var error), error);
            Assert.Null(error);
            Assert.Equal(IPAddress.Parse(address), endPoint.Address);
            Assert.Equal(port, endPoint.Port);
            Assert.Equal(endPoint, DnsServerEndpoint.Parse(text));
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("dns.example.test")]
        [InlineData("dns.example.test:53")]
        [InlineData("localhost")]
        [InlineData("127.1")]
        [InlineData("127.0.0.1.5")]
        [InlineData("256.0.0.1")]
        [InlineData("010.0.0.1")]
        [InlineData("0x7f.0.0.1")]
        [InlineData("127.0.0.1:")]
        [InlineData("127.0.0.1:0")]
        [InlineData("127.0.0.1:65536")]
        [InlineData("127.0.0.1:99999")]
        [InlineData("127.0.0.1:-1")]
        [InlineData("127.0.0.1:53x")]
        [InlineData("127.0.0.1:+53")]
        [InlineData("[::1")]
        [InlineData("[::1]:")]
        [InlineData("[::1]5353")]
        [InlineData("[::1]:0")]
        [InlineData("[127.0.0.1]:53")]
        [InlineData("[]:53")]
        [InlineData("2001:db8:::1")]
        [InlineData("0.0.0.0")]
        [InlineData("::")]
        [InlineData("2001:db8::1:53")]   // ambiguous: [2001:db8::1]:53 or the address 2001:db8::1:53?
        public void Invalid_text_is_refused_with_a_reason(string text)
        {
            Assert.False(DnsServerEndpoint.TryParse(text, out var endPoint, out var error));
            Assert.Null(endPoint);
            Assert.False(string.IsNullOrWhiteSpace(error));
            if (!string.IsNullOrWhiteSpace(text))
                Assert.Contains(text, error);

            var thrown = Assert.Throws<ArgumentException>(() => DnsServerEndpoint.Parse(text));
            Assert.StartsWith(error, thrown.Message);
            Assert.Equal("text", thrown.ParamName);
        }

        [Fact]
        public void Host_name_refusal_says_that_an_address_is_needed()
        {
            DnsServerEndpoint.TryParse("dns.example.test", out _, out var error);
            Assert.Contains("host names are not accepted", error);
        }
    }

    public sealed class ReverseNamesTests
    {
        [Theory]
        [InlineData("192.0.2.10", "10.2.0.192.in-addr.arpa")]
        [InlineData("0.0.0.0", "0.0.0.0.in-addr.arpa")]
        [InlineData("255.254.253.1", "1.253.254.255.in-addr.arpa")]
        [InlineData("::ffff:192.0.2.10", "10.2.0.192.in-addr.arpa")]
        [InlineData("2001:db8::10", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
        [InlineData("2001:DB8:ABCD::F", "f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa")]
        [InlineData("::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa")]
        public void Reverse_name_reverses_octets_or_nibbles(string address, string expected)
        {
            Assert.Equal(expected, ReverseNames.ReverseName(IPAddress.Parse(address)));
        }

        [Theory]
        [InlineData("192.0.2.10", "bl.test", "10.2.0.192.bl.test")]
        [InlineData("203.0.113.7", "bl.test.", "7.113.0.203.bl.test")]
        [InlineData("::ffff:203.0.113.7", "bl.test", "7.113.0.203.bl.test")]
        [InlineData("2001:db8::10", "bl.test", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test")]
        public void Dnsbl_name_puts_the_reversed_address_under_the_zone(string address, string zone, string expected)
        {
            Assert.Equal(expected, ReverseNames.DnsblName(IPAddress.Parse(address), zone));
        }

        [Fact]
        public void Ipv6_reverse_name_has_32_nibbles()
        {
            var name = ReverseNames.ReverseName(IPAddress.Parse("2001:db8:1:2:3:4:5:6"));
            Assert.Equal(32 + 2, name.Split('.').Length);
        }

        [Fact]
        public void Bad_arguments_are_refused()
        {
            Assert.Throws<ArgumentNullException>(() => ReverseNames.ReverseName(null));
            Assert.Throws<ArgumentNullException>(() => ReverseNames.DnsblName(null, "bl.test"));
            Assert.Throws<ArgumentNullException>(() => ReverseNames.DnsblName(IPAddress.Loopback, null));
            Assert.Throws<ArgumentException>(() => ReverseNames.DnsblName(IPAddress.Loopback, ""));
            Assert.Throws<ArgumentException>(() => ReverseNames.DnsblName(IPAddress.Loopback, "."));
            Assert.Throws<ArgumentException>(() => ReverseNames.DnsblName(IPAddress.Loopback, "bl..test"));
        }
    }
}
