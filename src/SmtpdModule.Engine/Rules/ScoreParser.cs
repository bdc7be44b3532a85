using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Parses score definitions (<c>score:name:zone[=filter|&amp;mask][*weight] ...[:# comment]</c>) and
    /// score tokens (<c>SCORE.name&gt;=N</c>). Neither form could appear in a file written for the
    /// original: <c>score</c> is not one of its actions, and '&gt;' never occurs in a host name.
    /// </summary>
    internal static class ScoreParser
    {
        /// <summary>The weight bound: far beyond any useful score, small enough that sums never overflow.</summary>
        public const int MaxWeight = 1000;

        /// <summary>The first field of a definition line.</summary>
        public const string Keyword = "score";

        /// <summary>Parses one definition from its fields after the keyword; reports problems and returns null on error.</summary>
        public static ScoreDefinition ParseDefinition(string line, int lineNumber, IReadOnlyList<(string Text, int Column)> fields, ParseContext context)
        {
            if (fields.Count < 3)
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, 1,
                    "bad score definition: score:name:zone*weight ... expected");
                return null;
            }
            var name = fields[1];
            if (!IsName(name.Text))
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, name.Column,
                    "bad score name '" + name.Text + "': letters, digits, '-' and '_' only");
                return null;
            }
            if (context.Scores.TryGetValue(name.Text, out var earlier))
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.DuplicateScore, name.Column,
                    "score '" + name.Text + "' is already defined on line " + earlier.LineNumber);
                return null;
            }
            for (int i = 3; i < fields.Count; i++)
            {
                var t = fields[i].Text.TrimStart();
                if (t.Length > 0 && t[0] == '#') break;   // a comment ends the line, as after a rule's message
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.JunkAtEnd, fields[i].Column - 1,
                    "junk at end of score definition: '" + fields[i].Text + "' (entries are separated by blanks or commas)");
                return null;
            }

            var entries = new List<ScoreEntry>();
            var text = fields[2].Text;
            int col = fields[2].Column, pos = 0;
            while (pos < text.Length)
            {
                if (text[pos] == ' ' || text[pos] == '\t' || text[pos] == ',') { pos++; continue; }
                int start = pos;
                while (pos < text.Length && text[pos] != ' ' && text[pos] != '\t' && text[pos] != ',') pos++;
                var entry = ParseEntry(text.Substring(start, pos - start), col + start, context);
                if (entry != null) entries.Add(entry);
            }
            if (entries.Count == 0 && !context.LineHasError)
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, col, "score '" + name.Text + "' names no list");
            if (context.LineHasError) return null;
            var definition = new ScoreDefinition(name.Text, lineNumber, line, entries);
            context.Scores[name.Text] = definition;
            return definition;
        }

        static ScoreEntry ParseEntry(string word, int column, ParseContext context)
        {
            int star = word.LastIndexOf('*');
            int weight = 1;
            var list = word;
            if (star >= 0)
            {
                var w = word.Substring(star + 1);
                if (!TryInteger(w, out weight) || weight == 0 || Math.Abs(weight) > MaxWeight)
                {
                    context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, column + star + 1,
                        "bad weight '" + w + "' in '" + word + "': a whole number from -" + MaxWeight + " to " + MaxWeight + ", not 0");
                    return null;
                }
                list = word.Substring(0, star);
            }
            // The zone and filter mean exactly what they mean after RBL.
            var pattern = IpPattern.Parse("RBL." + list);
            if (pattern.FilterError != null)
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadDnsblFilter, column + pattern.FilterErrorOffset - 4, pattern.FilterError);
                return null;
            }
            if (pattern.Kind != IpPattern.PatternKind.Dnsbl || !IsZone(pattern.DnsblZone))
            {
                context.Report(DiagnosticSeverity.Error, RuleDiagnosticCodes.BadScore, column, "'" + list + "' names no valid DNSBL zone");
                return null;
            }
            return new ScoreEntry(word, pattern, weight);
        }

        /// <summary>Parses the text of a <c>SCORE.name&gt;=N</c> token.</summary>
        /// <returns>The test, or null with <paramref name="error"/> and its offset in the token.</returns>
        public static ScoreTest ParseToken(string word, int offset, out string error, out int errorOffset)
        {
            error = null;
            int ge = word.IndexOf(">=", StringComparison.Ordinal);
            errorOffset = ScoreTest.Prefix.Length;
            var name = ge < 0 ? word.Substring(ScoreTest.Prefix.Length) : word.Substring(ScoreTest.Prefix.Length, ge - ScoreTest.Prefix.Length);
            if (ge < 0) { error = "bad score token '" + word + "': SCORE.name>=threshold expected"; return null; }
            if (!IsName(name)) { error = "bad score name '" + name + "' in '" + word + "': letters, digits, '-' and '_' only"; return null; }
            var n = word.Substring(ge + 2);
            errorOffset = ge + 2;
            if (!TryInteger(n, out int threshold))
            {
                error = "bad threshold '" + n + "' in '" + word + "': a whole number expected";
                return null;
            }
            return new ScoreTest(name, threshold, offset);
        }

        static bool IsName(string s)
        {
            if (s.Length == 0 || s.Length > 64) return false;
            foreach (var c in s)
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')) return false;
            return true;
        }

        static bool IsZone(string s)
        {
            foreach (var c in s)
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) return false;
            return true;
        }

        static bool TryInteger(string s, out int value)
        {
            value = 0;
            int i = 0, sign = 1;
            if (s.Length > 0 && (s[0] == '-' || s[0] == '+')) { sign = s[0] == '-' ? -1 : 1; i = 1; }
            if (i == s.Length || s.Length - i > 6) return false;
            for (; i < s.Length; i++)
            {
                if (s[i] < '0' || s[i] > '9') return false;
                value = value * 10 + (s[i] - '0');
            }
            value *= sign;
            return true;
        }
    }
}
