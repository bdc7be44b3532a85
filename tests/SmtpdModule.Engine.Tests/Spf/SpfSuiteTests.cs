using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>One DNS server per scenario of the suite, each on its own loopback port.</summary>
    public sealed class SpfSuiteServers : IDisposable
    {
        readonly List<SpfZoneDnsServer> _servers;

        public SpfSuiteServers()
        {
            _servers = SpfTestSuite.Load().Zones.Select(SpfZoneDnsServer.Start).ToList();
        }

        /// <summary>A resolver asking the scenario's server: one try, a short timeout, so that the
        /// suite's TIMEOUT names cost a second each, not the default six.</summary>
        public DnsClientResolver Resolver(int scenario) => new DnsClientResolver(new DnsResolverOptions
        {
            Servers = new[] { _servers[scenario].EndPoint },
            Timeout = TimeSpan.FromSeconds(1),
            Retries = 0,
            UseTcpFallback = false,
        });

        public void Dispose()
        {
            foreach (var server in _servers) server.Dispose();
        }
    }

    /// <summary>
    /// The openspf RFC 7208 test suite (2014.04), every case, through <see cref="SpfEvaluator"/> and
    /// DnsClient against a DNS server on loopback that serves the case's scenario. An empty mailfrom
    /// is the null sender (the suite's drivers check postmaster@helo); where the suite lists several
    /// results, any of them passes; an explanation is compared when the suite gives one other than DEFAULT.
    /// </summary>
    public class SpfSuiteTests : IClassFixture<SpfSuiteServers>
    {
        readonly SpfSuiteServers _servers;

        public SpfSuiteTests(SpfSuiteServers servers)
        {
            _servers = servers;
        }

        public static IEnumerable<object[]> Cases() => SpfTestSuite.Load().Cases.Select(c => new object[] { c.Id });

        [Theory]
        [MemberData(nameof(Cases))]
        public async Task Rfc7208_suite(string id)
        {
            var test = SpfTestSuite.Load().Cases.Single(c => c.Id == id);
            using var resolver = _servers.Resolver(test.Scenario);
            var evaluator = new SpfEvaluator(resolver);
            var result = await evaluator.CheckMailFromAsync(IPAddress.Parse(test.Host), test.Helo, test.MailFrom);

            var expected = test.Results.Select(r => Enum.Parse<SpfResult>(r, ignoreCase: true)).ToArray();
            Assert.True(expected.Contains(result.Result),
                id + ": expected " + string.Join(" or ", expected) + ", got " + result);
            if (test.Explanation != null && result.Result == SpfResult.Fail)
                Assert.Equal(test.Explanation == "DEFAULT" ? null : test.Explanation, result.Explanation);
        }

        [Fact]
        public void The_suite_is_all_there()
        {
            // The copy in the shared reference holds some cases back; this pins what it has.
            var suite = SpfTestSuite.Load();
            Assert.Equal(16, suite.Zones.Count);
            Assert.True(suite.Cases.Count >= 150, suite.Cases.Count + " cases");
            Assert.Equal(suite.Cases.Count, suite.Cases.Select(c => c.Id).Distinct().Count());
        }
    }
}
