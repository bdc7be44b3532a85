using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Delivers by running a sendmail-compatible program, as smtpfwdd did (reference §5.2):
    /// <c>program [extra…] -oi -f sender -- recipient…</c>, the message bytes on standard input,
    /// and the exit status (sysexits.h) for the answer.
    /// </summary>
    /// <remarks>
    /// <para>No shell: the arguments reach the program as they are, and <c>--</c> keeps a
    /// recipient that starts with <c>-</c> from being read as an option (reference §9: no option
    /// injection). <c>-oi</c> keeps a line holding a lone dot from ending the message. The null
    /// sender is an empty argument after <c>-f</c>.</para>
    /// <para>Recipients go in runs of at most <see cref="SendmailTransportOptions.MaxRecipientsPerRun"/>;
    /// each run's exit status decides for its recipients only. A run that outlives the timeout is
    /// killed and deferred. What the program prints is read (so it never blocks on a full pipe)
    /// and its first KiB kept for the diagnostic.</para>
    /// </remarks>
    public sealed class SendmailTransport : IMessageTransport
    {
        const int KeptOutput = 1024;
        const string Unix = "x-unix";
        const string Local = "x-local";

        readonly string _program;
        readonly string _name;
        readonly string[] _extra;
        readonly int _batch;
        readonly TimeSpan _timeout;

        /// <param name="options">Copied; later changes do not affect the transport.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">No program, fewer than one recipient per run, or a
        /// timeout that is not positive.</exception>
        public SendmailTransport(SendmailTransportOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            if (string.IsNullOrWhiteSpace(options.ProgramPath)) throw new ArgumentException("ProgramPath is required.", nameof(options));
            if (options.MaxRecipientsPerRun < 1) throw new ArgumentException("MaxRecipientsPerRun must be at least 1.", nameof(options));
            if (options.Timeout <= TimeSpan.Zero) throw new ArgumentException("Timeout must be positive.", nameof(options));
            _program = options.ProgramPath;
            _name = Path.GetFileName(_program);
            _extra = options.ExtraArguments.ToArray();
            _batch = options.MaxRecipientsPerRun;
            _timeout = options.Timeout;
        }

        /// <inheritdoc/>
        public string Target => "sendmail:" + _program;

        /// <summary>The arguments of one run (without the program).</summary>
        internal IReadOnlyList<string> Arguments(string sender, IEnumerable<string> recipients)
        {
            var args = new List<string>(_extra) { "-oi", "-f", sender ?? "", "--" };
            args.AddRange(recipients);
            return args;
        }

        /// <inheritdoc/>
        public async Task<DeliveryResult> DeliverAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            var results = new List<RecipientResult>(message.Recipients.Count);
            for (var start = 0; start < message.Recipients.Count; start += _batch)
            {
                var batch = message.Recipients.Skip(start).Take(_batch).ToList();
                var (outcome, status, diagnostic, type) = await RunAsync(message, batch, cancellationToken).ConfigureAwait(false);
                results.AddRange(batch.Select(r => new RecipientResult(r, outcome, status, diagnostic, type)));
            }
            return new DeliveryResult(results);
        }

        async Task<(DeliveryOutcome, string, string, string)> RunAsync(OutgoingMessage message, IReadOnlyList<OutgoingRecipient> batch, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var psi = new ProcessStartInfo(_program, CommandLineQuoter.Join(Arguments(message.Sender, batch.Select(r => r.Address))))
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            using (var process = new Process { StartInfo = psi, EnableRaisingEvents = true })
            {
                var exited = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                process.Exited += (s, e) => exited.TrySetResult(true);
                try
                {
                    process.Start();
                }
                catch (Exception ex) when (ex is Win32Exception || ex is InvalidOperationException || ex is IOException || ex is UnauthorizedAccessException)
                {
                    return (DeliveryOutcome.Deferred, "4.3.0", "cannot run " + _program + ": " + ex.Message, Local);
                }
                // The event is missed when the process ended before the handler could see it.
                if (process.HasExited) exited.TrySetResult(true);

                var stdout = KeepFirstAsync(process.StandardOutput.BaseStream);
                var stderr = KeepFirstAsync(process.StandardError.BaseStream);
                var feed = FeedAsync(process, message, cancellationToken);

                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(_timeout);
                    var expired = Task.Delay(Timeout.Infinite, timeout.Token);
                    var first = await Task.WhenAny(exited.Task, expired, feed).ConfigureAwait(false);
                    if (first == feed && feed.Status == TaskStatus.RanToCompletion && feed.Result != null)
                    {
                        // The spool could not be read: kill before a truncated message is sent.
                        Kill(process);
                        return (DeliveryOutcome.Deferred, "4.3.0", feed.Result, Local);
                    }
                    if (first != exited.Task)
                        first = await Task.WhenAny(exited.Task, expired).ConfigureAwait(false);
                    if (first != exited.Task)
                    {
                        Kill(process);
                        await Drain(feed, stdout, stderr).ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        return (DeliveryOutcome.Deferred, "4.3.0",
                            _name + " did not finish within " + _timeout.TotalSeconds + " s and was killed" + Said(stderr, stdout), Local);
                    }
                }

                await Drain(feed, stdout, stderr).ConfigureAwait(false);
                var spoolError = feed.Status == TaskStatus.RanToCompletion ? feed.Result : null;
                process.WaitForExit();
                var code = process.ExitCode;
                if (spoolError != null) return (DeliveryOutcome.Deferred, "4.3.0", spoolError, Local);
                return Interpret(code, Said(stderr, stdout));
            }
        }

        (DeliveryOutcome, string, string, string) Interpret(int code, string said)
        {
            // .NET reports a child killed by signal N as 128 + N on Unix.
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && code > 128 && code < 128 + 65)
                return (DeliveryOutcome.Deferred, "4.3.0", _name + " was killed by signal " + (code - 128) + said, Unix);
            var (outcome, status) = SendmailExitStatus.Meaning(code);
            var name = SendmailExitStatus.Name(code);
            return (outcome, status, _name + " exited with " + code + (name == null ? "" : " (" + name + ")") + said, Unix);
        }

        /// <summary>Writes the message to the program's standard input and closes it. Returns null,
        /// or what went wrong reading the spool. A program that stops reading (it exits early,
        /// having refused the message) is not an error here: its exit status says why.</summary>
        static async Task<string> FeedAsync(Process process, OutgoingMessage message, CancellationToken cancellationToken)
        {
            Stream body;
            try
            {
                body = message.OpenBody();
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                return "cannot read spooled message " + message.Id + ": " + ex.Message;
            }
            var input = process.StandardInput.BaseStream;
            using (body)
            {
                var buffer = new byte[81920];
                while (true)
                {
                    int n;
                    try
                    {
                        n = await body.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        throw;
                    }
                    catch (Exception ex)
                    {
                        return "cannot read spooled message " + message.Id + ": " + ex.Message;
                    }
                    if (n == 0) break;
                    try
                    {
                        await input.WriteAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException)
                    {
                        return null;
                    }
                }
            }
            try
            {
                input.Dispose();
            }
            catch (IOException) { /* the program has gone; its status tells */ }
            return null;
        }

        /// <summary>Reads a stream to its end, keeping the first KiB.</summary>
        static async Task<byte[]> KeepFirstAsync(Stream stream)
        {
            var kept = new MemoryStream();
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, 0, buffer.Length).ConfigureAwait(false)) > 0)
                    if (kept.Length < KeptOutput)
                        kept.Write(buffer, 0, (int)Math.Min(n, KeptOutput - kept.Length));
            }
            catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException) { }
            return kept.ToArray();
        }

        /// <summary>Lets the readers reach the end of the output; a grandchild that keeps the
        /// pipes open must not hold the delivery, so they get a few seconds.</summary>
        static async Task Drain(Task<string> feed, Task<byte[]> stdout, Task<byte[]> stderr)
        {
            var all = feed == null ? Task.WhenAll(stdout, stderr) : Task.WhenAll(feed, stdout, stderr);
            await Task.WhenAny(all, Task.Delay(5000)).ConfigureAwait(false);
            if (all.IsFaulted || all.IsCanceled) _ = all.Exception;
        }

        /// <summary><c>": first line"</c> of standard error, else of standard output; empty when
        /// the program said nothing.</summary>
        static string Said(Task<byte[]> stderr, Task<byte[]> stdout)
        {
            foreach (var task in new[] { stderr, stdout })
            {
                if (task.Status != TaskStatus.RanToCompletion) continue;
                var text = Encoding.UTF8.GetString(task.Result);
                foreach (var line in text.Split('\n'))
                {
                    var clean = SmtpReply.OneLine(line);
                    if (clean.Length > 0) return ": " + clean;
                }
            }
            return "";
        }

        static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited) process.Kill();
                process.WaitForExit(5000);
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is Win32Exception) { /* already gone */ }
        }

        /// <summary>Nothing to release: each run's process ends with the run.</summary>
        public void Dispose()
        {
        }
    }
}
