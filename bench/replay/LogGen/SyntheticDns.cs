using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Bench.Replay
{
    /// <summary>
    /// The DNS of the benchmark's Internet, computed from the name: most clients have a name that
    /// confirms, some have none, one in twenty is on the test DNSBL. Answers carry a TTL as a real
    /// resolver's would, so the log carries them too.
    /// </summary>
    sealed class SyntheticDns : IFacts
    {
        public const string Dnsbl = "zen.bench.test";

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (type == DnsRecordType.PTR && name.EndsWith(".in-addr.arpa", StringComparison.Ordinal))
            {
                var n = Hash(name);
                return Answer(n % 10 < 7 ? DnsAnswer.Of(DnsStatus.Ok, new[] { HostOf(name) }, null, 3600) : DnsAnswer.NameError);
            }
            if (type == DnsRecordType.A && name.EndsWith("." + Dnsbl, StringComparison.Ordinal))
                return Answer(Hash(name) % 20 == 0 ? DnsAnswer.Of(DnsStatus.Ok, new[] { "127.0.0.2" }, null, 300) : DnsAnswer.NameError);
            if (type == DnsRecordType.A && name.StartsWith("mail-", StringComparison.Ordinal))
                return Answer(DnsAnswer.Of(DnsStatus.Ok, new[] { AddressOf(name) }, null, 3600));
            return Answer(DnsAnswer.NameError);
        }

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default) => Task.FromResult(IdentAnswer.None);
        public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<string>(null);
        public Task<long> CountAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default) => Task.FromResult(delta);

        static Task<DnsAnswer> Answer(DnsAnswer a) => Task.FromResult(a);

        // "4.3.2.1.in-addr.arpa" -> "mail-1-2-3-4.isp7.bench.example"; the A question reverses it.
        static string HostOf(string ptrName)
        {
            var p = ptrName.Split('.');
            return "mail-" + p[3] + "-" + p[2] + "-" + p[1] + "-" + p[0] + ".isp" + (Hash(ptrName) % 50) + ".bench.example";
        }

        static string AddressOf(string host) => host.Substring(5, host.IndexOf('.') - 5).Replace('-', '.');

        static uint Hash(string s)
        {
            uint h = 2166136261;
            foreach (var c in s) h = (h ^ c) * 16777619;
            return h;
        }
    }
}
