using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// The protocol tests the proxy runs inside a session (after Postfix's postscreen): each is a
    /// fact of the session that the rules test with <c>FAILED=&lt;name&gt;</c> in a source list.
    /// </summary>
    [Flags]
    public enum ProtocolTests
    {
        None = 0,
        /// <summary>The client spoke before the greeting's last line (<c>pregreet</c>).</summary>
        Pregreet = 1,
        /// <summary>The client sent a command before the reply to the previous one where PIPELINING
        /// was not offered (<c>pipelining</c>).</summary>
        Pipelining = 2,
        /// <summary>An HTTP verb or a header-like line at the command level (<c>non-smtp</c>).</summary>
        NonSmtp = 4,
        /// <summary>A command line ended with LF alone (<c>bare-newline</c>).</summary>
        BareNewline = 8,
        /// <summary>Every test (<c>ANY</c>): any one failed.</summary>
        Any = Pregreet | Pipelining | NonSmtp | BareNewline,
    }

    /// <summary>The names of <see cref="ProtocolTests"/> as the rules, the log and the cmdlets write them.</summary>
    public static class ProtocolTestNames
    {
        static readonly (ProtocolTests Test, string Name)[] Names =
        {
            (ProtocolTests.Pregreet, "pregreet"),
            (ProtocolTests.Pipelining, "pipelining"),
            (ProtocolTests.NonSmtp, "non-smtp"),
            (ProtocolTests.BareNewline, "bare-newline"),
        };

        /// <summary>Every test's name, in a fixed order.</summary>
        public static IReadOnlyList<string> All { get; } = Array.ConvertAll(Names, n => n.Name);

        /// <summary>One name (any case), or <c>ANY</c>; false for anything else.</summary>
        public static bool TryParse(string name, out ProtocolTests test)
        {
            test = ProtocolTests.None;
            if (string.Equals(name, "ANY", StringComparison.OrdinalIgnoreCase)) { test = ProtocolTests.Any; return true; }
            foreach (var n in Names)
                if (string.Equals(name, n.Name, StringComparison.OrdinalIgnoreCase)) { test = n.Test; return true; }
            return false;
        }

        /// <summary>The names of the tests in <paramref name="tests"/>, in a fixed order.</summary>
        public static IReadOnlyList<string> Of(ProtocolTests tests)
        {
            var list = new List<string>();
            foreach (var n in Names)
                if ((tests & n.Test) != 0) list.Add(n.Name);
            return list;
        }

        /// <summary>The tests a source list's <c>FAILED=</c> tokens name (EXCEPT part included).</summary>
        public static ProtocolTests NamedBy(RuleList source)
        {
            var named = ProtocolTests.None;
            if (source == null || source.Kind != RuleListKind.Source) return named;
            foreach (var t in source.Tokens) named |= ((SourceToken)t).FailedTest;
            return named;
        }

        /// <summary>The tests any line of <paramref name="rules"/> names: the ones whose results the rules use.</summary>
        public static ProtocolTests NamedBy(RuleSet rules)
        {
            var named = ProtocolTests.None;
            var seen = new HashSet<RuleList>();
            foreach (var r in rules.Rules)
                if (seen.Add(r.Source)) named |= NamedBy(r.Source);   // lists are shared: each once
            return named;
        }

        /// <summary>The names joined with commas; "none" when empty.</summary>
        public static string Describe(ProtocolTests tests) => tests == ProtocolTests.None ? "none" : string.Join(",", Of(tests));
    }
}
