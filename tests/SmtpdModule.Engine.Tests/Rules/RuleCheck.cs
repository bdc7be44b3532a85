using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>One check in a fresh session, for tests: rules text in, decision out.</summary>
    internal static class RuleCheck
    {
        public static Task<RuleDecision> Decide(string rules, string ip = "192.0.2.10", string name = "mail.example.org",
            string from = "<alice@example.org>", string to = "<bob@example.com>", string ident = null,
            FactDnsResolver dns = null, DefaultAction defaultAction = DefaultAction.Allow, bool explain = false,
            LookupFailurePolicy onFailure = LookupFailurePolicy.NoMatch, bool reverseFailed = false)
        {
            var set = RuleSet.Parse(rules, "rules");
            var ruleSession = new RuleSession(new RuleLookups(dns ?? new FactDnsResolver()), new FixedIdentSource(ident));
            var input = new RuleInput(IPAddress.Parse(ip), name, from, to, "helo.example.org", null, reverseFailed);
            var options = new RuleEvaluationOptions { DefaultAction = defaultAction, OnLookupFailure = onFailure };
            return new RuleEvaluator(set, options).EvaluateAsync(input, ruleSession, explain);
        }

        /// <summary>The deciding line, or 0 for a default.</summary>
        public static async Task<int> Line(string rules, string ip = "192.0.2.10", string name = "mail.example.org",
            string from = "<alice@example.org>", string to = "<bob@example.com>", string ident = null, FactDnsResolver dns = null)
        {
            var d = await Decide(rules, ip, name, from, to, ident, dns);
            return d.LineNumber ?? 0;
        }
    }
}
