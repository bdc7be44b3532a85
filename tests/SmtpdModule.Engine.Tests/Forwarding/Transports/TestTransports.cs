using System;
using SmtpdModule.Engine.Forwarding.Transports;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>The SMTP transport the tests point at a server of theirs on the loopback.</summary>
    static class TestTransports
    {
        public static SmtpTransport Smtp(int port, Action<SmtpTransportOptions> configure = null)
        {
            var options = new SmtpTransportOptions
            {
                Host = "127.0.0.1",
                Port = port,
                LocalDomain = "relay.example.net",
                ConnectTimeout = TimeSpan.FromSeconds(10),
                CommandTimeout = TimeSpan.FromSeconds(20),
            };
            configure?.Invoke(options);
            return new SmtpTransport(options);
        }
    }
}
