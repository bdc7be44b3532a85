using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using SmtpdModule.Engine.Files;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A compiled, validated rules file: immutable and safe to share between sessions.</summary>
    public sealed class RuleSet
    {
        RuleSet(string path, IReadOnlyList<Rule> rules, IReadOnlyList<RuleDiagnostic> diagnostics, DateTime? fileTimeUtc, long fileLength, string sha256,
                IReadOnlyList<ScoreDefinition> scores)
        {
            Scores = scores;
            Sha256 = sha256;
            Path = path;
            Rules = rules;
            Diagnostics = diagnostics;
            FileTimeUtc = fileTimeUtc;
            FileLength = fileLength;
            Index = new RuleIndex(rules);
        }

        public string Path { get; }
        /// <summary>The SHA-256 of the file's bytes as read (of the text's UTF-8 when parsed from text), lower-case
        /// hex: what Get-FileHash shows, so a decision record names the exact rules it was made under.</summary>
        public string Sha256 { get; }
        public IReadOnlyList<Rule> Rules { get; }
        /// <summary>The score definitions (<c>score:</c> lines), in file order.</summary>
        public IReadOnlyList<ScoreDefinition> Scores { get; }
        /// <summary>The warnings of the file (a loaded set has no errors).</summary>
        public IReadOnlyList<RuleDiagnostic> Diagnostics { get; }
        internal DateTime? FileTimeUtc { get; }
        internal long FileLength { get; }
        internal RuleIndex Index { get; }
        /// <summary>Rules reached through the index rather than tried for every check.</summary>
        public int IndexedRuleCount => Index.IndexedCount;

        /// <summary>Compiles rules text.</summary>
        /// <exception cref="RuleFileException">The text has errors; every diagnostic is attached.</exception>
        public static RuleSet Parse(string text, string path = null, RuleParseOptions options = null) =>
            FromResult(RuleFileParser.Parse(text, path, options), null, 0, HashOf(new UTF8Encoding(false).GetBytes(text ?? "")));

        /// <summary>Reads and compiles a rules file (UTF-8; a BOM is fine).</summary>
        /// <exception cref="RuleFileException">The file cannot be read, or has errors.</exception>
        public static RuleSet Load(string path, RuleParseOptions options = null)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            FileSnapshot file;
            try { file = FileSnapshot.Read(path); }
            catch (Exception ex) when (FileSnapshot.IsReadError(ex))
            {
                var d = new RuleDiagnostic(DiagnosticSeverity.Error, RuleDiagnosticCodes.UnreadableFile, path, 0, 0, "cannot read the rules file: " + ex.Message);
                throw new RuleFileException(path, new[] { d }, ex);
            }
            string text;
            using (var reader = new StreamReader(new MemoryStream(file.Bytes), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
                text = reader.ReadToEnd();
            return FromResult(RuleFileParser.Parse(text, path, options), file.TimeUtc, file.Length, HashOf(file.Bytes));
        }

        static RuleSet FromResult(RuleParseResult result, DateTime? time, long length, string sha256)
        {
            if (result.HasErrors) throw new RuleFileException(result.Path, result.Diagnostics);
            return new RuleSet(result.Path, result.Rules, result.Diagnostics.ToArray(), time, length, sha256, result.Scores);
        }

        static string HashOf(byte[] bytes)
        {
            using (var sha = System.Security.Cryptography.SHA256.Create())
            {
                var hash = sha.ComputeHash(bytes);
                var sb = new StringBuilder(64);
                foreach (var b in hash) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }
    }
}
