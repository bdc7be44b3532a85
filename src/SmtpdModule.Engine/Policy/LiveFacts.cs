using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>Facts from the network as it answers now: one resolver, one ident source, one state reader.</summary>
    public sealed class LiveFacts : IFacts
    {
        readonly IDnsResolver _dns;
        readonly IIdentSource _ident;
        readonly Func<string, CancellationToken, Task<string>> _readState;
        readonly IStateStore _state;

        /// <param name="dns">The resolver; null answers every question as failed ("no DNS resolver").</param>
        /// <param name="ident">The ident source; null means the client has no ident answer.</param>
        /// <param name="readState">Reads the state store; null means an empty store.</param>
        public LiveFacts(IDnsResolver dns, IIdentSource ident = null, Func<string, CancellationToken, Task<string>> readState = null)
        {
            _dns = dns;
            _ident = ident ?? FixedIdentSource.None;
            _readState = readState;
        }

        /// <param name="dns">The resolver; null answers every question as failed ("no DNS resolver").</param>
        /// <param name="ident">The ident source; null means the client has no ident answer.</param>
        /// <param name="state">The state store reads go to; null means an empty store.</param>
        public LiveFacts(IDnsResolver dns, IIdentSource ident, IStateStore state)
            : this(dns, ident, state == null ? null : new Func<string, CancellationToken, Task<string>>(state.GetAsync))
        {
            _state = state;
        }

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default) =>
            _dns == null ? Task.FromResult(DnsAnswer.Failed("no DNS resolver")) : _dns.QueryAsync(name, type, cancellationToken);

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default) => _ident.QueryAsync(cancellationToken);

        /// <summary>Counts in the state store; without one every count is this call's alone.</summary>
        public Task<long> CountAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default) =>
            _state == null ? Task.FromResult(delta) : _state.IncrementAsync(key, delta, window, cancellationToken);

        public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default) =>
            _readState == null ? Task.FromResult<string>(null) : _readState(key, cancellationToken);
    }
}
