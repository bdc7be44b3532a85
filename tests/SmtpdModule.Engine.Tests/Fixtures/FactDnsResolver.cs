using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// Answers from the fixed DNS facts of a conformance vector (reference §8): <c>dns.a</c> for
    /// address questions, <c>dns.nsmx</c> for NS and MX. Names not listed do not exist. The
    /// vectors state their DNS facts instead of relying on a resolver; the real-server tests
    /// cover the transport. Every question is recorded, so tests can assert what was asked.
    /// </summary>
    public sealed class FactDnsResolver : IDnsResolver
    {
        readonly Dictionary<string, string[]> _a = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        readonly Dictionary<string, (string[] ns, string[] mx)> _nsmx = new Dictionary<string, (string[], string[])>(StringComparer.OrdinalIgnoreCase);
        readonly HashSet<string> _failing = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        public List<string> Asked { get; } = new List<string>();

        public FactDnsResolver A(string name, params string[] addresses) { _a[Trim(name)] = addresses; return this; }
        public FactDnsResolver NsMx(string name, string[] ns, string[] mx) { _nsmx[Trim(name)] = (ns ?? new string[0], mx ?? new string[0]); return this; }
        /// <summary>Questions about this name fail (as a timeout or SERVFAIL would).</summary>
        public FactDnsResolver Failing(string name) { _failing.Add(Trim(name)); return this; }

        static string Trim(string n) => n.TrimEnd('.');

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Trim(name);
            lock (Asked) Asked.Add(type + " " + n);
            if (_failing.Contains(n)) return Task.FromResult(DnsAnswer.Failed("test failure for " + n));
            switch (type)
            {
                case DnsRecordType.A:
                    return Task.FromResult(_a.TryGetValue(n, out var a) ? DnsAnswer.Ok(a) : Exists(n) ? DnsAnswer.NoData : DnsAnswer.NameError);
                case DnsRecordType.AAAA:
                    return Task.FromResult(Exists(n) ? DnsAnswer.NoData : DnsAnswer.NameError);
                case DnsRecordType.NS:
                    return Task.FromResult(_nsmx.TryGetValue(n, out var s) ? DnsAnswer.Ok(s.ns) : _a.ContainsKey(n) ? DnsAnswer.NoData : DnsAnswer.NameError);
                case DnsRecordType.MX:
                    return Task.FromResult(_nsmx.TryGetValue(n, out var m) ? DnsAnswer.Ok(m.mx) : _a.ContainsKey(n) ? DnsAnswer.NoData : DnsAnswer.NameError);
                default:
                    return Task.FromResult(DnsAnswer.NameError);
            }
        }

        bool Exists(string n) => _a.ContainsKey(n) || _nsmx.ContainsKey(n);
    }
}
