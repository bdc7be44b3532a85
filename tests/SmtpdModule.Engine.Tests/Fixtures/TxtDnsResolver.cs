using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// TXT and A answers from a table, for SPF on the decision path; names not listed do not exist,
    /// and "silent" names never answer (until the question is cancelled), as a dead server would.
    /// Every question is counted, so a test sees what a cache saved.
    /// </summary>
    public sealed class TxtDnsResolver : IDnsResolver
    {
        readonly Dictionary<string, string[]> _txt = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        readonly Dictionary<string, string[]> _a = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        readonly HashSet<string> _silent = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int _asked;

        public int Asked => Volatile.Read(ref _asked);

        public TxtDnsResolver Txt(string name, params string[] values) { _txt[name] = values; return this; }
        public TxtDnsResolver A(string name, params string[] addresses) { _a[name] = addresses; return this; }
        public TxtDnsResolver Silent(string name) { _silent.Add(name); return this; }

        public async Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _asked);
            name = name.TrimEnd('.');
            if (_silent.Contains(name)) await Task.Delay(Timeout.Infinite, cancellationToken);
            var table = type == DnsRecordType.TXT ? _txt : type == DnsRecordType.A ? _a : null;
            if (table != null && table.TryGetValue(name, out var values)) return DnsAnswer.Ok(values);
            return _txt.ContainsKey(name) || _a.ContainsKey(name) ? DnsAnswer.NoData : DnsAnswer.NameError;
        }
    }
}
