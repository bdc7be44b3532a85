using System;

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

        public RecipientAnswer Cached() => new RecipientAnswer(Status, Source, Detail, fromCache: true);

        public override string ToString() => Source + ": " + Status + (Detail != null ? " (" + Detail + ")" : "") + (FromCache ? " [cached]" : "");
    }
}
