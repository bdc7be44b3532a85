using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// tests/fixtures/downstream/smtp_server.py (aiosmtpd) on 127.0.0.1 at a port it chose: a
    /// downstream server whose replies the tests pick by address (see the script), that records
    /// each session and each message it accepts, bytes included, in a temporary folder. Dispose
    /// closes its standard input, which ends it, and removes the folder.
    /// </summary>
    public sealed class PythonSmtpServer : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _log = new StringBuilder();

        PythonSmtpServer(Process process, string capture)
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

        /// <param name="options">Options of the script: --starttls, --implicit-tls (both with
        /// --cert/--key), --auth USER:PASS, --smtputf8, --no-8bitmime, --close-after-message…</param>
        public static async Task<PythonSmtpServer> StartAsync(params string[] options)
        {
            var script = RepoPaths.Fixture("downstream", "smtp_server.py");
            var capture = Path.Combine(Path.GetTempPath(), "smtpd-downstream-" + Guid.NewGuid().ToString("N"));
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
            var server = new PythonSmtpServer(process, capture);
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (server._log) server._log.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            try
            {
                var line = process.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(line, Task.Delay(20000)) != line || line.Result == null)
                    throw new XunitException("smtp_server.py did not print its port within 20 s; stderr:\n" + server.Log);
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

        public int Sessions => Events().Count(e => e.GetProperty("event").GetString() == "connect");

        public IReadOnlyList<JsonElement> Messages => Events().Where(e => e.GetProperty("event").GetString() == "message").ToList();

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
