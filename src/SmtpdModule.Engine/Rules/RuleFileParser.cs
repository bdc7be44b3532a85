using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Parses and validates a whole rules file (reference §1.2), keeping the original's grammar:
    /// colon-separated fields with empty fields collapsed, lists split at runs of blanks, tabs and
    /// commas, an optional message and comment. Decided differences (reference §9): the whole file
    /// is checked at load; CRLF, a last line without newline, blank and indented-'#' lines are
    /// fine; there is no line-length limit; errors name line and column instead of failing open.
    /// </summary>
    public static class RuleFileParser
    {
        static readonly char[] ListSeparators = { ' ', '\t', ',' };

        /// <summary>Parses <paramref name="text"/>; never throws for content problems, which are diagnostics.</summary>
        public static RuleParseResult Parse(string text, string path, RuleParseOptions options = null)
        {
            options = options ?? RuleParseOptions.Default;
            var rules = new List<Rule>();
            var diagnostics = new List<RuleDiagnostic>();
            int lineNumber = 0, pos = 0;
            text = text ?? "";
            if (text.Length > 0 && text[0] == '\uFEFF') pos = 1;   // a BOM from a Windows editor

            while (pos < text.Length)
            {
                int nl = text.IndexOf('\n', pos);
                int end = nl < 0 ? text.Length : nl;
                int lineEnd = end > pos && text[end - 1] == '\r' ? end - 1 : end;
                string line = text.Substring(pos, lineEnd - pos);
                lineNumber++;
                pos = nl < 0 ? text.Length : nl + 1;

                var rule = ParseLine(line, lineNumber, rules.Count, path, options, diagnostics);
                if (rule != null) rules.Add(rule);
            }

            ReportShadowed(rules, path, diagnostics);
            // File order, whatever pass found them (shadowing is found after the line's own checks).
            var ordered = diagnostics.Select((d, i) => (d, i)).OrderBy(x => x.d.Line).ThenBy(x => x.d.Column).ThenBy(x => x.i).Select(x => x.d).ToList();
            return new RuleParseResult(path, rules, ordered);
        }

        static Rule ParseLine(string line, int lineNumber, int index, string path, RuleParseOptions options, List<RuleDiagnostic> diagnostics)
        {
            int first = 0;
            while (first < line.Length && (line[first] == ' ' || line[first] == '\t')) first++;
            if (first == line.Length || line[first] == '#') return null;   // blank or comment (indented too)

            var lineDiagnostics = new List<RuleDiagnostic>();
            void Report(DiagnosticSeverity severity, string code, int column, string message)
            {
                var d = new RuleDiagnostic(severity, code, path, lineNumber, column, message);
                diagnostics.Add(d);
                lineDiagnostics.Add(d);
            }

            var fields = SplitFields(line);
            if (fields.Count < 4)
            {
                Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadFieldCount, 1,
                    "bad field count: " + fields.Count + " field" + (fields.Count == 1 ? "" : "s") + ", a rule needs action:source:from:to[:message]");
                return null;
            }

            RuleVerb verb;
            if (!TryParseVerb(fields[0].Text, out verb))
            {
                Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.UnknownAction, fields[0].Column,
                    "unknown action '" + fields[0].Text + "' (allow, noto, deny, noto_delay, deny_delay, debug; lower case)");
            }

            ReplyTemplate message = null;
            if (fields.Count >= 5)
            {
                var f5 = fields[4];
                int skip = SkipWhite(f5.Text);
                if (skip < f5.Text.Length && f5.Text[skip] == '#')
                {
                    // A comment instead of a message: the rest of the line is ignored.
                }
                else
                {
                    message = new ReplyTemplate(f5.Text.Substring(skip));
                    if (fields.Count >= 6)
                    {
                        var f6 = fields[5];
                        int s6 = SkipWhite(f6.Text);
                        if (s6 >= f6.Text.Length || f6.Text[s6] != '#')
                            Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.JunkAtEnd, f6.Column - 1,
                                "junk at end of line after the message: '" + f6.Text + "' (a message cannot contain ':'; write %C)");
                    }
                    var problem = message.Problem;
                    if (problem != null)
                        Report(DiagnosticSeverity.Warning, RuleDiagnosticCodes.BogusTemplate, f5.Column + skip, problem);
                }
            }

            var source = ParseList(RuleListKind.Source, fields[1], options, Report);
            var from = ParseList(RuleListKind.From, fields[2], options, Report);
            var to = ParseList(RuleListKind.To, fields[3], options, Report);

            foreach (var d in lineDiagnostics)
                if (d.Severity == DiagnosticSeverity.Error) return null;
            return new Rule(index, lineNumber, line, verb, source, from, to, message, lineDiagnostics);
        }

        static int SkipWhite(string s)
        {
            int i = 0;
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            return i;
        }

        static bool TryParseVerb(string word, out RuleVerb verb)
        {
            switch (word)   // verbatim and case-sensitive (reference §1.2)
            {
                case "allow": verb = RuleVerb.Allow; return true;
                case "noto": verb = RuleVerb.Noto; return true;
                case "deny": verb = RuleVerb.Deny; return true;
                case "noto_delay": verb = RuleVerb.NotoDelay; return true;
                case "deny_delay": verb = RuleVerb.DenyDelay; return true;
                case "debug": verb = RuleVerb.Debug; return true;
                default: verb = default; return false;
            }
        }

        struct Field
        {
            public string Text;
            public int Column;
        }

        /// <summary>
        /// strtok-style split at ':' (empty fields vanish). In the three list fields a bracketed
        /// IPv6 literal (<c>[2001:db8::]/32</c>) keeps its colons: our extension, since an address
        /// with colons cannot otherwise be written in a colon-separated file.
        /// </summary>
        static List<Field> SplitFields(string line)
        {
            var fields = new List<Field>();
            int i = 0;
            while (i < line.Length)
            {
                if (line[i] == ':') { i++; continue; }
                int start = i;
                bool list = fields.Count >= 1 && fields.Count <= 3;
                while (i < line.Length && line[i] != ':')
                {
                    if (list && line[i] == '[')
                    {
                        int close = BracketEnd(line, i);
                        if (close > 0) { i = close + 1; continue; }
                    }
                    i++;
                }
                fields.Add(new Field { Text = line.Substring(start, i - start), Column = start + 1 });
            }
            return fields;
        }

        static int BracketEnd(string line, int open)
        {
            for (int j = open + 1; j < line.Length; j++)
            {
                char c = line[j];
                if (c == ']') return j > open + 1 ? j : -1;
                bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
                if (!ok) return -1;
            }
            return -1;
        }

        delegate void Reporter(DiagnosticSeverity severity, string code, int column, string message);

        static RuleList ParseList(RuleListKind kind, Field field, RuleParseOptions options, Reporter report)
        {
            var words = new List<Field>();
            int i = 0;
            var t = field.Text;
            while (i < t.Length)
            {
                if (Array.IndexOf(ListSeparators, t[i]) >= 0) { i++; continue; }
                int start = i;
                while (i < t.Length && Array.IndexOf(ListSeparators, t[i]) < 0) i++;
                words.Add(new Field { Text = t.Substring(start, i - start), Column = field.Column + start });
            }
            if (words.Count == 0)
            {
                report(DiagnosticSeverity.Warning, RuleDiagnosticCodes.EmptyList, field.Column,
                    "the " + kind.ToString().ToLowerInvariant() + " list has no tokens: the rule never matches");
                return new RuleList(kind, field.Text, field.Column, new RuleToken[0], new RuleToken[0], null);
            }
            if (IsExcept(words[0].Text))
                report(DiagnosticSeverity.Warning, RuleDiagnosticCodes.NeverMatches, words[0].Column,
                    "a list that starts with EXCEPT never matches");
            return BuildList(kind, field, words, 0, options, report);
        }

        static bool IsExcept(string word) => string.Equals(word, "EXCEPT", StringComparison.OrdinalIgnoreCase);

        static RuleList BuildList(RuleListKind kind, Field field, List<Field> words, int from, RuleParseOptions options, Reporter report)
        {
            var positive = new List<RuleToken>();
            var all = new List<RuleToken>();
            RuleList except = null;
            for (int i = from; i < words.Count; i++)
            {
                if (IsExcept(words[i].Text))
                {
                    except = BuildList(kind, field, words, i + 1, options, report);
                    all.AddRange(except.Tokens);
                    break;
                }
                var token = ParseToken(kind, words[i], options, report);
                if (token == null) continue;
                positive.Add(token);
                all.Add(token);
            }
            return new RuleList(kind, field.Text, field.Column, all, positive.ToArray(), except);
        }

        static RuleToken ParseToken(RuleListKind kind, Field word, RuleParseOptions options, Reporter report)
        {
            try
            {
                if (kind == RuleListKind.Source)
                {
                    var s = SourceToken.Parse(word.Text, word.Column, options.RegexTimeout);
                    var never = s.Host.Kind == HostPattern.PatternKind.General && s.Host.Address != null ? s.Host.Address.NeverReason : null;
                    if (never != null)
                        report(DiagnosticSeverity.Warning, RuleDiagnosticCodes.NeverMatches, word.Column, never);
                    return s;
                }
                return AddressToken.Parse(word.Text, word.Column, options.RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                report(DiagnosticSeverity.Error, RuleDiagnosticCodes.InvalidRegex, word.Column,
                    "regular expression '" + word.Text + "' does not compile: " + ex.Message);
                return null;
            }
        }

        /// <summary>A rule after one that matches everything (and decides) can never be reached.</summary>
        static void ReportShadowed(List<Rule> rules, string path, List<RuleDiagnostic> diagnostics)
        {
            Rule blocker = null;
            foreach (var r in rules)
            {
                if (blocker != null)
                {
                    var d = new RuleDiagnostic(DiagnosticSeverity.Warning, RuleDiagnosticCodes.Shadowed, path, r.LineNumber, 1,
                        "rule is never reached: line " + blocker.LineNumber + " matches every transaction first");
                    diagnostics.Add(d);
                    ((List<RuleDiagnostic>)r.Diagnostics).Add(d);
                    continue;
                }
                if (r.Verb != RuleVerb.Debug && r.MatchesEverything) blocker = r;
            }
        }
    }
}
