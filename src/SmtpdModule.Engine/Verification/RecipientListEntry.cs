using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>One line of a recipient list, compiled. Immutable but for its answer, made once on
    /// the first match, so later matches allocate nothing.</summary>
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
        /// <summary>Made at the entry's first match and kept (a race makes two equal ones, and one
        /// wins), so a large list costs no answers for addresses nobody writes to.</summary>
        internal Task<RecipientAnswer> Answer => Volatile.Read(ref _answer) ?? MakeAnswer();

        Task<RecipientAnswer> _answer;

        Task<RecipientAnswer> MakeAnswer()
        {
            var answer = Task.FromResult(new RecipientAnswer(
                Negative ? MailboxStatus.Unknown : MailboxStatus.Known, RecipientListSource.SourceName,
                "line " + Line + ": " + Text));
            return Interlocked.CompareExchange(ref _answer, answer, null) ?? answer;
        }

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
