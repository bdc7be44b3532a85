using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding
{
    /// <summary>The forwarder records each recipient's fate and keeps why the proxy accepted it.</summary>
    public class ProvenanceForwardingTests
    {
        const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

        [DownstreamFact]
        public async Task Delivery_results_leave_each_recipients_provenance_as_it_was()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            var envelope = TempSpool.NewEnvelope("<ok@example.com>", "<temp@example.com>", "<perm@example.com>");
            envelope.Received = DateTimeOffset.UtcNow;
            for (var i = 0; i < 3; i++)
                envelope.Recipients[i].Provenance = new RecipientProvenance(Sha, i + 2, "allow:ALL:ALL:x; y %41", null,
                    new[] { new KeyValuePair<string, string>("spf", "pass"), new KeyValuePair<string, string>("grey", "Passed n:192.0.2.0/24 #" + i) });
            envelope.Recipients[1].ExtraParameters.Add(new KeyValuePair<string, string>("later-version", "kept"));
            var message = writer.BeginMessage(envelope);
            var bytes = Encoding.ASCII.GetBytes("From: a@example.org\r\nSubject: provenance\r\n\r\nbody\r\n");
            message.Body.Write(bytes, 0, bytes.Length);
            await writer.CommitAsync(message);

            var summary = await Forwarder.RunOnceAsync(new ForwarderOptions
            {
                SpoolPath = spool.Root,
                HostName = "relay.example.net",
                NoBounce = true,
                Transport = TestTransports.Smtp(server.Port),
            });

            Assert.Equal(1, summary.Deferred);
            var item = SpoolQueue.Open(spool.Root).Get(message.Id);
            Assert.Equal(new[] { RecipientStatus.Delivered, RecipientStatus.Pending, RecipientStatus.Failed }, item.Recipients.Select(r => r.Status));
            Assert.Equal(new int?[] { 2, 3, 4 }, item.Recipients.Select(r => r.Line));
            Assert.All(item.Recipients, r => Assert.Equal(Sha, r.RulesSha256));
            Assert.All(item.Recipients, r => Assert.Equal("allow:ALL:ALL:x; y %41", r.Rule));
            Assert.Equal(new[] { "Passed n:192.0.2.0/24 #0", "Passed n:192.0.2.0/24 #1", "Passed n:192.0.2.0/24 #2" },
                         item.Recipients.Select(r => r.Checks["grey"]));
            Assert.Equal("kept", item.Envelope.Recipients[1].ExtraParameters.Single(p => p.Key == "later-version").Value);
        }
    }
}
