using System;
using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// How <see cref="DnsClientResolver"/> talks to DNS servers. The resolver takes a copy when it is
    /// built, so changing an options object later does not affect resolvers already running.
    /// </summary>
    /// <remarks>
    /// One question costs at most <see cref="Timeout"/> × (<see cref="Retries"/> + 1) per server,
    /// plus the time spent waiting for one of the <see cref="MaxConcurrentQueries"/> slots.
    /// </remarks>
    public sealed class DnsResolverOptions
    {
        static readonly IReadOnlyList<IPEndPoint> NoServers = Array.AsReadOnly(new IPEndPoint[0]);
        static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(5);

        IReadOnlyList<IPEndPoint> _servers = NoServers;
        TimeSpan _timeout = TimeSpan.FromSeconds(3);
        int _retries = 1;
        int _maxConcurrentQueries = 64;

        /// <summary>The servers to ask, in order (the next is asked only when one does not answer).
        /// Empty, the default, means the resolvers this system is configured with.</summary>
        /// <exception cref="ArgumentNullException">The value, or one of its entries, is null.</exception>
        /// <exception cref="ArgumentException">An entry has port 0 or the unspecified address.</exception>
        public IReadOnlyList<IPEndPoint> Servers
        {
            get => _servers;
            set
            {
                if (value == null)
                    throw new ArgumentNullException(nameof(value));
                var copy = new IPEndPoint[value.Count];
                for (var i = 0; i < copy.Length; i++)
                {
                    var server = value[i] ?? throw new ArgumentNullException(nameof(value), "A DNS server entry is null.");
                    if (server.Port == 0)
                        throw new ArgumentException("DNS server " + server + " has port 0.", nameof(value));
                    if (server.Address.Equals(IPAddress.Any) || server.Address.Equals(IPAddress.IPv6Any))
                        throw new ArgumentException("DNS server " + server + " is the unspecified address.", nameof(value));
                    copy[i] = new IPEndPoint(server.Address, server.Port);
                }
                _servers = Array.AsReadOnly(copy);
            }
        }

        /// <summary>How long to wait for one answer from one server before retrying. Default 3 seconds.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not more than zero, or more than five minutes.</exception>
        public TimeSpan Timeout
        {
            get => _timeout;
            set
            {
                // No infinite timeout: a server that never answers would hold an SMTP session forever.
                if (value <= TimeSpan.Zero || value > MaxTimeout)
                    throw new ArgumentOutOfRangeException(nameof(value), value, "The DNS timeout must be more than zero and at most five minutes.");
                _timeout = value;
            }
        }

        /// <summary>How many more times to ask a server that did not answer in time. Default 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
        public int Retries
        {
            get => _retries;
            set
            {
                if (value < 0)
                    throw new ArgumentOutOfRangeException(nameof(value), value, "DNS retries cannot be negative.");
                _retries = value;
            }
        }

        /// <summary>How many questions may be outstanding at once; further ones wait for a slot. Default 64.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Less than one.</exception>
        public int MaxConcurrentQueries
        {
            get => _maxConcurrentQueries;
            set
            {
                if (value < 1)
                    throw new ArgumentOutOfRangeException(nameof(value), value, "At least one DNS query must be allowed at a time.");
                _maxConcurrentQueries = value;
            }
        }

        /// <summary>Whether a truncated UDP answer is asked again over TCP. Default true; without it a
        /// truncated answer is a failure, never a partial answer.</summary>
        public bool UseTcpFallback { get; set; } = true;

        /// <summary>Answers the proxy keeps across sessions (<see cref="DnsCache"/>), each for its TTL;
        /// 0 turns the cache off. Default 10,000 (about 2 MB). Only the proxy's sessions use it.</summary>
        public int CacheEntries { get; set; } = DnsCache.DefaultCapacity;

        /// <summary>A copy of these options.</summary>
        public DnsResolverOptions Clone() => new DnsResolverOptions
        {
            _servers = _servers,          // read-only copy of copied end points: safe to share
            _timeout = _timeout,
            _retries = _retries,
            _maxConcurrentQueries = _maxConcurrentQueries,
            UseTcpFallback = UseTcpFallback,
            CacheEntries = CacheEntries,
        };
    }
}
