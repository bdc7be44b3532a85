using System;
using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// One transaction to try against the rules without a network peer (Test-SmtpdRule): the
    /// client, the envelope, and what identd would say. Nothing is ever sent to the client address.
    /// </summary>
    public sealed class RuleTestRequest
    {
        /// <summary>The peer's address (IPv4 or IPv6).</summary>
        public IPAddress ClientAddress { get; set; }

        /// <summary>
        /// The peer's reverse name. Null: look it up (PTR, then forward confirmation unless
        /// <see cref="ConfirmReverseName"/> is false). Empty: the peer has no reverse name (UNKNOWN)
        /// and nothing is asked. Anything else is taken as the verified name, without a lookup.
        /// </summary>
        public string ClientName { get; set; }

        /// <summary>With a looked-up name: honour the PTR only when its own addresses include the
        /// peer (reference §9). Default true; false trusts the PTR as the original did.</summary>
        public bool ConfirmReverseName { get; set; } = true;

        /// <summary>What the client's identd would answer, if the rules ask (reference §2.5). Null or
        /// empty: no answer. Never a network query.</summary>
        public string Ident { get; set; }

        /// <summary>The HELO argument; carried for completeness, no rule looks at it (reference §1.7).</summary>
        public string Helo { get; set; }

        /// <summary>The MAIL FROM argument as the client sent it (<c>&lt;&gt;</c> for the null sender).</summary>
        public string From { get; set; }

        /// <summary>The RCPT TO arguments, each checked in order as its own RCPT.</summary>
        public IReadOnlyList<string> To { get; set; }

        /// <summary>The protocol tests the client is to have failed in the session (pregreet,
        /// pipelining, ...), as the proxy would have found them: <c>FAILED=</c> tokens test these.</summary>
        public Rules.ProtocolTests FailedTests { get; set; }

        /// <summary>Record for every line why it did or did not match (<see cref="Rules.RuleDecision.Explanation"/>).</summary>
        public bool Explain { get; set; }

        /// <summary>The proxy's host name, as its greeting and HELO reply show it.</summary>
        public string HostName { get; set; } = Environment.MachineName;

        /// <summary>Check addresses as the proxy's strict default does (source routes, %-hacks, bang paths,
        /// quoted '@' refused with 553 before the rules see them) and report it on each decision.</summary>
        public bool StrictAddresses { get; set; } = true;

        /// <summary>What the smart host said of its limits, as a proxy started with it learns them
        /// (<see cref="SmtpProxyOptions.SmartHostLimits"/>): EHLO's SIZE and SMTPUTF8 and MAIL's
        /// checks follow them. Null: the proxy's own limits.</summary>
        public Verification.DownstreamLimits SmartHostLimits { get; set; }

        /// <summary>
        /// Parses a client address strictly: an IPv4 address is four decimal numbers 0-255 (the
        /// shorthand forms <c>127.1</c>, <c>0x7f.0.0.1</c> or octal-looking <c>010.0.0.1</c> are
        /// refused, since each reads differently to different tools); an IPv6 address contains
        /// <c>:</c> and may be written in brackets; a zone index (<c>%eth0</c>) is refused.
        /// </summary>
        /// <param name="text">The text to parse; surrounding white space is ignored.</param>
        /// <param name="address">The address; null when parsing fails.</param>
        /// <param name="error">What is wrong with <paramref name="text"/>; null on success.</param>
        public static bool TryParseClientAddress(string text, out IPAddress address, out string error)
        {
            if (Net.IPText.TryParseAddress(text, out address, out var why)) { error = null; return true; }
            error = "'" + text + "' is not a client address: " + why + ". Expected an IPv4 address such as 192.0.2.10 or an IPv6 address such as 2001:db8::10.";
            return false;
        }
    }

}
