using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Passes every question to another <see cref="IFacts"/> and keeps each answer, so a decision
    /// record can carry the facts its verdict depended on. One per session; a bounded list (a
    /// session's checks ask each question once, through the rules' cache), never shared.
    /// </summary>
    public sealed class FactRecorder : IFacts
    {
        /// <summary>Facts kept per session; beyond this the oldest are dropped (a replay then asks live for them).</summary>
        public const int Limit = 512;

        readonly IFacts _inner;
        readonly List<Fact> _facts = new List<Fact>();
        readonly object _gate = new object();

        public FactRecorder(IFacts inner) { _inner = inner; }

        /// <summary>The answers so far, oldest first (a copy).</summary>
        public IReadOnlyList<Fact> Facts { get { lock (_gate) return _facts.ToArray(); } }

        public async Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            var answer = await _inner.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
            Keep(Fact.FromDns(name, type, answer));
            return answer;
        }

        public async Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default)
        {
            var answer = await _inner.QueryAsync(cancellationToken).ConfigureAwait(false) ?? IdentAnswer.None;
            Keep(Fact.FromIdent(answer));
            return answer;
        }

        public async Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default)
        {
            var value = await _inner.ReadStateAsync(key, cancellationToken).ConfigureAwait(false);
            Keep(Fact.FromState(key, value));
            return value;
        }

        public async Task<long> CountAsync(string key, long delta, System.TimeSpan window, CancellationToken cancellationToken = default)
        {
            var value = await _inner.CountAsync(key, delta, window, cancellationToken).ConfigureAwait(false);
            Keep(Fact.FromCount(key, value));
            return value;
        }

        void Keep(Fact fact)
        {
            // Questions may run in parallel (A and AAAA of one host).
            lock (_gate)
            {
                _facts.RemoveAll(f => f.Answers(fact.Kind, fact.Name, fact.RecordType));
                if (_facts.Count >= Limit) _facts.RemoveAt(0);
                _facts.Add(fact);
            }
        }
    }
}
