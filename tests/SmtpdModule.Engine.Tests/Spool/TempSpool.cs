using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>A spool root under the system temp directory, removed afterwards.</summary>
    sealed class TempSpool : IDisposable
    {
        public TempSpool()
        {
            Parent = Path.Combine(Path.GetTempPath(), "smtpd-spool-test-" + Guid.NewGuid().ToString("N"));
            Root = Path.Combine(Parent, "spool");
        }

        public string Parent { get; }
        public string Root { get; }

        public string Dir(string name) => Path.Combine(Root, name);

        /// <summary>The files in <paramref name="directory"/>, but for the free slots the writer keeps
        /// in incoming/ (<c>.slot</c> files, empty or preallocated; <see cref="Slots"/> counts them).</summary>
        public string[] Files(string directory) =>
            Directory.Exists(Dir(directory))
                ? Directory.GetFiles(Dir(directory)).Where(p => !IsFreeSlot(p)).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()
                : new string[0];

        /// <summary>The free slots in incoming/.</summary>
        public int Slots => Directory.Exists(Dir("incoming")) ? Directory.GetFiles(Dir("incoming")).Count(IsFreeSlot) : 0;

        /// <summary>A free slot: empty, or its first byte zero; or one the writer's refill is still
        /// making (exclusively locked for the moment between its creation and its claim, which the
        /// writer then holds shared, so that readers like this one pass).</summary>
        public static bool IsFreeSlot(string path)
        {
            if (!path.EndsWith(".slot", StringComparison.Ordinal)) return false;
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                return file.Length == 0 || file.ReadByte() == 0;
            }
            catch (FileNotFoundException) { return false; }
            catch (IOException) { return true; }
        }

        /// <summary>Begins a message with <paramref name="body"/> as its text, commits it and
        /// returns it (disposed: committed, it has nothing left to abort).</summary>
        public static async Task<IncomingMessage> CommitAsync(SpoolWriter writer, byte[] body)
        {
            using var message = writer.BeginMessage(NewEnvelope());
            await message.Body.WriteAsync(body, 0, body.Length);
            await writer.CommitAsync(message);
            return message;
        }

        /// <summary>Everything left in <paramref name="stream"/>.</summary>
        public static byte[] ReadAll(Stream stream)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }

        public static Envelope NewEnvelope(params string[] recipients)
        {
            var e = new Envelope
            {
                Received = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567),
                ClientAddress = "192.0.2.10",
                ClientName = "mail.example.org",
                Helo = "mail.example.org",
                From = "<a@example.org>",
                Protocol = "ESMTP",
            };
            foreach (var r in recipients.Length == 0 ? new[] { "<b@example.com>" } : recipients)
                e.Recipients.Add(new EnvelopeRecipient(r));
            return e;
        }

        /// <summary>Commits a small message to <paramref name="recipients"/> (default: one) and returns its id.</summary>
        public static async System.Threading.Tasks.Task<string> CommitAsync(SpoolWriter writer, string body = "Subject: t\r\n\r\nbody\r\n", params string[] recipients)
        {
            var message = writer.BeginMessage(NewEnvelope(recipients));
            var bytes = System.Text.Encoding.ASCII.GetBytes(body);
            message.Body.Write(bytes, 0, bytes.Length);
            await writer.CommitAsync(message);
            return message.Id;
        }

        public void Dispose()
        {
            try { Directory.Delete(Parent, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
