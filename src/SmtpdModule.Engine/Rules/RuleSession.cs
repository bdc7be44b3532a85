using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// What one SMTP session has learnt for its rule checks: DNS facts and the ident answer,
    /// cached with a bound, so a session asks each question once. Not thread-safe: a session
    /// checks one recipient at a time.
    /// </summary>
    public sealed class RuleSession
    {
        /// <summary>Facts kept between checks; beyond this the cache starts afresh at the next check.</summary>
        public const int CacheLimit = 256;
        /// <summary>Distinct lookups one check may need; beyond this the check fails (default action).</summary>
        public const int LookupsPerCheckLimit = 1024;

        internal enum FactKind { Ident, Dnsbl, Host, NameServers, DnsblHealth, Spf, State }

        readonly Dictionary<FactKey, object> _facts = new Dictionary<FactKey, object>();
        readonly RuleLookups _lookups;
        readonly IIdentSource _ident;
        readonly Func<string, CancellationToken, Task<string>> _readState;

        /// <param name="lookups">DNS; null means every DNS-based check fails (and takes the default action).</param>
        /// <param name="ident">The ident answer source; null means no ident answer.</param>
        /// <param name="readState">Reads the state store, where the DNSBL health guard keeps each zone's
        /// health (<see cref="DnsblHealth"/>); null: every zone's health is unknown (healthy).</param>
        public RuleSession(RuleLookups lookups, IIdentSource ident = null, Func<string, CancellationToken, Task<string>> readState = null)
        {
            _lookups = lookups;
            _ident = ident ?? FixedIdentSource.None;
            _readState = readState;
        }

        /// <summary>A session that can answer no DNS question and has no ident: for rules that need neither.</summary>
        public static RuleSession Offline() => new RuleSession(null, null);

        /// <summary>The SPF check of the open transaction (started at MAIL); null: SPF is not checked,
        /// and <c>SPF=</c> tokens see TempError.</summary>
        Func<CancellationToken, Task<Spf.SpfCheckResult>> _spf;

        /// <summary>A new transaction: its SPF check replaces the last one's, whose result is forgotten.</summary>
        internal void UseSpf(Func<CancellationToken, Task<Spf.SpfCheckResult>> check)
        {
            _spf = check;
            _facts.Remove(new FactKey(FactKind.Spf, null));
        }

        internal int Count => _facts.Count;

        internal void BeginCheck()
        {
            if (_facts.Count > CacheLimit) _facts.Clear();
        }

        internal bool TryGet(FactKind kind, string name, out object value) => _facts.TryGetValue(new FactKey(kind, name), out value);

        internal async Task FetchAsync(FactKind kind, string name, CancellationToken cancellationToken) =>
            _facts[new FactKey(kind, name)] = await LoadAsync(kind, name, cancellationToken).ConfigureAwait(false);

        /// <summary>Asks several questions of one kind at once (a score's zones); the answers are stored
        /// together after all have come, so the cache is only touched from the checking thread.</summary>
        internal async Task FetchAllAsync(FactKind kind, IReadOnlyList<string> names, CancellationToken cancellationToken)
        {
            var tasks = new Task<object>[names.Count];
            for (int i = 0; i < tasks.Length; i++) tasks[i] = LoadAsync(kind, names[i], cancellationToken);
            var values = await Task.WhenAll(tasks).ConfigureAwait(false);
            for (int i = 0; i < values.Length; i++) _facts[new FactKey(kind, names[i])] = values[i];
        }

        async Task<object> LoadAsync(FactKind kind, string name, CancellationToken cancellationToken)
        {
            object value;
            switch (kind)
            {
                case FactKind.Ident:
                    value = new IdentFact(await _ident.QueryAsync(cancellationToken).ConfigureAwait(false) ?? IdentAnswer.None);
                    break;
                case FactKind.Dnsbl:
                    value = _lookups == null ? DnsblAnswer.Failed("no DNS resolver") : await _lookups.DnsblAsync(name, cancellationToken).ConfigureAwait(false);
                    break;
                case FactKind.State:
                    try { value = _readState == null ? null : await _readState(name, cancellationToken).ConfigureAwait(false); }
                    catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
                    {
                        value = new StateReadFailure(ex.Message);   // the caller's fail mode decides
                    }
                    break;
                case FactKind.Spf:
                    value = _spf == null ? Spf.SpfCheckResult.NotChecked : await _spf(cancellationToken).ConfigureAwait(false);
                    break;
                case FactKind.DnsblHealth:
                    // A store that cannot be read: the zone's health is unknown, so it is asked as healthy.
                    try { value = _readState == null ? null : await _readState(DnsblHealth.StateKey(name), cancellationToken).ConfigureAwait(false); }
                    catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested) { value = null; }
                    break;
                case FactKind.Host:
                    value = _lookups == null
                        ? new HostAddresses(LookupOutcome.Failed, null, "no DNS resolver")
                        : await _lookups.ResolveHostAsync(name, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    var set = _lookups == null
                        ? new NameServerSet(LookupOutcome.Failed, null, null, 0, "no DNS resolver")
                        : await _lookups.DiscoverNameServersAsync(name, cancellationToken).ConfigureAwait(false);
                    value = new NameServerFacts(set);
                    break;
            }
            return value;
        }

        /// <summary>A state store read that failed (the store unreachable or too slow).</summary>
        internal sealed class StateReadFailure
        {
            public StateReadFailure(string reason) { Reason = reason; }
            public string Reason { get; }
        }

        internal sealed class IdentFact
        {
            public IdentFact(IdentAnswer answer)
            {
                // Cleaned and lower-cased (reference §2.5); an empty answer is no answer.
                var user = answer.User;
                User = string.IsNullOrEmpty(user) ? null : PeerText.CleanName(user.Trim()).ToLowerInvariant();
                if (User != null && User.Length == 0) User = null;
                Failure = answer.Failed ? answer.Error : null;
            }
            public string User { get; }
            /// <summary>Why the query could not tell; null when it did (with a user or without).</summary>
            public string Failure { get; }
        }

        internal sealed class NameServerFacts
        {
            public NameServerFacts(NameServerSet set)
            {
                Set = set;
                Peers = new PeerAddress[set.Addresses.Count];
                for (int i = 0; i < Peers.Length; i++) Peers[i] = new PeerAddress(set.Addresses[i]);
            }
            public NameServerSet Set { get; }
            public PeerAddress[] Peers { get; }
        }

        readonly struct FactKey : IEquatable<FactKey>
        {
            readonly FactKind _kind;
            readonly string _name;
            public FactKey(FactKind kind, string name) { _kind = kind; _name = name ?? ""; }
            public bool Equals(FactKey other) => _kind == other._kind && string.Equals(_name, other._name, StringComparison.OrdinalIgnoreCase);
            public override bool Equals(object obj) => obj is FactKey k && Equals(k);
            public override int GetHashCode() => ((int)_kind * 397) ^ StringComparer.OrdinalIgnoreCase.GetHashCode(_name);
        }
    }
}
