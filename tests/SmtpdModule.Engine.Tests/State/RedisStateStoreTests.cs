using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>
    /// What only a server store has: a credential, a server that is down, stops answering or comes
    /// back, TLS, database numbers and prefixes that keep deployments apart. Each test that harms
    /// its server starts its own.
    /// </summary>
    [Collection("redis")]
    public sealed class RedisStateStoreTests
    {
        static readonly TimeSpan Hour = TimeSpan.FromHours(1);
        static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(250);
        // What a loaded machine may add to the bound: thread pool and timer latency, not Redis.
        // Room for a busy machine's scheduling, still far under the library's own 5 s default.
        static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(2250);

        readonly TestRedisServer _shared;
        readonly ITestOutputHelper _output;

        public RedisStateStoreTests(TestRedisServer shared, ITestOutputHelper output)
        {
            _shared = shared;
            _output = output;
        }

        static RedisStateStoreOptions Options(TestRedisServer server, string password = "", TimeSpan? bound = null)
        {
            var options = RedisStateStoreOptions.FromUri(server.Uri);
            options.Password = password == "" ? server.Password : password;
            options.KeyPrefix = "t" + Guid.NewGuid().ToString("N") + ":";
            options.OperationTimeout = bound ?? TimeSpan.FromSeconds(10);
            return options;
        }

        static async Task<RedisStateStore> ConnectedAsync(RedisStateStoreOptions options, TestRedisServer server)
        {
            var store = new RedisStateStore(options);
            Assert.True(await store.WaitUntilConnectedAsync(TimeSpan.FromSeconds(15)), "not connected to " + store.Name + "\n" + server.Log);
            return store;
        }

        // Every operation once, each timed: the failures and the longest wait.
        static async Task<(List<Exception> Failures, TimeSpan Longest)> EveryOperationAsync(IStateStore store)
        {
            var calls = new Func<Task>[]
            {
                () => store.GetAsync("k"),
                () => store.SetAsync("k", "v", Hour),
                () => store.SetIfAbsentAsync("k", "v", Hour),
                () => store.IncrementAsync("n", 1, Hour),
                () => store.RemoveAsync("k"),
                () => store.ListAsync("", 10),
            };
            var failures = new List<Exception>();
            var longest = TimeSpan.Zero;
            foreach (var call in calls)
            {
                var watch = Stopwatch.StartNew();
                try { await call(); }
                catch (Exception ex) { failures.Add(ex); }
                if (watch.Elapsed > longest) longest = watch.Elapsed;
            }
            return (failures, longest);
        }

        [Fact]
        public async Task A_wrong_password_fails_every_call_saying_authentication_failed()
        {
            using var store = new RedisStateStore(Options(_shared, password: "not-the-password", bound: TimeSpan.FromSeconds(2)));
            StateStoreUnavailableException failure = null;
            // The first calls may meet the connection still being refused; then the reason is known.
            await TestWait.UntilAsync(async () =>
            {
                failure = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.GetAsync("k"));
                return failure.Failure == StateStoreFailure.AuthenticationFailed;
            }, "the failure was never AuthenticationFailed");
            Assert.Equal(store.Name, failure.Store);
            Assert.Contains("authentication failed", failure.Message);
            Assert.DoesNotContain("not-the-password", failure.ToString());
            _output.WriteLine(failure.ToString());
        }

        [Fact]
        public async Task No_password_for_a_server_that_asks_one_fails_saying_authentication_failed()
        {
            using var store = new RedisStateStore(Options(_shared, password: null, bound: TimeSpan.FromSeconds(2)));
            StateStoreUnavailableException failure = null;
            await TestWait.UntilAsync(async () =>
            {
                failure = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.SetAsync("k", "v", Hour));
                return failure.Failure == StateStoreFailure.AuthenticationFailed;
            }, "the failure was never AuthenticationFailed");
        }

        [Fact]
        public async Task The_user_default_with_the_password_is_the_same_as_the_password_alone()
        {
            var options = Options(_shared);
            options.User = "default";
            using var store = await ConnectedAsync(options, _shared);
            await store.SetAsync("k", "v", Hour);
            Assert.Equal("v", await store.GetAsync("k"));
        }

        [Fact]
        public async Task An_unknown_user_fails_saying_authentication_failed()
        {
            var options = Options(_shared, bound: TimeSpan.FromSeconds(2));
            options.User = "nobody";
            using var store = new RedisStateStore(options);
            StateStoreUnavailableException failure = null;
            await TestWait.UntilAsync(async () =>
            {
                failure = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.GetAsync("k"));
                return failure.Failure == StateStoreFailure.AuthenticationFailed;
            }, "the failure was never AuthenticationFailed");
        }

        [Fact]
        public async Task Nothing_listening_fails_every_call_within_the_bound_and_the_constructor_does_not_wait()
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            var options = RedisStateStoreOptions.FromUri("redis://127.0.0.1:" + port);
            options.OperationTimeout = Bound;
            var watch = Stopwatch.StartNew();
            using var store = new RedisStateStore(options);
            Assert.True(watch.Elapsed < Slack, "the constructor took " + watch.Elapsed);

            for (int round = 0; round < 3; round++)
            {
                var (failures, longest) = await EveryOperationAsync(store);
                Assert.Equal(6, failures.Count);
                Assert.All(failures, f => Assert.Equal(StateStoreFailure.NotConnected, Assert.IsType<StateStoreUnavailableException>(f).Failure));
                Assert.True(longest <= Bound + Slack, "a call took " + longest);
            }
            Assert.False(store.IsConnected);
        }

        [Fact]
        public async Task A_server_killed_mid_run_fails_calls_within_the_bound_and_they_work_again_when_it_is_back()
        {
            using var server = await TestRedisServer.StartAsync();
            using var store = await ConnectedAsync(Options(server, bound: Bound), server);
            await store.SetAsync("before", "v", Hour);
            Assert.Equal("v", await store.GetAsync("before"));

            server.Kill();
            for (int round = 0; round < 5; round++)
            {
                var (failures, longest) = await EveryOperationAsync(store);
                Assert.Equal(6, failures.Count);
                Assert.All(failures, f => Assert.IsType<StateStoreUnavailableException>(f));
                Assert.True(longest <= Bound + Slack, "a call took " + longest + ": " + failures.Last());
            }

            await server.RestartAsync();
            // The store reconnects on its own; polling, bounded by a deadline, until a call works.
            await TestWait.UntilAsync(async () =>
            {
                try { await store.SetAsync("after", "w", Hour); return true; }
                catch (StateStoreUnavailableException) { return false; }
            }, server.Log, timeoutMs: 20000);
            // Back, every operation works. On a loaded machine one call may still overrun the 250 ms
            // bound, so a round is tried again until one passes whole; but a store that is back may
            // only time out, never say it is not connected.
            await TestWait.UntilAsync(async () =>
            {
                try
                {
                    Assert.Equal("w", await store.GetAsync("after"));
                    Assert.Null(await store.GetAsync("before"));   // no persistence: the restarted server is empty
                }
                catch (StateStoreUnavailableException ex) when (ex.Failure == StateStoreFailure.Timeout) { return false; }
                var (after, _) = await EveryOperationAsync(store);
                Assert.All(after, f => Assert.Equal(StateStoreFailure.Timeout, Assert.IsType<StateStoreUnavailableException>(f).Failure));
                return after.Count == 0;
            }, server.Log, timeoutMs: 20000);
        }

        [Fact]
        public async Task A_server_that_stops_answering_times_out_within_the_bound_and_is_used_again_when_it_answers()
        {
            using var server = await TestRedisServer.StartAsync();
            using var store = await ConnectedAsync(Options(server, bound: Bound), server);
            await store.SetAsync("k", "v", Hour);

            server.Pause();   // SIGSTOP: the socket stays open, nothing answers
            try
            {
                for (int round = 0; round < 3; round++)
                {
                    var watch = Stopwatch.StartNew();
                    var failure = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.GetAsync("k"));
                    Assert.True(watch.Elapsed <= Bound + Slack, "a call took " + watch.Elapsed);
                    Assert.Contains(failure.Failure, new[] { StateStoreFailure.Timeout, StateStoreFailure.NotConnected });
                }
            }
            finally { server.Resume(); }

            await TestWait.UntilAsync(async () =>
            {
                try { return await store.GetAsync("k") == "v"; }
                catch (StateStoreUnavailableException) { return false; }
            }, server.Log, timeoutMs: 20000);
        }

        [Fact]
        public async Task Two_prefixes_or_two_databases_on_one_server_do_not_see_each_other()
        {
            var a = Options(_shared);
            var b = Options(_shared);
            var other = RedisStateStoreOptions.FromUri(_shared.Uri + "/3");
            other.Password = _shared.Password;
            other.KeyPrefix = a.KeyPrefix;
            using var storeA = await ConnectedAsync(a, _shared);
            using var storeB = await ConnectedAsync(b, _shared);
            using var storeA3 = await ConnectedAsync(other, _shared);

            await storeA.SetAsync("k", "a", Hour);
            await storeB.SetAsync("k", "b", Hour);
            await storeA3.SetAsync("k", "a3", Hour);
            Assert.Equal("a", await storeA.GetAsync("k"));
            Assert.Equal("b", await storeB.GetAsync("k"));
            Assert.Equal("a3", await storeA3.GetAsync("k"));
            Assert.Equal("k", Assert.Single(await storeA.ListAsync("", 10)).Key);
            Assert.Equal("a3", Assert.Single(await storeA3.ListAsync("", 10)).Value);
        }

        [Fact]
        public async Task Rediss_connects_to_a_tls_server_whose_issuer_it_is_told_to_trust_and_refuses_one_it_does_not()
        {
            using var certificates = TestCertificates.Create();
            using var server = await TestRedisServer.StartAsync(certificatePath: certificates.CertPemPath, keyPath: certificates.KeyPemPath);
            Assert.StartsWith("rediss://", server.Uri);

            var trusted = Options(server);
            trusted.TrustedIssuer = certificates.Certificate;
            using (var store = await ConnectedAsync(trusted, server))
            {
                await store.SetAsync("k", "over tls", Hour);
                Assert.Equal("over tls", await store.GetAsync("k"));
            }

            // The same server, its certificate not trusted: no connection, failing fast and saying why.
            using var untrusted = new RedisStateStore(Options(server, bound: Bound));
            StateStoreUnavailableException failure = null;
            // Until the first handshake has failed the reason is only "not connected"; every call is quick.
            await TestWait.UntilAsync(async () =>
            {
                var watch = Stopwatch.StartNew();
                failure = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => untrusted.GetAsync("k"));
                Assert.True(watch.Elapsed <= Bound + Slack, "a call took " + watch.Elapsed);
                return failure.Failure == StateStoreFailure.TlsFailed;
            }, "the failure was never TlsFailed");
            Assert.Contains("TLS handshake failed", failure.Message);
            Assert.False(await untrusted.WaitUntilConnectedAsync(TimeSpan.FromSeconds(1)));
        }

        [Fact]
        public async Task A_listing_passes_over_keys_of_other_types_under_its_prefix()
        {
            var options = Options(_shared);
            using var store = await ConnectedAsync(options, _shared);
            await store.SetAsync("a", "1", Hour);
            // Another program's hash under the same prefix: GET would answer WRONGTYPE.
            using (var other = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(
                new StackExchange.Redis.ConfigurationOptions { EndPoints = { _shared.EndPoint }, Password = _shared.Password }))
                await other.GetDatabase().HashSetAsync(options.KeyPrefix + "hash", "field", "value");
            Assert.Equal("a", Assert.Single(await store.ListAsync("", 10)).Key);
        }

        [Fact]
        public async Task A_disposed_store_refuses_calls()
        {
            var store = await ConnectedAsync(Options(_shared), _shared);
            store.Dispose();
            store.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetAsync("k"));
        }
    }
}
