using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Forwarding.Faults
{
    /// <summary>
    /// tests/fixtures/downstream/fault_server.py on 127.0.0.1 at a port it chose: a raw-socket
    /// SMTP server whose first transaction(s) meet one fault (a dropped connection in the middle
    /// of DATA, no answer to the final dot, garbage, a reply that never ends, a 1 MiB reply line)
    /// and whose later ones are served correctly. Its events (connect, fault, closed, message)
    /// are read from the capture folder. Dispose closes its standard input, which ends it.
    /// </summary>
    public sealed class FaultSmtpServer : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _log = new StringBuilder();

        FaultSmtpServer(Process process, string capture)
        {
            _process = process;
            CaptureDirectory = capture;
        }

        public int Port { get; private set; }
        public string CaptureDirectory { get; }

        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        /// <param name="fault">One of the script's --fault names.</param>
        /// <param name="faulty">How many transactions meet it before the server behaves.</param>
        public static async Task<FaultSmtpServer> StartAsync(string fault, int faulty = 1)
        {
            var script = RepoPaths.Fixture("downstream", "fault_server.py");
            var capture = Path.Combine(Path.GetTempPath(), "smtpd-fault-" + Guid.NewGuid().ToString("N"));
            // Plain python3 is enough (no aiosmtpd); the aiosmtpd one is a python3 the tests know.
            var psi = new ProcessStartInfo(DownstreamTools.AiosmtpdPython)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("--capture");
            psi.ArgumentList.Add(capture);
            psi.ArgumentList.Add("--fault");
            psi.ArgumentList.Add(fault);
            psi.ArgumentList.Add("--faulty");
            psi.ArgumentList.Add(faulty.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var process = Process.Start(psi);
            var server = new FaultSmtpServer(process, capture);
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (server._log) server._log.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            try
            {
                var line = process.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(line, Task.Delay(20000)) != line || line.Result == null)
                    throw new XunitException("fault_server.py did not print its port within 20 s; stderr:\n" + server.Log);
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

        public IReadOnlyList<JsonElement> Of(string kind) => Events().Where(e => e.GetProperty("event").GetString() == kind).ToList();

        public IReadOnlyList<JsonElement> Messages => Of("message");

        /// <summary>Faulty transactions in which the server had the whole message (a real server
        /// might have kept it: the documented at-least-once window).</summary>
        public int CompleteFaults => Of("fault").Count(e => e.GetProperty("complete").GetBoolean());

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
