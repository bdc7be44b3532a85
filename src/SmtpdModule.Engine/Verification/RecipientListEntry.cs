using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>One line of a recipient list, compiled. Immutable; its answer is made once at load so
    /// a lookup that matches allocates nothing.</summary>
    internal sealed class RecipientListEntry
    {
        internal RecipientListEntry(int line, string text, bool negative, string local, bool wildcard)
        {
            Line = line;
            Text = text;
            Negative = negative;
            Local = local;
            MatchesAll = wildcard && IsOnlyStars(local);
            Pattern = wildcard && !MatchesAll ? RecipientListPattern.Compile(local) : null;
            Answer = Task.FromResult(new RecipientAnswer(
                negative ? RecipientStatus.Unknown : RecipientStatus.Known, RecipientListSource.SourceName,
                "line " + line + ": " + text));
        }

        internal int Line { get; }
        /// <summary>The entry as written, for the answer's detail.</summary>
        internal string Text { get; }
        internal bool Negative { get; }
        /// <summary>The local part in NFC (exact entries) or the pattern as written (wildcards).</summary>
        internal string Local { get; }
        /// <summary><c>@domain</c> and <c>*@domain</c>: every address of the domain.</summary>
        internal bool MatchesAll { get; }
        /// <summary>Compiled wildcard; null for exact entries and catch-alls.</summary>
        internal string Pattern { get; }
        internal Task<RecipientAnswer> Answer { get; }

        internal bool IsMatch(string local) =>
            MatchesAll || (Pattern != null ? RecipientListPattern.IsMatch(Pattern, local) : RecipientListAddress.Comparer.Equals(Local, local));

        static bool IsOnlyStars(string s)
        {
            foreach (var c in s)
                if (c != '*') return false;
            return true;
        }
    }
}
