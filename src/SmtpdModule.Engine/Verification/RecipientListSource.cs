using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Files;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Recipient verification from a file of valid addresses and domains (Postfix's
    /// relay_recipient_maps, as a flat file), followed as it is edited.
    /// </summary>
    /// <remarks>
    /// <para><b>The file.</b> UTF-8 (a BOM is fine), one entry a line. Blank lines and lines whose
    /// first non-blank character is <c>#</c> are ignored; there are no comments after an entry (a
    /// <c>#</c> may be part of an address), so white space inside an entry is an error.</para>
    /// <list type="table">
    /// <item><term><c>user@example.org</c></term><description>this address exists.</description></item>
    /// <item><term><c>@example.org</c>, <c>*@example.org</c></term><description>every address of the
    /// domain exists (a catch-all domain).</description></item>
    /// <item><term><c>sales-*@example.org</c></term><description>a wildcard in the local part:
    /// <c>*</c> is any run of characters (none included), <c>?</c> exactly one. Wildcards are for the
    /// local part only; the domain is always written out.</description></item>
    /// <item><term><c>!user@example.org</c></term><description>a refusal: this address does not
    /// exist even when a wildcard or catch-all entry would admit it. Refusals may use wildcards too
    /// (<c>!test-*@example.org</c>). Any matching refusal wins over any admitting entry, wherever
    /// the lines stand.</description></item>
    /// </list>
    /// <para><b>Comparison.</b> Domains are compared in their IDNA ASCII form (RFC 5890), so
    /// <c>bücher.example</c> in the file and <c>xn--bcher-kva.example</c> in RCPT TO (or the
    /// reverse) are the same domain, and case never matters. Local parts are compared ignoring case
    /// as well, after Unicode NFC normalization: RFC 5321 allows a case-sensitive local part, but no
    /// common server makes one, and Postfix's relay_recipient_maps compare the same way, so
    /// <c>John@example.org</c> is the same recipient as <c>john@example.org</c>. The local part is
    /// compared as written (a quoted form is not unquoted), and <c>*</c> and <c>?</c> in it are always
    /// wildcards.</para>
    /// <para><b>Answers.</b> An address is <see cref="MailboxStatus.Unknown"/> with detail "domain
    /// not listed" when its domain appears in no entry: the list is the whole truth about the
    /// domains the proxy relays for, and names them all. An address of a listed domain that no
    /// entry admits is Unknown with "no entry for this address"; one that an entry decides carries
    /// that entry's line ("line 3: sales-*@example.org"). The list never answers
    /// <see cref="MailboxStatus.Unavailable"/>: once loaded, it always answers from memory.</para>
    /// <para><b>Reloading.</b> Each lookup checks the file's time stamp and length at most once per
    /// <see cref="CheckInterval"/>; a changed file is compiled again and replaces the list at once
    /// for every session. A broken edit, or a deleted or unreadable file, keeps the last good list
    /// in force and is reported once through <see cref="ReloadFailed"/>. One lookup per interval
    /// claims the check and, if the file changed, reads it; lookups on other threads meanwhile answer
    /// from the list in force without waiting.</para>
    /// <para>Polling rather than a file-system watcher, as <c>RulesFile</c> does: it behaves the same on
    /// every platform and file system (network shares included) and costs one stat per interval.</para>
    /// </remarks>
    public sealed class RecipientListSource : IRecipientSource
    {
        /// <summary>The source's name in answers, the log and -Explain.</summary>
        public const string SourceName = "list";

        readonly WatchedFile<RecipientList, RecipientListException> _file;

        RecipientListSource(WatchedFile<RecipientList, RecipientListException> file) { _file = file; }

        public string Name => SourceName;
        /// <summary>The list file, a full path.</summary>
        public string Path => _file.Path;
        public TimeSpan CheckInterval => _file.CheckInterval;
        /// <summary>The error of the last failed reload while it is still the file's state; null once a reload succeeds.</summary>
        public RecipientListException LastError => _file.LastError;

        /// <summary>Raised (on the thread that noticed the change) after a new list took effect.</summary>
        public event EventHandler<RecipientList> Reloaded { add => _file.Reloaded += value; remove => _file.Reloaded -= value; }
        /// <summary>Raised once per broken state of the file; the previous list stays in force.</summary>
        public event EventHandler<RecipientListException> ReloadFailed { add => _file.ReloadFailed += value; remove => _file.ReloadFailed -= value; }

        /// <summary>Loads the list.</summary>
        /// <param name="path">The list file.</param>
        /// <param name="checkInterval">How often a lookup may look at the file; one second when null.</param>
        /// <param name="clock">The time the interval is measured by; the machine's clock when null.</param>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="checkInterval"/> is negative.</exception>
        /// <exception cref="RecipientListException">The file cannot be read or has errors.</exception>
        public static RecipientListSource Open(string path, TimeSpan? checkInterval = null, ISystemClock clock = null)
        {
            var now = clock ?? SystemClock.Instance;
            return new RecipientListSource(new WatchedFile<RecipientList, RecipientListException>(path ?? throw new ArgumentNullException(nameof(path)),
                RecipientList.Load, list => (list.FileTimeUtc, list.FileLength), checkInterval ?? TimeSpan.FromSeconds(1), () => now.UtcNow));
        }

        /// <summary>The list in force, after looking at the file if the interval has passed.</summary>
        public RecipientList Current => _file.Current;

        /// <summary>What the list says of <paramref name="mailbox"/>; never blocks on I/O beyond the
        /// interval's stat (and the read of a file that changed).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        public RecipientAnswer Check(string mailbox) => Current.Check(mailbox);

        /// <summary>As <see cref="Check"/>, as the completed task <see cref="IRecipientSource"/> asks for.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was already cancelled (the task is cancelled).</exception>
        public Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default)
        {
            if (mailbox == null) throw new ArgumentNullException(nameof(mailbox));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<RecipientAnswer>(cancellationToken);
            return Current.Lookup(mailbox);
        }

        /// <summary>Looks at the file now, whatever the interval. True when a new list took effect.</summary>
        public bool CheckNow() => _file.CheckNow();
    }
}
