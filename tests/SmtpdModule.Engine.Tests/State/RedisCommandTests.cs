using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>
    /// IStateStore's documentation names the Redis command behind each method; redis-server's
    /// MONITOR shows what the store really sends, so the two cannot drift apart.
    /// </summary>
    [Collection("redis")]
    public sealed class RedisCommandTests
    {
        readonly TestRedisServer _redis;

        public RedisCommandTests(TestRedisServer redis)
        {
            _redis = redis;
        }

        [Fact]
        public async Task Each_method_sends_the_command_its_documentation_names()
        {
            var prefix = "m" + Guid.NewGuid().ToString("N") + ":";
            var options = RedisStateStoreOptions.FromUri(_redis.Uri);
            options.Password = _redis.Password;
            options.KeyPrefix = prefix;
            options.OperationTimeout = TimeSpan.FromSeconds(10);
            using var store = new RedisStateStore(options);
            Assert.True(await store.WaitUntilConnectedAsync(TimeSpan.FromSeconds(15)), _redis.Log);

            using var monitor = await MonitorAsync();
            await store.GetAsync("k");
            await store.SetAsync("k", "v", null);
            await store.SetAsync("k", "v", TimeSpan.FromTicks(12_345_678));   // 1234.5678 ms: PX 1235, never shorter
            await store.SetIfAbsentAsync("k", "v", TimeSpan.FromHours(1));
            await store.IncrementAsync("n", 5, TimeSpan.FromSeconds(2));
            await store.RemoveAsync("k");
            await store.ListAsync("n", 10);
            await store.GetAsync("end");

            var sent = await ReadUntilAsync(monitor, prefix, prefix + "end");
            var p = prefix;
            Assert.Equal(new[]
            {
                $"GET {p}k",
                $"SET {p}k v",
                $"SET {p}k v PX 1235",
                $"SET {p}k v NX PX 3600000",
                "MULTI",
                $"SET {p}n 0 NX PX 2000",
                $"INCRBY {p}n 5",
                "EXEC",
                $"DEL {p}k",
                $"SCAN 0 MATCH {p}n* COUNT 250",
                $"GET {p}n",
                $"PTTL {p}n",
                $"GET {p}end",
            }, sent);
        }

        sealed class Monitor : IDisposable
        {
            public TcpClient Client;
            public StreamReader Reader;
            public void Dispose() => Client.Dispose();
        }

        async Task<Monitor> MonitorAsync()
        {
            var client = new TcpClient();
            await client.ConnectAsync(_redis.EndPoint.Address, _redis.Port);
            var stream = client.GetStream();
            var hello = Encoding.ASCII.GetBytes("AUTH " + _redis.Password + "\r\nMONITOR\r\n");
            await stream.WriteAsync(hello);
            var reader = new StreamReader(stream, Encoding.UTF8);
            Assert.Equal("+OK", await reader.ReadLineAsync());   // AUTH
            Assert.Equal("+OK", await reader.ReadLineAsync());   // MONITOR: from here on, every command
            return new Monitor { Client = client, Reader = reader };
        }

        // The commands of the client that touched our keys, as "NAME arg arg", until the sentinel key.
        static async Task<List<string>> ReadUntilAsync(Monitor monitor, string prefix, string sentinel)
        {
            // +1700000000.123456 [0 127.0.0.1:40000] "SET" "key" "value"
            var line = new Regex(@"^\+[0-9.]+ \[\d+ (?<client>[^\]]+)\] (?<args>.*)$");
            var argument = new Regex("\"((?:[^\"\\\\]|\\\\.)*)\"");
            string ours = null;
            var sent = new List<string>();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                var text = await monitor.Reader.ReadLineAsync(deadline.Token);
                Assert.NotNull(text);
                var m = line.Match(text);
                if (!m.Success) continue;
                var args = argument.Matches(m.Groups["args"].Value).Select(a => Regex.Unescape(a.Groups[1].Value)).ToList();
                if (ours == null)
                {
                    if (!args.Any(a => a.StartsWith(prefix, StringComparison.Ordinal))) continue;
                    ours = m.Groups["client"].Value;   // the store's connection; it sends nothing else of ours
                }
                if (m.Groups["client"].Value != ours) continue;
                var name = args[0].ToUpperInvariant();
                // The library's own: heartbeat and checks, and SELECT of the configured database (after EXEC, too).
                if (name == "PING" || name == "ECHO" || name == "INFO" || name == "CLIENT" || name == "CONFIG" || name == "SELECT") continue;
                sent.Add(string.Join(" ", args.Select((a, i) => i == 0 ? a.ToUpperInvariant() : a)));
                if (args.Contains(sentinel)) return sent;
            }
        }
    }
}
