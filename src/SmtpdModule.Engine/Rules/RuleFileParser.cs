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
        /// <summary>Parses <paramref name="text"/>; never throws for content problems, which are diagnostics.</summary>
        public static RuleParseResult Parse(string text, string path, RuleParseOptions options = null)
        {
            var context = new ParseContext(path, options ?? RuleParseOptions.Default);
            var rules = new List<Rule>();
            int lineNumber = 0, pos = 0;
            text = text ?? "";
            if (text.Length > 0 && text[0] == '\uFEFF') pos = 1;   // a BOM from a Windows editor

            while (pos < text.Length)
            {
                int nl = text.IndexOf('\n', pos);
                int end = nl < 0 ? text.Length : nl;
                int lineEnd = end > pos && text[end - 1] == '\r' ? end - 1 : end;
                lineNumber++;
                int first = pos;
                while (first < lineEnd && (text[first] == ' ' || text[first] == '\t')) first++;
                // Blank and comment lines (indented ones too) are skipped without being copied.
                if (first < lineEnd && text[first] != '#')
                {
                    var rule = ParseLine(text.Substring(pos, lineEnd - pos), lineNumber, rules.Count, context);
                    if (rule != null) rules.Add(rule);
                }
                pos = nl < 0 ? text.Length : nl + 1;
            }

            ReportShadowed(rules, context);
            var diagnostics = context.Diagnostics;
            // File order, whatever pass found them (shadowing is found after the line's own checks).
            if (diagnostics.Count > 1)
                diagnostics = diagnostics.Select((d, i) => (d, i)).OrderBy(x => x.d.Line).ThenBy(x => x.d.Column).ThenBy(x => x.i).Select(x => x.d).ToList();
            return new RuleParseResult(path, rules, diagnostics, context.Scores.Values.OrderBy(d => d.LineNumber).ToArray());
        }

        static Rule ParseLine(string line, int lineNumber, int index, ParseContext context)
        {
            context.BeginLine(lineNumber);
            var fields = SplitFields(line);
            if (fields.Count > 0 && fields[0].Text == ScoreParser.Keyword)
            {
                // A definition, not a rule: it decides nothing until a SCORE. token below uses it.
                ScoreParser.ParseDefinition(line, lineNumber, fields.Select(f => (f.Text, f.Column)).ToList(), context);
                return null;
            }
            if (fields.Count < 4)
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadFieldCount, 1,
                    "bad field count: " + fields.Count + " field" + (fields.Count == 1 ? "" : "s") + ", a rule needs action:source:from:to[:message]");
                return null;
            }

            if (!TryParseVerb(fields[0].Text, out var verb))
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.UnknownAction, fields[0].Column,
                    "unknown action '" + fields[0].Text + "' (allow, noto, deny, noto_delay, deny_delay, debug; lower case)");

            ReplyTemplate message = null;
            if (fields.Count >= 5)
            {
                var f5 = fields[4];
                int skip = SkipWhite(f5.Text);
                // A fifth field starting with '#' is a comment instead of a message: the rest of the line is ignored.
                if (skip >= f5.Text.Length || f5.Text[skip] != '#')
                {
                    message = context.Template(f5.Text.Substring(skip));
                    if (fields.Count >= 6)
                    {
                        var f6 = fields[5];
                        int s6 = SkipWhite(f6.Text);
                        if (s6 >= f6.Text.Length || f6.Text[s6] != '#')
                            context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.JunkAtEnd, f6.Column - 1,
                                "junk at end of line after the message: '" + f6.Text + "' (a message cannot contain ':'; write %C)");
                    }
                    var problem = message.Problem;
                    if (problem != null)
                        context.Report(DiagnosticSeverity.Warning, RuleDiagnosticCodes.BogusTemplate, f5.Column + skip, problem);
                }
            }

            var source = RuleListParser.Parse(RuleListKind.Source, fields[1].Text, fields[1].Column, context);
            var from = RuleListParser.Parse(RuleListKind.From, fields[2].Text, fields[2].Column, context);
            var to = RuleListParser.Parse(RuleListKind.To, fields[3].Text, fields[3].Column, context);

            if (context.LineHasError) return null;
            return new Rule(index, lineNumber, line, verb, source, from, to, message, context.LineDiagnostics);
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
                case "grey": verb = RuleVerb.Grey; return true;
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
            var fields = new List<Field>(6);
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

        /// <summary>A rule after one that matches everything (and decides) can never be reached.</summary>
        static void ReportShadowed(List<Rule> rules, ParseContext context)
        {
            Rule blocker = null;
            foreach (var r in rules)
            {
                if (blocker != null)
                {
                    var d = new RuleDiagnostic(DiagnosticSeverity.Warning, RuleDiagnosticCodes.Shadowed, context.Path, r.LineNumber, 1,
                        "rule is never reached: line " + blocker.LineNumber + " matches every transaction first");
                    context.Diagnostics.Add(d);
                    r.AddDiagnostic(d);
                    continue;
                }
                if (r.Verb != RuleVerb.Debug && r.Verb != RuleVerb.Grey && r.MatchesEverything) blocker = r;
            }
        }
    }
}
