using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Control
{
    /// <summary>
    /// Asks a running proxy or forwarder in another process (or this one) through its control
    /// endpoint (see <see cref="ControlEndpoint"/>). An endpoint whose process is gone, or (Unix)
    /// whose socket nobody listens on, is stale: it is removed and reported as not running.
    /// </summary>
    public static class ControlClient
    {
        static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

        /// <summary>The live endpoints of <paramref name="kind"/> in a spool; stale ones are removed on the way.</summary>
        /// <exception cref="UnauthorizedAccessException">The control folder may not be read.</exception>
        public static IReadOnlyList<ControlLocation> Find(string spoolRoot, string kind)
        {
            var live = new List<ControlLocation>();
            foreach (var location in ControlLocation.List(spoolRoot, kind))
            {
                if (location.OwnerIsGone()) location.Remove();
                else live.Add(location);
            }
            return live;
        }

        /// <summary>Sends <paramref name="request"/> and returns the fields of the answer.</summary>
        /// <exception cref="ControlException">The endpoint is stale (removed), does not answer
        /// within <paramref name="timeout"/>, or answered with an error.</exception>
        /// <exception cref="UnauthorizedAccessException">The endpoint may not be opened.</exception>
        public static async Task<ControlFields> RequestAsync(ControlLocation location, string request, TimeSpan timeout)
        {
            if (location == null) throw new ArgumentNullException(nameof(location));
            var pipeName = location.PipeName;
            if (pipeName == null) throw Stale(location);
            using (var client = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous))
            {
                try
                {
                    // A Unix socket nobody listens on refuses at once; .NET retries until the timeout.
                    await client.ConnectAsync((int)ConnectTimeout.TotalMilliseconds).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    if (!HostOsInfo.IsWindows || location.OwnerIsGone()) throw Stale(location);
                    throw new ControlException(location, ControlFailure.NoAnswer, "no answer from " + location.File);
                }
                catch (IOException ex)
                {
                    if (location.OwnerIsGone()) throw Stale(location);
                    throw new ControlException(location, ControlFailure.NoAnswer, ex.Message);
                }
                var bytes = Encoding.ASCII.GetBytes(request + "\n");
                using (var cts = new CancellationTokenSource(timeout))
                {
                    try
                    {
                        await client.WriteAsync(bytes, 0, bytes.Length, cts.Token).ConfigureAwait(false);
                        await client.FlushAsync(cts.Token).ConfigureAwait(false);
                        var answer = await ReadAnswerAsync(client, cts.Token).ConfigureAwait(false);
                        var lines = answer.Split('\n');
                        if (lines[0] == "ok") return ControlFields.Parse(Tail(lines));
                        if (lines[0].StartsWith("error ", StringComparison.Ordinal))
                            throw new ControlException(location, ControlFailure.Refused, lines[0].Substring(6));
                        throw new ControlException(location, ControlFailure.NoAnswer, "no answer from " + location.File);
                    }
                    catch (OperationCanceledException)
                    {
                        throw new ControlException(location, ControlFailure.NoAnswer, "no answer from " + location.File + " within " + timeout.TotalSeconds + " s");
                    }
                    catch (IOException ex)
                    {
                        throw new ControlException(location, ControlFailure.NoAnswer, ex.Message);
                    }
                }
            }
        }

        static ControlException Stale(ControlLocation location)
        {
            location.Remove();
            return new ControlException(location, ControlFailure.NotRunning, location.Kind + " " + location.Id + " of process " + location.ProcessId + " is not running");
        }

        static IEnumerable<string> Tail(string[] lines)
        {
            for (int i = 1; i < lines.Length; i++) yield return lines[i];
        }

        // Up to the empty line that ends the answer, or the end of the stream; at most 64 KiB.
        static async Task<string> ReadAnswerAsync(Stream stream, CancellationToken token)
        {
            var ms = new MemoryStream();
            var buffer = new byte[4096];
            while (ms.Length < 65536)
            {
                int n = await stream.ReadAsync(buffer, 0, buffer.Length, token).ConfigureAwait(false);
                if (n == 0) break;
                ms.Write(buffer, 0, n);
                var text = Encoding.UTF8.GetString(ms.ToArray());
                if (text.EndsWith("\n\n", StringComparison.Ordinal)) return text;
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }
    }
}
