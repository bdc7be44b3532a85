using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A downstream SMTP server on 127.0.0.1 at a port it chose, for the forwarder's tests, that
    /// records each session and each message it accepts, bytes included, in a temporary folder
    /// (events.jsonl: connect, message, and for a faulty server fault and closed).
    /// <see cref="StartAsync"/> runs tests/fixtures/downstream/smtp_server.py (aiosmtpd), whose
    /// replies the tests pick by address (see the script); <see cref="StartFaultyAsync"/> runs
    /// fault_server.py, a raw-socket server whose first transaction(s) meet one fault (a dropped
    /// connection in the middle of DATA, no answer to the final dot, garbage, a reply that never
    /// ends, a 1 MiB reply line) and whose later ones are served correctly.
    /// Dispose closes its standard input, which ends it, and removes the folder.
    /// </summary>
    public sealed class DownstreamSmtpServer : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _log = new StringBuilder();

        DownstreamSmtpServer(Process process, string capture)
        {
            _process = process;
            CaptureDirectory = capture;
        }

        public int Port { get; private set; }
        public string CaptureDirectory { get; }

        /// <summary>What the server wrote on standard error, for assertion messages.</summary>
        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        /// <summary>Starts smtp_server.py (aiosmtpd).</summary>
        /// <param name="options">Options of the script: --starttls, --implicit-tls (both with
        /// --cert/--key), --auth USER:PASS, --smtputf8, --no-8bitmime, --close-after-message…</param>
        public static Task<DownstreamSmtpServer> StartAsync(params string[] options) =>
            LaunchAsync("smtp_server.py", "smtpd-downstream-", options);

        /// <summary>Starts fault_server.py.</summary>
        /// <param name="fault">One of the script's --fault names ("none": a server that behaves).</param>
        /// <param name="faulty">How many transactions meet it before the server behaves.</param>
        public static Task<DownstreamSmtpServer> StartFaultyAsync(string fault, int faulty = 1) =>
            LaunchAsync("fault_server.py", "smtpd-fault-",
                        new[] { "--fault", fault, "--faulty", faulty.ToString(CultureInfo.InvariantCulture) });

        static async Task<DownstreamSmtpServer> LaunchAsync(string scriptName, string capturePrefix, IEnumerable<string> options)
        {
            var script = RepoPaths.Fixture("downstream", scriptName);
            var capture = Path.Combine(Path.GetTempPath(), capturePrefix + Guid.NewGuid().ToString("N"));
            // fault_server.py needs only python3; the aiosmtpd one is a python3 the tests know.
            var psi = new ProcessStartInfo(DownstreamTools.AiosmtpdPython)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = new UTF8Encoding(false),
                StandardErrorEncoding = new UTF8Encoding(false),
            };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("--capture");
            psi.ArgumentList.Add(capture);
            foreach (var o in options) psi.ArgumentList.Add(o);
            psi.Environment["PYTHONUTF8"] = "1";

            var process = Process.Start(psi);
            var server = new DownstreamSmtpServer(process, capture);
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (server._log) server._log.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            try
            {
                var line = process.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(line, Task.Delay(20000)) != line || line.Result == null)
                    throw new XunitException(scriptName + " did not print its port within 20 s; stderr:\n" + server.Log);
                using var doc = JsonDocument.Parse(line.Result);
                server.Port = doc.RootElement.GetProperty("port").GetInt32();
                return server;
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }

        /// <summary>The events logged so far (a line still being written is left for later).</summary>
        public IReadOnlyList<JsonElement> Events()
        {
            var path = Path.Combine(CaptureDirectory, "events.jsonl");
            if (!File.Exists(path)) return Array.Empty<JsonElement>();
            string text;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
                text = reader.ReadToEnd();
            var events = new List<JsonElement>();
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0) continue;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    events.Add(doc.RootElement.Clone());
                }
                catch (JsonException) { /* the last line, half written */ }
            }
            return events;
        }

        /// <summary>The events of one kind so far.</summary>
        public IReadOnlyList<JsonElement> Of(string kind) => Events().Where(e => e.GetProperty("event").GetString() == kind).ToList();

        public int Sessions => Of("connect").Count;

        public IReadOnlyList<JsonElement> Messages => Of("message");

        /// <summary>Faulty transactions in which the server had the whole message (a real server
        /// might have kept it: the documented at-least-once window).</summary>
        public int CompleteFaults => Of("fault").Count(e => e.GetProperty("complete").GetBoolean());

        /// <summary>Waits until at least <paramref name="count"/> messages have arrived; returns them all.</summary>
        public async Task<IReadOnlyList<JsonElement>> WaitForMessagesAsync(int count)
        {
            await TestWait.UntilAsync(() => Messages.Count >= count, Describe());
            return Messages;
        }

        /// <summary>The bytes of a message, as received (dot-stuffing undone, nothing else).</summary>
        public byte[] Bytes(JsonElement message) =>
            File.ReadAllBytes(Path.Combine(CaptureDirectory, message.GetProperty("file").GetString()));

        public string Describe() => "events:\n" + string.Join("\n", Events().Select(e => e.GetRawText())) + "\nstderr:\n" + Log;

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    try { _process.StandardInput.Close(); } catch (IOException) { }
                    if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
            try { Directory.Delete(CaptureDirectory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
