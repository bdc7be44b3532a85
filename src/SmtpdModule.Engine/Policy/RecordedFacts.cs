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
        static readonly string[] NoneUnrecorded = new string[0];
        // Answers that recur in every replay, as tasks made once.
        static readonly Task<DnsAnswer> NameErrorTask = Task.FromResult(DnsAnswer.NameError);
        static readonly Task<string> MissingTask = Task.FromResult<string>(null);
        static readonly Task<IdentAnswer> NoIdentTask = Task.FromResult(IdentAnswer.None);
        static readonly Task<long>[] SmallCounts = MakeCounts(64);

        readonly IReadOnlyList<Fact> _facts;
        readonly IFacts _fallback;
        readonly bool _askDnsLive;
        // Made on the first question the record cannot answer (most records answer every one), and
        // locked itself: questions may run in parallel.
        List<string> _unrecorded;

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

        static Task<long>[] MakeCounts(int n)
        {
            var tasks = new Task<long>[n];
            for (int i = 0; i < n; i++) tasks[i] = Task.FromResult((long)i);
            return tasks;
        }

        /// <summary>The questions the record could not answer, as "Dns name A", "Ident", "State key".</summary>
        public IReadOnlyList<string> Unrecorded
        {
            get
            {
                var list = Volatile.Read(ref _unrecorded);
                if (list == null) return NoneUnrecorded;
                lock (list) return list.ToArray();
            }
        }

        Fact Find(FactKind kind, string name, DnsRecordType? type)
        {
            // A record holds a handful of facts: a scan is cheaper than any index.
            for (int i = 0; i < _facts.Count; i++)
            {
                var f = _facts[i];
                if (f.Answers(kind, name, type)) return f;
            }
            var list = Volatile.Read(ref _unrecorded);
            if (list == null)
            {
                Interlocked.CompareExchange(ref _unrecorded, new List<string>(), null);
                list = _unrecorded;
            }
            lock (list) list.Add(kind + (name != null ? " " + name : "") + (type != null ? " " + type : ""));
            return null;
        }

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (_askDnsLive) return _fallback.QueryAsync(name, type, cancellationToken);
            var f = Find(FactKind.Dns, name, type);
            if (f != null)
            {
                var answer = f.ToDnsAnswer();
                return ReferenceEquals(answer, DnsAnswer.NameError) ? NameErrorTask : Task.FromResult(answer);
            }
            return _fallback != null ? _fallback.QueryAsync(name, type, cancellationToken)
                                     : Task.FromResult(DnsAnswer.Failed("not recorded: " + name + " " + type));
        }

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.Ident, null, null);
            if (f != null)
            {
                var answer = f.ToIdentAnswer();
                return ReferenceEquals(answer, IdentAnswer.None) ? NoIdentTask : Task.FromResult(answer);
            }
            return _fallback != null ? _fallback.QueryAsync(cancellationToken) : Task.FromResult(IdentAnswer.Failure("not recorded"));
        }

        /// <summary>The count as recorded. Never passed to the fallback: a replay must not raise the
        /// live counters; an unrecorded count is this call's alone.</summary>
        public Task<long> CountAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.Count, key, null);
            var count = f != null ? f.ToCount() : delta;
            return count >= 0 && count < SmallCounts.Length ? SmallCounts[count] : Task.FromResult(count);
        }

        public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default)
        {
            var f = Find(FactKind.State, key, null);
            if (f != null)
            {
                var value = f.ToStateValue();
                return value == null ? MissingTask : Task.FromResult(value);
            }
            return _fallback != null ? _fallback.ReadStateAsync(key, cancellationToken) : MissingTask;
        }
    }
}
