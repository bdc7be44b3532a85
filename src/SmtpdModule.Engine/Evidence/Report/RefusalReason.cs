using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// Why a decision refused, in the words of a report: the check that made it. A rule line is named
    /// by what it tests (a DNSBL, SPF, a grey line), read from its own text, so a report groups the
    /// refusals of every DNSBL line together however the file is laid out.
    /// </summary>
    internal sealed class RefusalReason
    {
        public const string Dnsbl = "DNSBL listing", Greylisting = "Greylisting", Spf = "SPF",
            NameServer = "Name server check", UnknownRecipient = "Unknown recipient (verification)",
            VerificationUnavailable = "Recipient verification unavailable", LookupFailure = "DNS lookup failed",
            AddressCheck = "Address refused (syntax, routing)", Default = "No line matched (default action)",
            ProtocolTest = "Protocol test failed", Limit = "Rate or session limit", Data = "Message refused after DATA",
            Fault = "Internal fault";

        readonly Dictionary<string, string> _byRuleText = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>The reason of a refusing decision.</summary>
        public string Of(DecisionRecord r, DecisionOutcome outcome)
        {
            if (r.Reason != null && r.Reason.StartsWith("protocol test failed", StringComparison.Ordinal)) return ProtocolTest;
            switch (r.Basis)
            {
                case nameof(DecisionBasis.RecipientVerification):
                    return outcome == DecisionOutcome.Deferred ? VerificationUnavailable : UnknownRecipient;
                case nameof(DecisionBasis.LookupFailure): return LookupFailure;
                case nameof(DecisionBasis.AddressCheck): return AddressCheck;
                case nameof(DecisionBasis.DefaultNoMatch): return Default;
                case nameof(DecisionBasis.Rule): return OfRule(r.Rule, r.Action);
                case null: return r.Reason ?? "Unknown";
                default: return r.Basis;
            }
        }

        string OfRule(string text, string action)
        {
            if (text == null) return "Rule";
            if (_byRuleText.TryGetValue(text, out var known)) return known;
            var reason = Classify(text) ?? "Rule: " + (action ?? "?").ToLowerInvariant();
            if (_byRuleText.Count < 10000) _byRuleText[text] = reason;   // a log of hostile lines must not grow it without end
            return reason;
        }

        static string Classify(string text)
        {
            RuleSet set;
            try { set = RuleSet.Parse(text); }
            catch (RuleFileException) { return null; }   // a line of a later grammar, or a damaged log: by action
            if (set.Rules.Count == 0) return null;
            if (set.Rules[0].Verb == RuleVerb.Grey) return Greylisting;
            if (DnsblZones.Of(set).Count > 0) return Dnsbl;
            if (SpfTokens.NamedBy(set)) return Spf;
            return text.IndexOf("NS=", StringComparison.OrdinalIgnoreCase) >= 0 ? NameServer : null;
        }
    }
}
