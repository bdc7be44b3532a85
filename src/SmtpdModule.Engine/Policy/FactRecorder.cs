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

        static readonly Fact[] NoFacts = new Fact[0];

        readonly IFacts _inner;
        // Null when nothing is kept: a replay's session is handed the facts it would record.
        readonly List<Fact> _facts;
        readonly object _gate;

        public FactRecorder(IFacts inner) : this(inner, keep: true) { }

        /// <param name="inner">Where the questions go.</param>
        /// <param name="keep">False: every question goes to <paramref name="inner"/> and nothing is kept
        /// (<see cref="Facts"/> stays empty), for a session whose facts are already on record.</param>
        internal FactRecorder(IFacts inner, bool keep)
        {
            _inner = inner;
            if (!keep) return;
            _facts = new List<Fact>();
            _gate = new object();
        }

        /// <summary>The answers so far, oldest first (a copy).</summary>
        public IReadOnlyList<Fact> Facts
        {
            get
            {
                if (_facts == null) return NoFacts;
                lock (_gate) return _facts.ToArray();
            }
        }

        // An answer already at hand (a cache hit, a recorded fact) is kept at once and its task handed
        // on as it is: no state machine and no second task for the common case.
        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            Task<DnsAnswer> asked;
            try { asked = _inner.QueryAsync(name, type, cancellationToken); }
            catch (System.Exception ex) { return Failed<DnsAnswer>(ex); }
            if (_facts == null) return asked;
            if (asked.Status != TaskStatus.RanToCompletion) return KeepDnsAsync(asked, name, type);
            Keep(Fact.FromDns(name, type, asked.Result));
            return asked;
        }

        async Task<DnsAnswer> KeepDnsAsync(Task<DnsAnswer> asked, string name, DnsRecordType type)
        {
            var answer = await asked.ConfigureAwait(false);
            Keep(Fact.FromDns(name, type, answer));
            return answer;
        }

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default)
        {
            Task<IdentAnswer> asked;
            try { asked = _inner.QueryAsync(cancellationToken); }
            catch (System.Exception ex) { return Failed<IdentAnswer>(ex); }
            if (asked.Status != TaskStatus.RanToCompletion || asked.Result == null) return KeepIdentAsync(asked);
            if (_facts == null) return asked;
            Keep(Fact.FromIdent(asked.Result));
            return asked;
        }

        async Task<IdentAnswer> KeepIdentAsync(Task<IdentAnswer> asked)
        {
            var answer = await asked.ConfigureAwait(false) ?? IdentAnswer.None;
            if (_facts != null) Keep(Fact.FromIdent(answer));
            return answer;
        }

        public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default)
        {
            Task<string> asked;
            try { asked = _inner.ReadStateAsync(key, cancellationToken); }
            catch (System.Exception ex) { return Failed<string>(ex); }
            if (_facts == null) return asked;
            if (asked.Status != TaskStatus.RanToCompletion) return KeepStateAsync(asked, key);
            Keep(Fact.FromState(key, asked.Result));
            return asked;
        }

        async Task<string> KeepStateAsync(Task<string> asked, string key)
        {
            var value = await asked.ConfigureAwait(false);
            Keep(Fact.FromState(key, value));
            return value;
        }

        public Task<long> CountAsync(string key, long delta, System.TimeSpan window, CancellationToken cancellationToken = default)
        {
            Task<long> asked;
            try { asked = _inner.CountAsync(key, delta, window, cancellationToken); }
            catch (System.Exception ex) { return Failed<long>(ex); }
            if (_facts == null) return asked;
            if (asked.Status != TaskStatus.RanToCompletion) return KeepCountAsync(asked, key);
            Keep(Fact.FromCount(key, asked.Result));
            return asked;
        }

        async Task<long> KeepCountAsync(Task<long> asked, string key)
        {
            var value = await asked.ConfigureAwait(false);
            Keep(Fact.FromCount(key, value));
            return value;
        }

        /// <summary>A question that threw before it returned a task ends as an awaited one would: faulted, or cancelled.</summary>
        static Task<T> Failed<T>(System.Exception ex)
        {
            if (!(ex is System.OperationCanceledException oce)) return Task.FromException<T>(ex);
            var cancelled = new TaskCompletionSource<T>();
            cancelled.SetCanceled();
            return cancelled.Task;
        }

        void Keep(Fact fact)
        {
            // Questions may run in parallel (A and AAAA of one host).
            lock (_gate)
            {
                // One fact per question: a question asked again replaces its answer (the list never holds two).
                for (int i = _facts.Count - 1; i >= 0; i--)
                    if (_facts[i].Answers(fact.Kind, fact.Name, fact.RecordType)) { _facts.RemoveAt(i); break; }
                if (_facts.Count >= Limit) _facts.RemoveAt(0);
                _facts.Add(fact);
            }
        }
    }
}
