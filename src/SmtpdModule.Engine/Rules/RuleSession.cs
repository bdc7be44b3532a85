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

        readonly SmallMap<FactKey, object> _facts = new SmallMap<FactKey, object>();
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

        // The candidate lines of the last input: a scan that stops for a fact starts again with the
        // same input, and its candidates (a function of the input alone) need not be looked up again.
        RuleIndex _collectedIndex;
        RuleInput _collectedFor;
        int[][] _collected;
        int _collectedCount;

        internal void Collect(RuleIndex index, RuleInput input, ref CandidateCursor cursor)
        {
            if (ReferenceEquals(input, _collectedFor) && ReferenceEquals(index, _collectedIndex))
            {
                for (int i = 0; i < _collectedCount; i++) cursor.Add(_collected[i]);
                return;
            }
            index.Collect(input, ref cursor);
            _collectedCount = cursor.CopyTo(ref _collected);
            _collectedFor = input;
            _collectedIndex = index;
        }

        // The last DNSBL name asked: a scan that stops for a fact starts again and asks the same name.
        PeerAddress _dnsblPeer;
        string _dnsblZone, _dnsblName;

        /// <summary>The DNSBL query name of <paramref name="peer"/> in <paramref name="zone"/> (<see cref="ReverseNames.DnsblName(System.Net.IPAddress, string)"/>).</summary>
        internal string DnsblName(PeerAddress peer, string zone)
        {
            if (!ReferenceEquals(peer, _dnsblPeer) || !string.Equals(zone, _dnsblZone, StringComparison.Ordinal))
            {
                _dnsblName = ReverseNames.DnsblNameOf(peer, zone);
                _dnsblPeer = peer;
                _dnsblZone = zone;
            }
            return _dnsblName;
        }

        internal void BeginCheck()
        {
            if (_facts.Count > CacheLimit) _facts.Clear();
        }

        internal bool TryGet(FactKind kind, string name, out object value) => _facts.TryGetValue(new FactKey(kind, name), out value);

        /// <summary>Fetches one fact into the cache: at once when its answer is at hand (a cached or
        /// recorded answer: no task is made for it), else when it comes.</summary>
        internal Task FetchAsync(FactKind kind, string name, CancellationToken cancellationToken)
        {
            if (TryLoadNow(kind, name, cancellationToken, out var value, out var pending))
            {
                _facts.Set(new FactKey(kind, name), value);
                return Task.CompletedTask;
            }
            return StoreWhenLoadedAsync(kind, name, pending);
        }

        async Task StoreWhenLoadedAsync(FactKind kind, string name, Task<object> pending) =>
            _facts.Set(new FactKey(kind, name), await pending.ConfigureAwait(false));

        /// <summary>The fact's value when its answer is at hand; otherwise false and the load to wait for.
        /// The DNSBL questions, asked for most recipients, come this way without a task of their own;
        /// the others go through <see cref="LoadAsync"/>, whose task is looked at before it is awaited.</summary>
        bool TryLoadNow(FactKind kind, string name, CancellationToken cancellationToken, out object value, out Task<object> pending)
        {
            value = null;
            pending = null;
            switch (kind)
            {
                case FactKind.DnsblHealth:
                    if (_readState == null) return true;
                    Task<string> read;
                    try { read = _readState(DnsblHealth.StateKey(name), cancellationToken); }
                    catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested) { return true; }
                    if (read.Status == TaskStatus.RanToCompletion) { value = read.Result; return true; }
                    pending = HealthWhenReadAsync(read, cancellationToken);
                    return false;
                case FactKind.Dnsbl when _lookups != null:
                    var asked = _lookups.AskDnsbl(name, cancellationToken);
                    if (asked.Status == TaskStatus.RanToCompletion) { value = DnsblAnswer.From(asked.Result); return true; }
                    pending = DnsblWhenAnsweredAsync(asked);
                    return false;
            }
            var load = LoadAsync(kind, name, cancellationToken);
            if (load.Status == TaskStatus.RanToCompletion) { value = load.Result; return true; }
            pending = load;
            return false;
        }

        // As LoadAsync's DnsblHealth case: a store that cannot be read leaves the zone's health unknown (healthy).
        static async Task<object> HealthWhenReadAsync(Task<string> read, CancellationToken cancellationToken)
        {
            try { return await read.ConfigureAwait(false); }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested) { return null; }
        }

        static async Task<object> DnsblWhenAnsweredAsync(Task<DnsAnswer> asked) => DnsblAnswer.From(await asked.ConfigureAwait(false));

        /// <summary>Asks several questions of one kind at once (a score's zones); the answers are stored
        /// together after all have come, so the cache is only touched from the checking thread.</summary>
        internal async Task FetchAllAsync(FactKind kind, IReadOnlyList<string> names, CancellationToken cancellationToken)
        {
            var tasks = new Task<object>[names.Count];
            for (int i = 0; i < tasks.Length; i++) tasks[i] = LoadAsync(kind, names[i], cancellationToken);
            var values = await Task.WhenAll(tasks).ConfigureAwait(false);
            for (int i = 0; i < values.Length; i++) _facts.Set(new FactKey(kind, names[i]), values[i]);
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
