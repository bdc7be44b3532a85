using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
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

        readonly object _gate = new object();
        readonly ISystemClock _clock;
        RecipientList _current;
        long _nextCheckTicks;
        (DateTime, long)? _failedStamp;

        RecipientListSource(string path, RecipientList initial, TimeSpan interval, ISystemClock clock)
        {
            Path = path;
            _current = initial;
            CheckInterval = interval;
            _clock = clock;
            _nextCheckTicks = clock.UtcNow.UtcTicks + interval.Ticks;
        }

        public string Name => SourceName;
        /// <summary>The list file, a full path.</summary>
        public string Path { get; }
        public TimeSpan CheckInterval { get; }
        /// <summary>The error of the last failed reload while it is still the file's state; null once a reload succeeds.</summary>
        public RecipientListException LastError { get; private set; }

        /// <summary>Raised (on the thread that noticed the change) after a new list took effect.</summary>
        public event EventHandler<RecipientList> Reloaded;
        /// <summary>Raised once per broken state of the file; the previous list stays in force.</summary>
        public event EventHandler<RecipientListException> ReloadFailed;

        /// <summary>Loads the list.</summary>
        /// <param name="path">The list file.</param>
        /// <param name="checkInterval">How often a lookup may look at the file; one second when null.</param>
        /// <param name="clock">The time the interval is measured by; the machine's clock when null.</param>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="checkInterval"/> is negative.</exception>
        /// <exception cref="RecipientListException">The file cannot be read or has errors.</exception>
        public static RecipientListSource Open(string path, TimeSpan? checkInterval = null, ISystemClock clock = null)
        {
            var full = System.IO.Path.GetFullPath(path ?? throw new ArgumentNullException(nameof(path)));
            var interval = checkInterval ?? TimeSpan.FromSeconds(1);
            if (interval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(checkInterval), interval, "The check interval cannot be negative.");
            return new RecipientListSource(full, RecipientList.Load(full), interval, clock ?? SystemClock.Instance);
        }

        /// <summary>The list in force, after looking at the file if the interval has passed.</summary>
        public RecipientList Current
        {
            get
            {
                long now = _clock.UtcNow.UtcTicks, due = Interlocked.Read(ref _nextCheckTicks);
                // One thread claims the check; the others answer from the list in force meanwhile.
                if (now >= due && Interlocked.CompareExchange(ref _nextCheckTicks, now + CheckInterval.Ticks, due) == due)
                    Reload();
                return Volatile.Read(ref _current);
            }
        }

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
        public bool CheckNow()
        {
            Interlocked.Exchange(ref _nextCheckTicks, _clock.UtcNow.UtcTicks + CheckInterval.Ticks);
            return Reload();
        }

        bool Reload()
        {
            RecipientList loaded = null;
            RecipientListException failed = null;
            lock (_gate)
            {
                var stamp = Stamp();
                var cur = _current;
                if (stamp != null && stamp.Value.Item1 == cur.FileTimeUtc && stamp.Value.Item2 == cur.FileLength)
                {
                    // Back to the file the list in force was read from (a broken edit undone): nothing stands against it.
                    _failedStamp = null;
                    LastError = null;
                    return false;
                }
                if (stamp != null && _failedStamp != null && stamp.Value == _failedStamp.Value)
                    return false;   // same broken state: already reported
                if (stamp == null && _failedStamp != null && _failedStamp.Value.Item2 < 0)
                    return false;   // still missing: already reported
                try
                {
                    loaded = RecipientList.Load(Path);
                    Volatile.Write(ref _current, loaded);
                    _failedStamp = null;
                    LastError = null;
                }
                catch (RecipientListException ex)
                {
                    failed = ex;
                    _failedStamp = stamp ?? (DateTime.MinValue, -1L);
                    LastError = ex;
                }
            }
            if (loaded != null) Reloaded?.Invoke(this, loaded);
            if (failed != null) ReloadFailed?.Invoke(this, failed);
            return loaded != null;
        }

        (DateTime, long)? Stamp()
        {
            try
            {
                var info = new FileInfo(Path);
                if (!info.Exists) return null;
                return (info.LastWriteTimeUtc, info.Length);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
