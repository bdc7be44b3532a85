using SmtpdModule.Engine.Spf;

namespace SmtpdModule.Engine.Rules
{
    internal partial struct RuleScan
    {
        SpfCheckResult _spf;

        /// <summary>An <c>SPF=result</c> token: the transaction's SPF result, waited for (within the
        /// check's own time bound) the first time a line asks. Every result is an answer, TempError
        /// included, so the token is never uncertain: <c>SPF=fail</c> does not match a TempError.</summary>
        Tri MatchSpf(AddressToken t)
        {
            if (!HaveSpf()) return Tri.Pending;
            return _spf.Result == t.SpfResult ? Tri.Yes : Tri.No;
        }

        /// <summary>The SPF result is at hand; false: it is pending (asked for).</summary>
        bool HaveSpf()
        {
            if (_spf != null) return true;
            if (!_ruleSession.TryGet(RuleSession.FactKind.Spf, null, out var f))
            {
                Pending(RuleSession.FactKind.Spf, null);
                return false;
            }
            _spf = (SpfCheckResult)f;
            return true;
        }

        /// <summary>A trace note, and for a line that tests SPF=, the result it saw.</summary>
        string WithSpf(string note, Rule rule)
        {
            if (_spf == null || !SpfTokens.NamedBy(rule.From)) return note;
            var spf = "SPF " + _spf;
            return note == null ? spf : note + " (" + spf + ")";
        }
    }
}
