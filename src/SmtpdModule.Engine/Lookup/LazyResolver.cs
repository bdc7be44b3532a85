using System;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>Builds the real resolver on the first question. A resolver that cannot be built
    /// (no servers given and none configured) answers every question as failed, so the rules that
    /// need DNS take the default action instead of the whole test failing.</summary>
    internal sealed class LazyResolver : IDnsResolver, IDisposable
    {
        readonly DnsResolverOptions _options;
        readonly object _gate = new object();
        DnsClientResolver _resolver;
        string _unusable;
        bool _disposed;

        public LazyResolver(DnsResolverOptions options) { _options = options.Clone(); }

        public bool IsDisposed { get { lock (_gate) return _disposed; } }

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            DnsClientResolver resolver;
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(LazyResolver));
                if (_resolver == null && _unusable == null)
                {
                    try { _resolver = new DnsClientResolver(_options); }
                    catch (InvalidOperationException ex) { _unusable = ex.Message; }
                }
                resolver = _resolver;
            }
            return resolver != null ? resolver.QueryAsync(name, type, cancellationToken) : Task.FromResult(DnsAnswer.Failed(_unusable));
        }

        public void Dispose()
        {
            DnsClientResolver resolver;
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                resolver = _resolver;
                _resolver = null;
            }
            resolver?.Dispose();
        }
    }
}
