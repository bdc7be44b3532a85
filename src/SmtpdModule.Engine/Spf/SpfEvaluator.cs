using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>
    /// The SPF check of RFC 7208: check_host() for the MAIL FROM identity (the null sender as
    /// <c>postmaster@</c> the HELO name, §2.4) or the HELO identity (§2.3).
    /// </summary>
    /// <remarks>
    /// What it trusts: the resolver's answers, nothing else. Every DNS question goes through
    /// <see cref="IDnsResolver"/> (the session's facts in the proxy), so a recorded session replays
    /// to the same result. Limits (§4.6.4): 10 DNS-querying terms and 2 void lookups per check
    /// (PermError beyond), 10 MX names per <c>mx</c> (PermError beyond), the first 10 PTR names per
    /// <c>ptr</c> or <c>%{p}</c>. A DNS failure of a term's own question is TempError (§5); a failed
    /// or unusable explanation is dropped (§6.2).
    /// </remarks>
    public sealed class SpfEvaluator
    {
        readonly IDnsResolver _dns;

        /// <param name="dns">Asked every question; the check's only view of DNS.</param>
        /// <param name="receivingHost">The name <c>%{r}</c> gives in explanations; "unknown" when null.</param>
        /// <exception cref="ArgumentNullException"><paramref name="dns"/> is null.</exception>
        public SpfEvaluator(IDnsResolver dns, string receivingHost = null)
        {
            _dns = dns ?? throw new ArgumentNullException(nameof(dns));
            ReceivingHost = string.IsNullOrEmpty(receivingHost) ? "unknown" : receivingHost;
        }

        /// <summary>The value of <c>%{r}</c>.</summary>
        public string ReceivingHost { get; }

        /// <summary>Checks the MAIL FROM identity. <paramref name="mailFrom"/> may be bare or in angle
        /// brackets; empty, null or <c>&lt;&gt;</c> is the null sender, checked as <c>postmaster@</c><paramref name="helo"/>.
        /// A sender without a local part gets <c>postmaster</c> (§4.3).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="client"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<SpfCheckResult> CheckMailFromAsync(IPAddress client, string helo, string mailFrom, CancellationToken cancellationToken = default)
        {
            if (client == null) throw new ArgumentNullException(nameof(client));
            var sender = (mailFrom ?? "").Trim();
            if (sender.StartsWith("<", StringComparison.Ordinal) && sender.EndsWith(">", StringComparison.Ordinal))
                sender = sender.Substring(1, sender.Length - 2);
            if (sender.Length == 0) sender = "postmaster@" + (helo ?? "");
            return CheckAsync(client, helo ?? "", sender, SpfIdentity.MailFrom, cancellationToken);
        }

        /// <summary>Checks the HELO identity: <paramref name="helo"/>'s policy, as sender <c>postmaster@</c><paramref name="helo"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="client"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<SpfCheckResult> CheckHeloAsync(IPAddress client, string helo, CancellationToken cancellationToken = default)
        {
            if (client == null) throw new ArgumentNullException(nameof(client));
            return CheckAsync(client, helo ?? "", "postmaster@" + (helo ?? ""), SpfIdentity.Helo, cancellationToken);
        }

        async Task<SpfCheckResult> CheckAsync(IPAddress client, string helo, string sender, SpfIdentity identity, CancellationToken cancellationToken)
        {
            var at = sender.LastIndexOf('@');
            var local = at < 0 ? "" : sender.Substring(0, at);
            var domain = at < 0 ? sender : sender.Substring(at + 1);
            if (local.Length == 0) local = "postmaster";
            domain = domain.EndsWith(".", StringComparison.Ordinal) ? domain.Substring(0, domain.Length - 1) : domain;
            var check = new SpfCheck(_dns, client, local + "@" + domain, local, domain, helo, ReceivingHost, cancellationToken);

            // §4.3: a domain that is not a multi-label FQDN of valid labels is None, asked of nobody.
            if (!SpfCheck.IsQueryableName(domain, requireDot: true) || domain.IndexOf('[') >= 0 || IsAllDigits(domain.Substring(domain.LastIndexOf('.') + 1)))
                return check.Result(identity, domain, SpfResult.None, null, null, null);
            try
            {
                var outcome = await check.CheckHostAsync(domain, top: true).ConfigureAwait(false);
                string explanation = null;
                if (outcome.Result == SpfResult.Fail && outcome.Explanation != null)
                    explanation = await check.ExplainAsync(outcome.Explanation, outcome.Domain).ConfigureAwait(false);
                return check.Result(identity, domain, outcome.Result, outcome.Mechanism, explanation, null);
            }
            catch (SpfAbort abort)
            {
                return check.Result(identity, domain, abort.Result, null, null, abort.Message);
            }
        }

        static bool IsAllDigits(string label)
        {
            foreach (var c in label)
                if (c < '0' || c > '9') return false;
            return true;
        }

        /// <summary>Whether <paramref name="address"/> is in <paramref name="network"/>/<paramref name="length"/>
        /// (same family only; IPv4-mapped IPv6 addresses count as IPv4, §5.6).</summary>
        internal static bool InNetwork(IPAddress address, IPAddress network, int length)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            if (address.AddressFamily != network.AddressFamily) return false;
            var a = address.GetAddressBytes();
            var n = network.GetAddressBytes();
            for (var bit = 0; bit < length; bit++)
            {
                var mask = 0x80 >> (bit % 8);
                if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
            }
            return true;
        }
    }
}
