using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;
using DnsClient.Protocol;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Asks real DNS servers, through DnsClient's <see cref="LookupClient"/>. This is the resolver the
    /// proxy runs with; the rules see only <see cref="IDnsResolver"/>.
    /// </summary>
    /// <remarks>
    /// What it trusts: the servers it is given (or the system's), for recursion. It keeps no cache:
    /// the rules ask each fact once per session, and the recursive server caches with the record TTLs.
    /// <para>Each question is the exact, absolute name given; no search suffix is ever appended, so
    /// <c>mail</c> is the single-label name <c>mail.</c>, not <c>mail.example.org</c>.</para>
    /// <para>Outcomes: NOERROR is <see cref="DnsStatus.Ok"/> with the answer section's records of the
    /// asked type (a CNAME chain's target records count; the CNAMEs themselves do not); NXDOMAIN is
    /// <see cref="DnsStatus.NameError"/>; everything else (SERVFAIL, REFUSED, other response codes,
    /// no answer in time, unreadable responses, socket errors, a name that cannot be asked) is
    /// <see cref="DnsStatus.Failed"/> with the reason.</para>
    /// <para>An error response ends the question: a SERVFAIL or REFUSED from the first server is not
    /// asked again of the next one (DnsClient's ContinueOnDnsError is off, because with it on an
    /// NXDOMAIN would be asked of every server too). Only a server that does not answer in time,
    /// or cannot be reached, moves the question to the next server.</para>
    /// </remarks>
    public sealed class DnsClientResolver : IDnsResolver, IDisposable
    {
        const int MaxNameLength = 253;   // RFC 1035 section 2.3.4: 255 octets on the wire
        const int MaxLabelLength = 63;

        readonly LookupClient _client;
        readonly SemaphoreSlim _slots;
        readonly DnsResolverOptions _options;
        volatile bool _disposed;

        /// <summary>Creates a resolver that asks this system's configured DNS servers with the default options.</summary>
        /// <exception cref="InvalidOperationException">The system has no usable DNS server configured.</exception>
        public DnsClientResolver()
            : this(new DnsResolverOptions())
        {
        }

        /// <summary>Creates a resolver with <paramref name="options"/> (copied: later changes to the
        /// object have no effect on this resolver).</summary>
        /// <param name="options">Servers, timeout, retries and concurrency.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="InvalidOperationException"><see cref="DnsResolverOptions.Servers"/> is empty and the
        /// system has no usable DNS server configured.</exception>
        public DnsClientResolver(DnsResolverOptions options)
        {
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            _options = options.Clone();

            var lookup = _options.Servers.Count == 0
                ? new LookupClientOptions()                                  // AutoResolveNameServers: the system's
                : new LookupClientOptions(_options.Servers.ToArray());
            lookup.UseCache = false;
            lookup.Recursion = true;
            lookup.Timeout = _options.Timeout;
            lookup.Retries = _options.Retries;
            lookup.UseTcpFallback = _options.UseTcpFallback;
            lookup.UseTcpOnly = false;
            // Error responses come back as responses, to be mapped below, never as exceptions.
            lookup.ThrowDnsErrors = false;
            lookup.ContinueOnDnsError = false;
            // An empty NOERROR answer (NODATA) is an answer, not a reason to ask the next server.
            lookup.ContinueOnEmptyResponse = false;
            // Servers are asked in the order the administrator gave, like resolv.conf without "rotate".
            lookup.UseRandomNameServer = false;
            lookup.EnableAuditTrail = false;

            try
            {
                _client = new LookupClient(lookup);
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException(
                    "No DNS servers were given and none usable are configured on this system.", ex);
            }

            _slots = new SemaphoreSlim(_options.MaxConcurrentQueries, _options.MaxConcurrentQueries);
        }

        /// <summary>The servers asked, in order: the configured ones, or those the system had when
        /// the resolver was built (DnsClient re-reads the system's list about once a minute).</summary>
        public IReadOnlyList<IPEndPoint> Servers => _client.NameServers.Select(s => new IPEndPoint(IPAddress.Parse(s.Address), s.Port)).ToArray();

        /// <summary>A copy of the options this resolver was built with.</summary>
        public DnsResolverOptions Options => _options.Clone();

        /// <summary>Asks for the records of <paramref name="type"/> at <paramref name="name"/>.</summary>
        /// <param name="name">The exact name to ask, with or without the trailing dot; for PTR the full
        /// reverse name (see <see cref="ReverseNames.ReverseName"/>).</param>
        /// <param name="type">The record type.</param>
        /// <param name="cancellationToken">Abandons the question, including the wait for a free slot.</param>
        /// <returns>Ok with the values (possibly none), NameError, or Failed with the reason. A name that
        /// is not a valid DNS name (empty, an empty label, a label over 63 or a name over 253 characters)
        /// is Failed without asking: such text usually comes from a client (HELO, MAIL FROM) and proves nothing.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a <see cref="DnsRecordType"/>.</exception>
        /// <exception cref="ObjectDisposedException">The resolver has been disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (name == null)
                throw new ArgumentNullException(nameof(name));
            var queryType = ToQueryType(type);
            if (_disposed)
                throw new ObjectDisposedException(nameof(DnsClientResolver));

            if (!TryMakeQuestion(name, queryType, out var question, out var invalid))
                return Task.FromResult(DnsAnswer.Failed(invalid));

            return QueryCoreAsync(question, type, cancellationToken);
        }

        /// <summary>Stops new questions; those already asked finish normally.</summary>
        public void Dispose()
        {
            // The semaphore is not disposed: questions in flight still release their slot, and a
            // SemaphoreSlim whose AvailableWaitHandle was never used holds no kernel object.
            _disposed = true;
        }

        async Task<DnsAnswer> QueryCoreAsync(DnsQuestion question, DnsRecordType type, CancellationToken cancellationToken)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                IDnsQueryResponse response;
                try
                {
                    response = await _client.QueryAsync(question, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsTransportFailure(ex))
                {
                    // DnsClient reports a cancelled question as a timeout (DnsResponseException with
                    // code ConnectionTimeout wrapping the OperationCanceledException): give the
                    // caller its cancellation back.
                    cancellationToken.ThrowIfCancellationRequested();
                    return DnsAnswer.Failed(Describe(question, ex));
                }

                return Map(response, question, type);
            }
            finally
            {
                _slots.Release();
            }
        }

        static DnsAnswer Map(IDnsQueryResponse response, DnsQuestion question, DnsRecordType type)
        {
            var rcode = response.Header.ResponseCode;
            if (rcode == DnsHeaderResponseCode.NotExistentDomain)
                return DnsAnswer.NameError.WithTimeToLive(NegativeTtl(response));
            if (rcode != DnsHeaderResponseCode.NoError)
                return DnsAnswer.Failed(RcodeText(rcode) + " from " + response.NameServer + " for " + Describe(question));

            var values = new List<string>();
            switch (type)
            {
                case DnsRecordType.A:
                    foreach (var r in response.Answers.OfType<ARecord>())
                        values.Add(r.Address.ToString());
                    break;
                case DnsRecordType.AAAA:
                    foreach (var r in response.Answers.OfType<AaaaRecord>())
                        values.Add(r.Address.ToString());
                    break;
                case DnsRecordType.NS:
                    foreach (var r in response.Answers.OfType<NsRecord>())
                        values.Add(HostName(r.NSDName));
                    break;
                case DnsRecordType.MX:
                    // Most preferred first (RFC 5321 section 5.1); equal preferences keep the server's order.
                    foreach (var r in response.Answers.OfType<MxRecord>().OrderBy(m => m.Preference))
                        values.Add(HostName(r.Exchange));
                    break;
                case DnsRecordType.PTR:
                    foreach (var r in response.Answers.OfType<PtrRecord>())
                        values.Add(HostName(r.PtrDomainName));
                    break;
                case DnsRecordType.TXT:
                    // RFC 7208 §3.3: a record's character-strings are joined with nothing between them.
                    // Text is the UTF-8 reading of the bytes, so non-ASCII stays visible to SPF's checks.
                    foreach (var r in response.Answers.OfType<TxtRecord>())
                        values.Add(string.Concat(r.Text));
                    break;
            }

            if (values.Count == 0) return DnsAnswer.NoData.WithTimeToLive(NegativeTtl(response));
            int? ttl = null;
            foreach (var r in response.Answers)
                if (ttl == null || r.InitialTimeToLive < ttl) ttl = r.InitialTimeToLive;
            return DnsAnswer.Ok(values).WithTimeToLive(ttl);
        }

        /// <summary>RFC 2308 §5: a negative answer lives as long as the smaller of the SOA's TTL and its MINIMUM.</summary>
        static int? NegativeTtl(IDnsQueryResponse response)
        {
            foreach (var soa in response.Authorities.OfType<SoaRecord>())
                return (int)Math.Min((uint)Math.Max(soa.InitialTimeToLive, 0), soa.Minimum);
            return null;
        }

        // Failures of the exchange itself, as DnsClient 1.8 reports them. Anything else is a bug and propagates.
        static bool IsTransportFailure(Exception ex) =>
            ex is DnsResponseException
            || ex is DnsResponseParseException
            || ex is DnsXidMismatchException
            || ex is SocketException
            || ex is IOException
            || ex is TimeoutException
            || ex is OperationCanceledException;   // a cancelled token is rethrown by the caller's check

        static bool TryMakeQuestion(string name, QueryType type, out DnsQuestion question, out string invalid)
        {
            question = null;
            invalid = null;

            var bare = name.EndsWith(".", StringComparison.Ordinal) ? name.Substring(0, name.Length - 1) : name;
            string why = null;
            if (bare.Length == 0)
                why = "the name is empty";
            else if (bare.Length > MaxNameLength)
                why = "the name is longer than " + MaxNameLength.ToString(CultureInfo.InvariantCulture) + " characters";
            else
            {
                foreach (var label in bare.Split('.'))
                {
                    if (label.Length == 0) { why = "the name has an empty label"; break; }
                    if (label.Length > MaxLabelLength) { why = "a label is longer than " + MaxLabelLength.ToString(CultureInfo.InvariantCulture) + " characters"; break; }
                }
            }

            if (why == null)
            {
                try
                {
                    // Absolute: the trailing dot keeps any resolver layer from appending a search suffix.
                    question = new DnsQuestion(bare + ".", type, QueryClass.IN);
                    return true;
                }
                catch (ArgumentException ex)
                {
                    why = ex.Message;
                }
            }

            invalid = "'" + name + "' is not a valid DNS name: " + why;
            return false;
        }

        static QueryType ToQueryType(DnsRecordType type)
        {
            switch (type)
            {
                case DnsRecordType.A: return QueryType.A;
                case DnsRecordType.AAAA: return QueryType.AAAA;
                case DnsRecordType.NS: return QueryType.NS;
                case DnsRecordType.MX: return QueryType.MX;
                case DnsRecordType.PTR: return QueryType.PTR;
                case DnsRecordType.TXT: return QueryType.TXT;
                default: throw new ArgumentOutOfRangeException(nameof(type), type, "Not a DNS record type the resolver asks for.");
            }
        }

        static string HostName(DnsString name)
        {
            var value = name.Value;
            return value.Length > 1 && value.EndsWith(".", StringComparison.Ordinal) ? value.Substring(0, value.Length - 1) : value;
        }

        static string Describe(DnsQuestion question) =>
            question.QueryName.Value + " " + question.QuestionType;

        string Describe(DnsQuestion question, Exception ex)
        {
            var what = Describe(question);
            var servers = string.Join(", ", _client.NameServers.Select(s => s.ToString()));
            if (ex is DnsResponseException dre && dre.Code == DnsResponseCode.ConnectionTimeout)
                return "no answer for " + what + " from " + servers + " within "
                    + ((int)_options.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + " ms ("
                    + (_options.Retries + 1).ToString(CultureInfo.InvariantCulture) + " tries each)";
            var inner = ex.InnerException != null ? " (" + ex.InnerException.Message + ")" : "";
            return "query " + what + " to " + servers + " failed: " + ex.Message + inner;
        }

        static string RcodeText(DnsHeaderResponseCode rcode)
        {
            switch (rcode)
            {
                case DnsHeaderResponseCode.FormatError: return "FORMERR";
                case DnsHeaderResponseCode.ServerFailure: return "SERVFAIL";
                case DnsHeaderResponseCode.NotImplemented: return "NOTIMP";
                case DnsHeaderResponseCode.Refused: return "REFUSED";
                default: return "RCODE " + ((int)rcode).ToString(CultureInfo.InvariantCulture);
            }
        }
    }
}
