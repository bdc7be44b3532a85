using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// One DNS question, one answer. Everything the rules need from DNS (PTR, forward
    /// confirmation, DNSBL, the NS/MX walk) is built on this single call, so the semantics
    /// live in the engine and the transport is swappable (a real server through DnsClient,
    /// or fixed facts for the conformance vectors).
    /// </summary>
    public interface IDnsResolver
    {
        /// <summary>Asks <paramref name="name"/> for records of <paramref name="type"/>.</summary>
        /// <remarks>Never throws for DNS-level outcomes: NXDOMAIN, no data, SERVFAIL and timeouts are
        /// reported in <see cref="DnsAnswer.Status"/>.</remarks>
        /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default);
    }
}
