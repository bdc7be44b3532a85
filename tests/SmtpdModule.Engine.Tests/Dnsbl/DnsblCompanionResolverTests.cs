using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>Once the rules ask one list about a client, its other lists are asked at once; nothing else is.</summary>
    public class DnsblCompanionResolverTests
    {
        sealed class Recording : IDnsResolver
        {
            public readonly List<string> Asked = new List<string>();
            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                lock (Asked) Asked.Add(type + " " + name);
                return Task.FromResult(DnsAnswer.NameError);
            }
        }

        static readonly string[] Zones = { "bl1.test", "bl2.test", "bl3.test" };

        [Fact]
        public async Task Asking_one_list_about_a_client_asks_its_other_lists_once()
        {
            var inner = new Recording();
            var resolver = new DnsblCompanionResolver(inner, () => Zones);

            await resolver.QueryAsync("4.3.2.1.bl2.test", DnsRecordType.A);
            Assert.Equal(new[] { "A 4.3.2.1.bl2.test", "A 4.3.2.1.bl1.test", "A 4.3.2.1.bl3.test" }, inner.Asked);

            // The rules' own questions for the others follow, as the rules reach them: no second round.
            await resolver.QueryAsync("4.3.2.1.bl1.test.", DnsRecordType.A);
            await resolver.QueryAsync("4.3.2.1.BL3.test", DnsRecordType.A);
            Assert.Equal(5, inner.Asked.Count);

            // Another client is another round.
            await resolver.QueryAsync("9.3.2.1.bl1.test", DnsRecordType.A);
            Assert.Equal(new[] { "A 9.3.2.1.bl1.test", "A 9.3.2.1.bl2.test", "A 9.3.2.1.bl3.test" }, inner.Asked.Skip(5));
        }

        [Fact]
        public async Task An_IPv6_client_is_asked_by_its_nibbles()
        {
            var inner = new Recording();
            var resolver = new DnsblCompanionResolver(inner, () => Zones);
            var nibbles = string.Join(".", Enumerable.Repeat("a", 31).Append("2"));
            await resolver.QueryAsync(nibbles + ".bl3.test", DnsRecordType.A);
            Assert.Equal(3, inner.Asked.Count);
            Assert.Contains("A " + nibbles + ".bl1.test", inner.Asked);
        }

        [Theory]
        [InlineData("ns1.example.org.bl1.test", "A")]          // a name server's name, not a client's address
        [InlineData("4.3.2.1.other.test", "A")]                // a zone the rules do not test clients against
        [InlineData("bl1.test", "A")]                          // the zone itself
        [InlineData("4.3.2.1.bl1.test", "TXT")]                // a list's explanation, not its answer
        [InlineData("x4.3.2.1.bl1.test", "A")]
        public async Task Nothing_else_asks_companions(string name, string type)
        {
            var inner = new Recording();
            var resolver = new DnsblCompanionResolver(inner, () => Zones);
            await resolver.QueryAsync(name, type == "A" ? DnsRecordType.A : DnsRecordType.TXT);
            Assert.Single(inner.Asked);
        }

        [Fact]
        public async Task Only_the_zones_given_are_asked_and_one_zone_asks_none()
        {
            var inner = new Recording();
            var zones = new[] { "bl1.test", "bl3.test" };   // bl2 unhealthy: left out by the caller
            var resolver = new DnsblCompanionResolver(inner, () => zones);
            await resolver.QueryAsync("4.3.2.1.bl1.test", DnsRecordType.A);
            Assert.Equal(new[] { "A 4.3.2.1.bl1.test", "A 4.3.2.1.bl3.test" }, inner.Asked);

            var single = new Recording();
            await new DnsblCompanionResolver(single, () => new[] { "bl1.test" }).QueryAsync("4.3.2.1.bl1.test", DnsRecordType.A);
            Assert.Single(single.Asked);
        }
    }
}
