using System.Collections.Generic;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>The proxy's log entry for news from its smart host (<see cref="SmtpProxyOptions.SmartHostLimits"/>).</summary>
    internal static class SmartHostLimitsEvent
    {
        /// <summary>Each change of what the smart host says is logged once: the limits and the size
        /// the proxy now announces, or, when it cannot be asked, a warning (shown by -Wait) saying
        /// which limits stay in force.</summary>
        public static ProxyEvent Of(DownstreamLimits limits, long ownSize)
        {
            if (!limits.IsKnown)
                return new ProxyEvent("warning", null, null, "the smart host's limits were not learned (" + limits.Detail
                    + "); the last limits learned, or else the proxy's own, stay in force");
            return new ProxyEvent("downstream", null, null, "smart host limits: " + limits, new[]
            {
                new KeyValuePair<string, object>("size", limits.MaxSize),
                new KeyValuePair<string, object>("smtputf8", limits.SmtpUtf8),
                new KeyValuePair<string, object>("8bitmime", limits.EightBitMime),
                new KeyValuePair<string, object>("maxMessageSize", limits.CapSize(ownSize)),
                new KeyValuePair<string, object>("from", limits.Detail),
            });
        }
    }
}
