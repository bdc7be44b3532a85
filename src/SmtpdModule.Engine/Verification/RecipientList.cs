using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using SmtpdModule.Engine.Files;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// A compiled recipient list (format: <see cref="RecipientListSource"/>). Immutable once built,
    /// so one instance is shared by every session thread without locks; a reload builds a new one.
    /// </summary>
    public sealed class RecipientList
    {
        static readonly Task<RecipientAnswer> DomainNotListed = Answer("domain not listed");
        static readonly Task<RecipientAnswer> NoEntry = Answer("no entry for this address");
        static readonly Task<RecipientAnswer> NoDomain = Answer("no domain in the address");

        readonly Dictionary<string, RecipientListDomain> _domains;

        internal RecipientList(string path, Dictionary<string, RecipientListDomain> domains, int entryCount, DateTime? fileTimeUtc, long fileLength)
        {
            Path = path;
            _domains = domains;
            EntryCount = entryCount;
            FileTimeUtc = fileTimeUtc;
            FileLength = fileLength;
            Domains = new List<string>(domains.Keys).AsReadOnly();
        }

        /// <summary>The file it was read from; null for a list parsed from text.</summary>
        public string Path { get; }
        /// <summary>Entries loaded (comment and blank lines not counted).</summary>
        public int EntryCount { get; }
        /// <summary>The domains the list speaks for, in ASCII (A-label) form, lower case.</summary>
        public IReadOnlyList<string> Domains { get; }
        /// <summary>The file's time stamp and length when it was read: what a reload compares.</summary>
        internal DateTime? FileTimeUtc { get; }
        internal long FileLength { get; }

        /// <summary>Compiles list text (the format described on <see cref="RecipientListSource"/>).</summary>
        /// <param name="text">The list.</param>
        /// <param name="path">Named in errors; null for text that came from nowhere in particular.</param>
        /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
        /// <exception cref="RecipientListException">The text has malformed lines.</exception>
        public static RecipientList Parse(string text, string path = null) =>
            RecipientListParser.Parse(text ?? throw new ArgumentNullException(nameof(text)), path);

        /// <summary>Reads and compiles a list file (UTF-8; a BOM is fine).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
        /// <exception cref="RecipientListException">The file cannot be read (<see cref="RecipientListException.IsUnreadable"/>) or has malformed lines.</exception>
        public static RecipientList Load(string path)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            FileSnapshot file;
            try { file = FileSnapshot.Read(path); }
            catch (Exception ex) when (FileSnapshot.IsReadError(ex))
            {
                throw new RecipientListException(path, new[] { new RecipientListError(0, 0, "cannot read the recipient list: " + ex.Message) }, ex);
            }
            return RecipientListParser.Parse(file.Bytes, path, file.TimeUtc, file.Length);
        }

        /// <summary>What the list says of <paramref name="mailbox"/> (<c>local@domain</c>, no angle brackets).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        public RecipientAnswer Check(string mailbox) => Lookup(mailbox ?? throw new ArgumentNullException(nameof(mailbox))).Result;

        /// <summary>The answer as a completed task: each entry keeps its answer once made, so a hit
        /// allocates only the two halves of the address.</summary>
        internal Task<RecipientAnswer> Lookup(string mailbox)
        {
            int at = mailbox.LastIndexOf('@');
            // RFC 5321 §4.1.1.3 lets RCPT TO:<Postmaster> go without a domain and requires it be
            // accepted: the pipeline must take it before asking any source; a list cannot list it.
            if (at < 0 || at == mailbox.Length - 1) return NoDomain;
            var domain = RecipientListAddress.Domain(mailbox.Substring(at + 1), validate: false, out _);
            if (domain == null || !_domains.TryGetValue(domain, out var table)) return DomainNotListed;
            var entry = table.Find(RecipientListAddress.Local(mailbox.Substring(0, at)));
            return entry != null ? entry.Answer : NoEntry;
        }

        static Task<RecipientAnswer> Answer(string detail) =>
            Task.FromResult(new RecipientAnswer(MailboxStatus.Unknown, RecipientListSource.SourceName, detail));
    }
}
