namespace SmtpdModule.Engine.Rules
{
    internal partial struct RuleScan
    {
        /// <summary>A trace note, and for a line whose source list tests FAILED=, which protocol tests the client failed.</summary>
        string With(string note, Rule rule)
        {
            note = WithSpf(note, rule);
            if (ProtocolTestNames.NamedBy(rule.Source) == ProtocolTests.None) return note;
            var failed = "failed protocol tests: " + ProtocolTestNames.Describe(_in.FailedTests);
            return note == null ? failed : note + " (" + failed + ")";
        }

        /// <summary>Every failure met on the way, one per line, or null.</summary>
        string Failures(string extra)
        {
            if (_failures == null) return extra;
            var all = string.Join("; ", _failures);
            return extra == null ? all : all + "; " + extra;
        }

        static string Describe(string source, string from, string to)
        {
            if (source == null) return null;
            var s = "source=" + source;
            if (from != null) s += "; from=" + from;
            if (to != null) s += "; to=" + to;
            return s;
        }
    }
}
