using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Answers from a record: the facts a verdict was made on, handed back so the same checks decide
    /// the same way. A question the record does not hold goes to the fallback (the network, for a
    /// replay that may ask live) or, without one, fails as a lookup failure would; either way it is
    /// listed in <see cref="Unrecorded"/>.
    /// </summary>
    public sealed class RecordedFacts : IFacts
    {
        readonly IReadOnlyList<Fact> _facts;
        readonly IFacts _fallback;
        readonly bool _askDnsLive;
        readonly List<string> _unrecorded = new List<string>();

        /// <param name="facts">The record's facts.</param>
        /// <param name="fallback">Asked what the record does not hold; null fails those questions.</param>
        /// <param name="askDnsLive">Every DNS question goes to <paramref name="fallback"/>, recorded or not
        /// (a replay that wants today's DNS); ident, state and counts still come from the record.</param>
        public RecordedFacts(IReadOnlyList<Fact> facts, IFacts fallback = null, bool askDnsLive = false)
        {
            _facts = facts ?? throw new ArgumentNullException(nameof(facts));
            _fallback = fallback;
            _askDnsLive = askDnsLive && fallback != null;
        }

        /// <summary>The questions the record could not answer, as "Dns name A", "Ident", "State key".</summary>
        public IReadOnlyList<string> Unrecorded { get { lock (_unrecorded) return _unrecorded.ToArray(); } }

        Fact Find(FactKind kind, string name, DnsRecordType? type)
        {
            foreach (var f in _facts)
                if (f.Answers(kind, name, type)) return f;
            lock (_unrecorded) _unrecorded.Add(kind + (name != null ? " " + name : "") + (type != null ? " " + type : ""));
            return null;
        }

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (_askDnsLive) return _fallback.QueryAsync(name, type, cancellationToken);
            var f = Find(FactKind.Dns, name, type);
            if (f != null) return Task.FromResult(f.ToDnsAnswer());
            return _fallback != null ? _fallback.QueryAsync(name, type, cancellationToken)
                                     : Task.FromResult(DnsAnswer.Failed("not recorded: " + name + " " + type));
        }

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.Ident, null, null);
            if (f != null) return Task.FromResult(f.ToIdentAnswer());
            return _fallback != null ? _fallback.QueryAsync(cancellationToken) : Task.FromResult(IdentAnswer.Failure("not recorded"));
        }

        /// <summary>The count as recorded. Never passed to the fallback: a replay must not raise the
        /// live counters; an unrecorded count is this call's alone.</summary>
        public Task<long> CountAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.Count, key, null);
            return Task.FromResult(f != null ? f.ToCount() : delta);
        }

        public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.State, key, null);
            if (f != null) return Task.FromResult(f.ToStateValue());
            return _fallback != null ? _fallback.ReadStateAsync(key, cancellationToken) : Task.FromResult<string>(null);
        }
    }
}
