using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// Postfix's smtp-sink on 127.0.0.1, dumping each transaction into a temporary folder
    /// (<c>-d</c>). smtp-sink cannot bind port 0 and report it, so a free port is picked and the
    /// start retried when another process took it first. As root it must drop privileges
    /// (<c>-u nobody</c>), so the dump folder is made writable for everyone.
    /// </summary>
    public sealed class SmtpSinkServer : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _log = new StringBuilder();

        SmtpSinkServer(Process process, int port, string dumps)
        {
            _process = process;
            Port = port;
            DumpDirectory = dumps;
        }

        public int Port { get; }
        public string DumpDirectory { get; }

        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        /// <param name="options">smtp-sink options, e.g. <c>-f MAIL</c> (5xx to MAIL), <c>-r RCPT</c>
        /// (4xx to RCPT), <c>-q DATA</c> (hang up at DATA).</param>
        public static async Task<SmtpSinkServer> StartAsync(params string[] options)
        {
            var dumps = Path.Combine(Path.GetTempPath(), "smtpd-sink-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dumps);
            var root = !OperatingSystem.IsWindows() && Environment.UserName == "root";
            if (root && !OperatingSystem.IsWindows()) File.SetUnixFileMode(dumps, (UnixFileMode)0x1FF);   // 0777: smtp-sink runs as nobody

            var failures = new StringBuilder();
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var port = DownstreamTools.FreePort();
                var psi = new ProcessStartInfo(DownstreamTools.SmtpSink)
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                if (root) { psi.ArgumentList.Add("-u"); psi.ArgumentList.Add("nobody"); }
                foreach (var o in options) psi.ArgumentList.Add(o);
                psi.ArgumentList.Add("-d");
                psi.ArgumentList.Add(Path.Combine(dumps, "message."));
                psi.ArgumentList.Add("127.0.0.1:" + port);
                psi.ArgumentList.Add("10");

                var process = Process.Start(psi);
                var sink = new SmtpSinkServer(process, port, dumps);
                process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (sink._log) sink._log.AppendLine(e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (sink._log) sink._log.AppendLine(e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();

                var watch = Stopwatch.StartNew();
                while (watch.ElapsedMilliseconds < 10000 && !process.HasExited)
                {
                    if (await CanConnectAsync(port)) return sink;
                    await Task.Delay(20);
                }
                failures.AppendLine("port " + port + ": " + (process.HasExited ? "exited " + process.ExitCode : "not listening after 10 s") + "\n" + sink.Log);
                sink.Stop();
            }
            try { Directory.Delete(dumps, true); } catch (IOException) { }
            throw new XunitException("smtp-sink did not start:\n" + failures);
        }

        static async Task<bool> CanConnectAsync(int port)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        /// <summary>The transactions dumped so far, oldest first.</summary>
        public IReadOnlyList<SinkDump> Dumps() =>
            Directory.GetFiles(DumpDirectory)
                .Select(f => new FileInfo(f))
                .OrderBy(f => f.LastWriteTimeUtc)
                .Select(f => SinkDump.Parse(File.ReadAllBytes(f.FullName)))
                .ToList();

        /// <summary>Waits for <paramref name="count"/> complete dumps (smtp-sink writes the file as
        /// the data arrives and ends it with an empty line at the final dot).</summary>
        public async Task<IReadOnlyList<SinkDump>> WaitForDumpsAsync(int count)
        {
            IReadOnlyList<SinkDump> dumps = null;
            await TestWait.UntilAsync(() => (dumps = Dumps()).Count(d => d.Complete) >= count, "smtp-sink log:\n" + Log);
            return dumps;
        }

        void Stop()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }

        public void Dispose()
        {
            Stop();
            try { Directory.Delete(DumpDirectory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// One smtp-sink dump: its X-* records (client, HELO, MAIL and RCPT arguments), its own
    /// three-line Received header, then the message with LF line ends, then an empty line.
    /// </summary>
    public sealed class SinkDump
    {
        public string MailArgs { get; private set; }
        public IReadOnlyList<string> RcptArgs { get; private set; }
        public string HeloArgs { get; private set; }

        /// <summary>The message as received, with its line ends as smtp-sink writes them (LF).</summary>
        public byte[] Content { get; private set; }

        /// <summary>The final empty line is there: the transaction was complete.</summary>
        public bool Complete { get; private set; }

        public static SinkDump Parse(byte[] raw)
        {
            var dump = new SinkDump();
            var rcpts = new List<string>();
            var pos = 0;
            while (pos < raw.Length)
            {
                var end = Array.IndexOf(raw, (byte)'\n', pos);
                if (end < 0) end = raw.Length;
                var line = Encoding.UTF8.GetString(raw, pos, end - pos);
                pos = end + 1;
                if (line.StartsWith("X-Mail-Args: ")) dump.MailArgs = line.Substring(13);
                else if (line.StartsWith("X-Rcpt-Args: ")) rcpts.Add(line.Substring(13));
                else if (line.StartsWith("X-Helo-Args: ")) dump.HeloArgs = line.Substring(13);
                else if (line.StartsWith("Received: ") && line.Contains("["))
                {
                    // Its two continuation lines (by …; and the date) end smtp-sink's part.
                    for (var i = 0; i < 2 && pos < raw.Length; i++)
                    {
                        var next = Array.IndexOf(raw, (byte)'\n', pos);
                        pos = next < 0 ? raw.Length : next + 1;
                    }
                    break;
                }
            }
            dump.RcptArgs = rcpts;
            dump.Complete = raw.Length >= 2 && raw[raw.Length - 1] == '\n' && raw[raw.Length - 2] == '\n';
            var contentLength = Math.Max(0, raw.Length - pos - (dump.Complete ? 1 : 0));
            dump.Content = new byte[contentLength];
            Array.Copy(raw, pos, dump.Content, 0, contentLength);
            return dump;
        }
    }
}
