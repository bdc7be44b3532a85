using System;
using System.IO;
using System.Net;
using System.Text;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench.Replay
{
    /// <summary>
    /// Writes <c>count</c> decision events, as the proxy logs them, for sessions played through the
    /// engine's own pipeline under a rules file: LogGen rules-file out-file count [seed].
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "--replay") return ReplayTiming.Run(args[1], args[2]);
            if (args.Length < 3) { Console.Error.WriteLine("usage: LogGen <rules> <out.log> <count> [seed]"); return 2; }
            var rules = RuleSet.Load(args[0]);
            var count = long.Parse(args[2]);
            var random = new Random(args.Length > 3 ? int.Parse(args[3]) : 7);
            var pipeline = new PolicyPipeline(new RuleEvaluator(rules), new PolicyOptions { HostName = "mx.bench.test" });
            var dns = new SyntheticDns();
            var time = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
            using (var writer = new StreamWriter(args[1], false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" })
            {
                for (long i = 0; i < count; i++)
                {
                    time = time.AddMilliseconds(random.Next(1, 1200));
                    var client = new IPAddress(new byte[] { (byte)(random.Next(4) == 0 ? 192 : 10 + random.Next(200)), (byte)random.Next(256), (byte)random.Next(256), (byte)(1 + random.Next(254)) });
                    if (client.GetAddressBytes()[0] == 192) client = new IPAddress(new byte[] { 198, 51, (byte)random.Next(256), (byte)(1 + random.Next(254)) });
                    var sender = random.Next(30) == 0 ? "<offers" + random.Next(100) + "@spam.bench.example>" : "<user" + random.Next(5000) + "@sender" + random.Next(20000) + ".example>";
                    var recipient = random.Next(10) == 0 ? "<someone" + random.Next(1000) + "@elsewhere" + random.Next(300) + ".example>" : "<user" + random.Next(2000) + "@example.test>";
                    var session = new PolicySession(client, dns) { Clock = new SmtpdModule.Engine.State.FixedClock(time) };
                    var verdict = pipeline.ConnectAsync(session).GetAwaiter().GetResult();
                    var helo = "mail-" + i % 997 + ".helo.example";
                    if (verdict.TakesEffect) { verdict = pipeline.Helo(session, helo, true); session.Greeted(helo, true); }
                    var id = "S" + i.ToString("x8");
                    if (!verdict.TakesEffect) continue;
                    verdict = pipeline.Mail(session, sender, false, null);
                    if (!verdict.TakesEffect)
                    {
                        Write(writer, DecisionRecord.OfMail(session, verdict, pipeline, sender, false, null, id), id, client, time);
                        continue;
                    }
                    pipeline.BeginTransaction(session, verdict.Path, false, null, default);
                    verdict = pipeline.RcptAsync(session, recipient, false).GetAwaiter().GetResult();
                    Write(writer, DecisionRecord.Of(session, verdict, pipeline, id), id, client, time);
                }
            }
            return 0;
        }

        static void Write(StreamWriter writer, DecisionRecord record, string id, IPAddress client, DateTimeOffset time)
        {
            record.Time = time;
            var e = new ProxyEvent("decision", id, client.ToString(), record.Kind + " " + record.To, record.ToData());
            // The event's own time is now; the log's is the session's.
            var line = JsonLinesLog.Format(e);
            line = "{\"time\":\"" + time.UtcDateTime.ToString("o") + "\"" + line.Substring(line.IndexOf(','));
            writer.WriteLine(line);
        }
    }
}
