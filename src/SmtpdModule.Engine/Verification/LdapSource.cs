using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Asks a directory (Active Directory, OpenLDAP…) whether an address has a mailbox: one subtree
    /// search under <see cref="LdapSourceOptions.SearchBase"/> with
    /// <see cref="LdapSourceOptions.Filter"/>, the address escaped into it (RFC 4515), no attribute
    /// asked for (RFC 4511 §4.5.1.8: "1.1"). An entry or more is Known, none is Unknown; an error of
    /// any kind (connect, TLS, bind, a search the directory refuses, no answer within
    /// <see cref="LdapSourceOptions.Timeout"/>) is Unavailable with the reason, never Unknown: a
    /// mistyped search base must not refuse everyone.
    /// </summary>
    /// <remarks>
    /// <para><b>Connections.</b> Checks wait in a queue for one of at most
    /// <see cref="LdapSourceOptions.MaxConcurrency"/> workers, threads of their own (made when needed,
    /// kept), each with one connection bound once and kept between checks (<see cref="LdapSession"/>).
    /// The library's calls block, so they never run on the thread pool, whose threads the proxy's
    /// sessions need (four blocked pool threads on a two-core machine made checks wait seconds for a
    /// thread). A connection that fails is closed; a check whose kept connection turns out dead
    /// (the directory restarted, or closed it as idle, as AD does after 15 minutes) tries once more
    /// on a new one. The timeout counts from the question: a check still queued then is Unavailable
    /// ("busy") and skipped, so a flood of RCPTs turns into temporary failures, not a growing wait; a
    /// call the library does not give back holds only its own worker.</para>
    /// <para><b>Only APIs of both builds.</b> Windows PowerShell binds the .NET Framework's
    /// System.DirectoryServices.Protocols (wldap32, the Windows certificate store); PowerShell 7 on
    /// Linux and macOS binds the runtime one over OpenLDAP's libldap, which trusts what its own
    /// configuration says (ldap.conf's TLS_CACERT, or LDAPTLS_CACERT in the process's environment at
    /// start). So nothing here sets certificate callbacks or per-platform TLS options.</para>
    /// <para>Nothing is cached here; the verifier caches answers for
    /// <see cref="LdapSourceOptions.PositiveTtl"/> and <see cref="LdapSourceOptions.NegativeTtl"/>.</para>
    /// </remarks>
    public sealed class LdapSource : IRecipientSource, IDisposable
    {
        /// <summary>The source's name in answers, the log and -Explain.</summary>
        public const string SourceName = "ldap";

        readonly LdapSourceOptions _options;
        readonly BlockingCollection<Job> _queue = new BlockingCollection<Job>(new ConcurrentQueue<Job>());
        int _workers;
        int _idle;
        int _searches;
        volatile bool _disposed;

        /// <param name="options">Copied; later changes do not affect the source.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are not valid (see <see cref="LdapSourceOptions"/>).</exception>
        public LdapSource(LdapSourceOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            _options = options.Snapshot();
        }

        /// <inheritdoc/>
        public string Name => SourceName;

        /// <summary>The settings in use (a copy): the pipeline reads the TTLs from here.</summary>
        public LdapSourceOptions Options => _options;

        /// <summary>Searches sent so far (for status and tests).</summary>
        public int Searches => Volatile.Read(ref _searches);

        /// <summary>Worker threads (each with its connection) made so far; at most MaxConcurrency.</summary>
        public int Workers => Volatile.Read(ref _workers);

        /// <inheritdoc/>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="mailbox"/> is empty.</exception>
        /// <exception cref="ObjectDisposedException">The source was disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; a
        /// search under way finishes on its own and its connection is kept.</exception>
        public async Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default)
        {
            if (mailbox == null) throw new ArgumentNullException(nameof(mailbox));
            if (mailbox.Length == 0) throw new ArgumentException("The mailbox is empty.", nameof(mailbox));
            cancellationToken.ThrowIfCancellationRequested();

            // The monotonic clock: a wall-clock step must not stretch or cut the timeout.
            var job = new Job(mailbox, Stopwatch.GetTimestamp());
            try { _queue.Add(job); }
            catch (InvalidOperationException) { throw new ObjectDisposedException(nameof(LdapSource)); }
            StartWorkerIfNeeded();

            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var left = Left(job.Started);
                var timer = Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, wait.Token);
                if (await Task.WhenAny(job.Done.Task, timer).ConfigureAwait(false) == job.Done.Task)
                {
                    wait.Cancel();
                    return await job.Done.Task.ConfigureAwait(false);
                }
                var begun = !job.TryAbandon();   // a worker that has not begun it will skip it
                cancellationToken.ThrowIfCancellationRequested();
                return Unavailable(begun
                    ? "no answer from " + _options.Target + " within " + _options.Timeout.TotalSeconds + " s"
                    : "all " + _options.MaxConcurrency + " connections to " + _options.Target + " busy for " + _options.Timeout.TotalSeconds + " s");
            }
        }

        /// <summary>A new worker when none is idle and the limit allows one. A race may leave a check
        /// waiting for a worker that is just finishing; it costs that one search's time, never a check.</summary>
        void StartWorkerIfNeeded()
        {
            if (Volatile.Read(ref _idle) > 0) return;
            if (Interlocked.Increment(ref _workers) > _options.MaxConcurrency)
            {
                Interlocked.Decrement(ref _workers);
                return;
            }
            new Thread(Work) { IsBackground = true, Name = "smtpd-ldap " + _options.Target }.Start();
        }

        void Work()
        {
            using (var session = new LdapSession(_options, () => Interlocked.Increment(ref _searches)))
            {
                while (true)
                {
                    Job job;
                    Interlocked.Increment(ref _idle);
                    try
                    {
                        if (!_queue.TryTake(out job, Timeout.Infinite)) return;   // disposed, and nothing left
                    }
                    finally { Interlocked.Decrement(ref _idle); }
                    if (!job.TryBegin()) continue;   // its caller gave up while it waited
                    RecipientAnswer answer;
                    try
                    {
                        answer = _disposed ? Unavailable("the source was closed") : session.Check(job.Mailbox, () => Left(job.Started));
                    }
                    catch (Exception ex)
                    {
                        // LdapSession never throws; should it, the worker must not die with its connection.
                        answer = Unavailable(ex.GetType().Name + ": " + ex.Message);
                    }
                    job.Done.TrySetResult(answer);
                }
            }
        }

        /// <summary>What is left of the check's timeout since <paramref name="started"/> (a Stopwatch timestamp).</summary>
        TimeSpan Left(long started) =>
            _options.Timeout - TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency);

        RecipientAnswer Unavailable(string detail) => new RecipientAnswer(MailboxStatus.Unavailable, Name, detail);

        /// <summary>No more checks; each worker closes its connection and ends once its check in hand is done.</summary>
        public void Dispose()
        {
            _disposed = true;
            _queue.CompleteAdding();
        }

        /// <summary>One check on its way through the queue: begun by a worker or abandoned by its caller, never both.</summary>
        sealed class Job
        {
            const int Queued = 0, Begun = 1, Abandoned = 2;
            int _state;

            public Job(string mailbox, long started)
            {
                Mailbox = mailbox;
                Started = started;
            }

            public string Mailbox { get; }
            public long Started { get; }
            // Continuations run on the thread pool, never on the worker that completes the task.
            public TaskCompletionSource<RecipientAnswer> Done { get; } = new TaskCompletionSource<RecipientAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);

            public bool TryBegin() => Interlocked.CompareExchange(ref _state, Begun, Queued) == Queued;
            public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued;
        }
    }
}
