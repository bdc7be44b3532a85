using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Compiles one list field: tokens split at runs of blanks, tabs and commas, EXCEPT (in any
    /// case) splitting the list, each token compiled for its list (reference §2). A list is a
    /// function of its kind and text alone, so identical fields share one compiled list; its
    /// findings are kept with offsets and reported again, at the right column, on every line
    /// that repeats it.
    /// </summary>
    internal static class RuleListParser
    {
        internal sealed class Compiled
        {
            public RuleList List;
            public List<(DiagnosticSeverity Severity, string Code, int Offset, string Message)> Findings;
        }

        public static RuleList Parse(RuleListKind kind, string text, int column, ParseContext context)
        {
            var cache = context.Lists(kind);
            if (!cache.TryGetValue(text, out var compiled))
                cache[text] = compiled = Compile(kind, text, context.Options);
            if (compiled.Findings != null)
                foreach (var f in compiled.Findings)
                    context.Report(f.Severity, f.Code, column + f.Offset, f.Message);
            if (kind == RuleListKind.Source) Bind(compiled.List, column, context);
            return compiled.List;
        }

        /// <summary>Binds each SCORE. token to the definition above it. A list shared by several lines binds once;
        /// a name defined later is an error on every line that uses it first.</summary>
        static void Bind(RuleList list, int column, ParseContext context)
        {
            foreach (var token in list.Tokens)
            {
                var score = ((SourceToken)token).Score;
                if (score == null || score.Definition != null) continue;
                if (context.Scores.TryGetValue(score.Name, out var definition)) score.Definition = definition;
                else context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.UndefinedScore, column + score.Offset + ScoreTest.Prefix.Length,
                    "score '" + score.Name + "' is not defined (define it on a score: line above its first use)");
            }
        }

        static bool IsSeparator(char c) => c == ' ' || c == '\t' || c == ',';

        static Compiled Compile(RuleListKind kind, string text, RuleParseOptions options)
        {
            var result = new Compiled();
            var words = new List<(string Text, int Offset)>();
            int i = 0;
            while (i < text.Length)
            {
                if (IsSeparator(text[i])) { i++; continue; }
                int start = i;
                while (i < text.Length && !IsSeparator(text[i])) i++;
                words.Add((text.Substring(start, i - start), start));
            }
            if (words.Count == 0)
            {
                Find(result, DiagnosticSeverity.Warning, RuleDiagnosticCodes.EmptyList, 0,
                    "the " + kind.ToString().ToLowerInvariant() + " list has no tokens: the rule never matches");
                result.List = new RuleList(kind, text, new RuleToken[0], new RuleToken[0], null);
                return result;
            }
            if (IsExcept(words[0].Text))
                Find(result, DiagnosticSeverity.Warning, RuleDiagnosticCodes.NeverMatches, words[0].Offset, "a list that starts with EXCEPT never matches");
            result.List = Build(kind, text, words, 0, options, result);
            return result;
        }

        static void Find(Compiled c, DiagnosticSeverity severity, string code, int offset, string message) =>
            (c.Findings ?? (c.Findings = new List<(DiagnosticSeverity, string, int, string)>())).Add((severity, code, offset, message));

        static bool IsExcept(string word) => string.Equals(word, "EXCEPT", StringComparison.OrdinalIgnoreCase);

        static RuleList Build(RuleListKind kind, string text, List<(string Text, int Offset)> words, int from, RuleParseOptions options, Compiled result)
        {
            var positive = new List<RuleToken>(words.Count - from);
            RuleList except = null;
            for (int i = from; i < words.Count; i++)
            {
                if (IsExcept(words[i].Text))
                {
                    except = Build(kind, text, words, i + 1, options, result);
                    break;
                }
                var w = words[i].Text;
                if (w.Length > 1 && w[0] == '/' && !StringPattern.LooksLikeRegex(w))
                    Find(result, DiagnosticSeverity.Warning, RuleDiagnosticCodes.SplitRegex, words[i].Offset,
                        "'" + w + "' looks like a regular expression cut by a blank, tab or comma (list separators, even inside /.../): it is a plain pattern");
                var token = Token(kind, w, words[i].Offset, options, result);
                if (token != null) positive.Add(token);
            }
            var tokens = positive.ToArray();
            if (except == null) return new RuleList(kind, text, tokens, tokens, null);
            var all = new RuleToken[tokens.Length + except.Tokens.Count];
            tokens.CopyTo(all, 0);
            for (int i = 0; i < except.Tokens.Count; i++) all[tokens.Length + i] = except.Tokens[i];
            return new RuleList(kind, text, all, tokens, except);
        }

        /// <summary>An RBL. token whose answer filter does not parse is an error, not a silent never-match:
        /// the syntax is new, so no file written for the original has it.</summary>
        static bool BadFilter(IpPattern p, string word, int offset, Compiled result)
        {
            if (p?.FilterError == null) return false;
            // The pattern may sit after a user@ or NS= prefix: locate it within the word.
            int at = word.LastIndexOf(p.Text, StringComparison.Ordinal);
            Find(result, DiagnosticSeverity.Error, RuleDiagnosticCodes.BadDnsblFilter, offset + Math.Max(0, at) + p.FilterErrorOffset, p.FilterError);
            return true;
        }

        static RuleToken Token(RuleListKind kind, string word, int offset, RuleParseOptions options, Compiled result)
        {
            if (kind == RuleListKind.Source && word.StartsWith(SourceToken.FailedPrefix, StringComparison.Ordinal)
                && !ProtocolTestNames.TryParse(word.Substring(SourceToken.FailedPrefix.Length), out _))
            {
                Find(result, DiagnosticSeverity.Error, RuleDiagnosticCodes.UnknownProtocolTest, offset + SourceToken.FailedPrefix.Length,
                    "unknown protocol test '" + word.Substring(SourceToken.FailedPrefix.Length) + "' in " + word + ": expected "
                    + string.Join(", ", ProtocolTestNames.All) + " or ANY");
                return null;
            }
            if (kind == RuleListKind.Source && word.StartsWith(ScoreTest.Prefix, StringComparison.Ordinal))
            {
                var test = ScoreParser.ParseToken(word, offset, out var error, out var errorOffset);
                if (test != null) return SourceToken.ForScore(word, test);
                Find(result, DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, offset + errorOffset, error);
                return null;
            }
            if (word.StartsWith(AddressToken.SpfPrefix, StringComparison.Ordinal))
            {
                var spf = kind == RuleListKind.From ? AddressToken.ParseSpf(word) : null;
                if (spf != null) return spf;
                Find(result, DiagnosticSeverity.Error, RuleDiagnosticCodes.BadSpfToken, kind == RuleListKind.From ? offset + AddressToken.SpfPrefix.Length : offset,
                    kind == RuleListKind.From
                        ? "unknown SPF result '" + word.Substring(AddressToken.SpfPrefix.Length) + "' in " + word + ": expected pass, fail, softfail, neutral, none, temperror or permerror"
                        : word + " in the " + kind.ToString().ToLowerInvariant() + " list: SPF= tests the sender, so it belongs in the from list");
                return null;
            }
            try
            {
                if (kind != RuleListKind.Source)
                {
                    var a = AddressToken.Parse(word, options.RegexTimeout);
                    return BadFilter(a.NameServers?.Addresses, word, offset, result) ? null : a;
                }
                var s = SourceToken.Parse(word, options.RegexTimeout);
                if (!s.IsProtocolTest && (BadFilter(s.Host.Address, word, offset, result) || BadFilter(s.Host.NameServers?.Addresses, word, offset, result))) return null;
                var never = !s.IsProtocolTest && s.Host.Kind == HostPattern.PatternKind.General && s.Host.Address != null ? s.Host.Address.NeverReason : null;
                if (never != null) Find(result, DiagnosticSeverity.Warning, RuleDiagnosticCodes.NeverMatches, offset, never);
                return s;
            }
            catch (ArgumentException ex)
            {
                Find(result, DiagnosticSeverity.Error, RuleDiagnosticCodes.InvalidRegex, offset,
                    "regular expression '" + word + "' does not compile: " + ex.Message);
                return null;
            }
        }
    }
}
