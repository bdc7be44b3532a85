using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// A real proxy on 127.0.0.1 port 0 with its own temporary rules file and spool. DNS goes to a
    /// loopback server that never answers unless a test gives one, and reverse lookups are off by
    /// default, so no test asks the machine's resolver.
    /// </summary>
    public sealed class TestProxy : IDisposable
    {
        public readonly string Dir = Directory.CreateTempSubdirectory("smtpd-proxy-").FullName;
        readonly List<ProxyEvent> _events = new List<ProxyEvent>();

        public SmtpProxy Proxy { get; }
        public IPEndPoint EndPoint => Proxy.LocalEndPoints[0];
        public string SpoolPath => Path.Combine(Dir, "spool");
        public string RulesPath => Path.Combine(Dir, "smtpd_check_rules");

        TestProxy(string rules, Action<SmtpProxyOptions> configure)
        {
            File.WriteAllText(RulesPath, rules);
            var options = new SmtpProxyOptions
            {
                Listen = new List<IPEndPoint> { new IPEndPoint(IPAddress.Loopback, 0) },
                RulesPath = RulesPath,
                SpoolPath = SpoolPath,
                HostName = "mx.example.test",
                ReverseLookup = false,
                IdentTimeout = TimeSpan.Zero,
                MinFreeSpoolBytes = 0,
                LogPath = Path.Combine(Dir, "log", "smtpd.jsonl"),
            };
            options.Dns.Servers = new[] { new IPEndPoint(IPAddress.Loopback, 9) };   // discard port: nothing answers
            options.Dns.Timeout = TimeSpan.FromMilliseconds(200);
            options.RuleEvaluation.NotoDelay = TimeSpan.Zero;
            options.RuleEvaluation.DenyDelay = TimeSpan.Zero;
            configure?.Invoke(options);
            Proxy = SmtpProxy.Start(options, new Sink(_events));
        }

        public static TestProxy Start(string rules = "allow:ALL:ALL:ALL\n", Action<SmtpProxyOptions> configure = null) => new TestProxy(rules, configure);

        public IReadOnlyList<ProxyEvent> Events { get { lock (_events) return _events.ToList(); } }

        public string Log => string.Join("\n", Events.Select(e => e.ToString()));

        /// <summary>Committed messages: envelope and body, read back from the spool.</summary>
        public IReadOnlyList<(Envelope Envelope, byte[] Body)> Spooled() =>
            SpoolReader.List(SpoolPath).Select(e => (e, ReadBody(e.Id))).ToList();

        byte[] ReadBody(string id)
        {
            using var s = SpoolReader.OpenBody(SpoolPath, id);
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        }

        public void Dispose()
        {
            Proxy.Dispose();
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }

        sealed class Sink : IEventSink
        {
            readonly List<ProxyEvent> _list;
            public Sink(List<ProxyEvent> list) { _list = list; }
            public void Write(ProxyEvent e) { lock (_list) _list.Add(e); }
        }
    }
}
