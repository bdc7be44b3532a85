using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>
    /// SendmailTransport running Postfix's own sendmail with a private configuration (<c>-C</c>)
    /// whose queue is a temporary folder: no Postfix needs to run, postdrop leaves the message in
    /// <c>maildrop/</c>, and postcat shows what Postfix made of it. Making that queue needs the
    /// postfix user and root.
    /// </summary>
    public sealed class PostfixSendmailTests : IDisposable
    {
        readonly string _root = Path.Combine(Path.GetTempPath(), "smtpd-postfix-" + Guid.NewGuid().ToString("N"));
        string Config => Path.Combine(_root, "etc");
        string Maildrop => Path.Combine(_root, "queue", "maildrop");

        public void Dispose()
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
        }

        async Task MakeQueueAsync()
        {
            Directory.CreateDirectory(Config);
            Directory.CreateDirectory(Maildrop);
            Directory.CreateDirectory(Path.Combine(_root, "queue", "public"));
            File.WriteAllText(Path.Combine(Config, "main.cf"),
                "compatibility_level = 3.6\nqueue_directory = " + Path.Combine(_root, "queue") +
                "\nmail_owner = postfix\nsetgid_group = postdrop\nmyhostname = relay.example.net\n");
            foreach (var (dir, mode) in new[] { (Maildrop, "1730"), (Path.Combine(_root, "queue", "public"), "710") })
            {
                var chown = await ExternalClient.RunAsync("chown", new[] { "postfix:postdrop", dir }, null, 10000);
                var chmod = await ExternalClient.RunAsync("chmod", new[] { mode, dir }, null, 10000);
                if (chown.ExitCode != 0 || chmod.ExitCode != 0) throw new XunitException("cannot prepare the maildrop queue:\n" + chown + "\n" + chmod);
            }
        }

        async Task<string> PostcatAsync(string file, string option)
        {
            var run = await ExternalClient.RunAsync(Path.Combine(Path.GetDirectoryName(DownstreamTools.Sendmail), "postcat"),
                new[] { "-c", Config, option, file }, null, 20000);
            if (run.ExitCode != 0) throw new XunitException("postcat failed:\n" + run);
            return run.Stdout;
        }

        [PostfixRootFact]
        public async Task Postfix_sendmail_queues_the_envelope_and_the_bytes()
        {
            await MakeQueueAsync();
            var options = new SendmailTransportOptions { ProgramPath = DownstreamTools.Sendmail };
            options.ExtraArguments.Add("-C");
            options.ExtraArguments.Add(Config);
            using var transport = new SendmailTransport(options);
            var body = TestMessages.Awkward();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", "b@example.com", "-c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Delivered, "2.0.0"), (r.Outcome, r.Status)));
            var queued = Assert.Single(Directory.GetFiles(Maildrop));
            var envelope = await PostcatAsync(queued, "-e");
            Assert.Contains("\nsender: a@example.org\n", envelope);
            Assert.Contains("\nrecipient: b@example.com\nrecipient: -c@example.com\n", envelope);
            // Postfix stores lines without their CRLF; postcat prints them with LF.
            Assert.Equal(TestMessages.WithLfLineEnds(body), ContentBytes(queued));
        }

        /// <summary>postcat -hb as bytes, so 8-bit text is compared byte for byte.</summary>
        byte[] ContentBytes(string queued)
        {
            var psi = new ProcessStartInfo(Path.Combine(Path.GetDirectoryName(DownstreamTools.Sendmail), "postcat"))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            };
            foreach (var a in new[] { "-c", Config, "-hb", queued }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi);
            var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            Assert.True(p.WaitForExit(20000), "postcat did not finish");
            return ms.ToArray();
        }

        [PostfixRootFact]
        public async Task Postfix_sendmail_takes_the_null_sender()
        {
            await MakeQueueAsync();
            var options = new SendmailTransportOptions { ProgramPath = DownstreamTools.Sendmail };
            options.ExtraArguments.Add("-C");
            options.ExtraArguments.Add(Config);
            using var transport = new SendmailTransport(options);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            var envelope = await PostcatAsync(Assert.Single(Directory.GetFiles(Maildrop)), "-e");
            Assert.Contains("\nsender: \n", envelope);
        }
    }

    /// <summary>Needs Postfix's sendmail and root (to give a private maildrop queue to the postfix
    /// user); skipped, visibly, otherwise.</summary>
    sealed class PostfixRootFactAttribute : FactAttribute
    {
        public PostfixRootFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Postfix's sendmail is a Unix program.";
            else if (Environment.UserName != "root") Skip = "Making a private Postfix maildrop queue needs root.";
        }
    }
}
