using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>One source's answer for one address, with what it rests on.</summary>
    public sealed class RecipientAnswer
    {
        public RecipientAnswer(MailboxStatus status, string source, string detail, bool fromCache = false)
        {
            Status = status;
            Source = source ?? throw new ArgumentNullException(nameof(source));
            Detail = detail;
            FromCache = fromCache;
        }

        public MailboxStatus Status { get; }
        /// <summary>The source that answered: "list", "callahead", "ldap".</summary>
        public string Source { get; }
        /// <summary>Why, for the log and -Explain: the list line that matched, the downstream's reply, the error.</summary>
        public string Detail { get; }
        /// <summary>Answered from the cache, not asked now.</summary>
        public bool FromCache { get; }

        /// <summary>The sources asked before this one that could not answer, in order (the verifier
        /// passed over them); empty when this source was the first asked.</summary>
        public IReadOnlyList<RecipientAnswer> PassedOver { get; private set; } = NoAnswers;

        static readonly RecipientAnswer[] NoAnswers = new RecipientAnswer[0];

        public RecipientAnswer Cached() => new RecipientAnswer(Status, Source, Detail, fromCache: true);

        /// <summary>This answer, after <paramref name="earlier"/> sources that could not answer.</summary>
        internal RecipientAnswer After(IReadOnlyList<RecipientAnswer> earlier) =>
            earlier == null || earlier.Count == 0 ? this
            : new RecipientAnswer(Status, Source, Detail, FromCache) { PassedOver = earlier.ToArray() };

        /// <summary>"callahead: Known (250 2.1.5 OK) [cached]"; sources passed over come first, each
        /// followed by " -> ", so the log and -Explain show every source asked.</summary>
        public override string ToString() =>
            string.Concat(PassedOver.Select(a => a.Describe() + " -> ")) + Describe();

        string Describe() => Source + ": " + Status + (Detail != null ? " (" + Detail + ")" : "") + (FromCache ? " [cached]" : "");
    }
}
