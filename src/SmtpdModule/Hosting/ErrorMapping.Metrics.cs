using System;
using System.Management.Automation;
using SmtpdModule.Engine.Metrics;

namespace SmtpdModule.Hosting
{
    // The metrics endpoint's error records (-MetricsListen); ids are public API, never reused.
    internal static partial class ErrorMapping
    {
        /// <summary>-MetricsListen is not an ip:port the endpoint can listen on.</summary>
        public const string InvalidMetricsListen = "InvalidMetricsListen";
        /// <summary>The metrics endpoint could not be bound (in use, a privileged port, an address this host does not have).</summary>
        public const string MetricsListenerBindFailed = "MetricsListenerBindFailed";

        public static ErrorRecord BadMetricsListen(string value, string reason)
        {
            var ex = new ArgumentException("'" + value + "' is not a metrics end point: " + reason
                                           + "; expected ip:port, e.g. 127.0.0.1:9325, 0.0.0.0:9325 or [::1]:9325.", "MetricsListen");
            return new ErrorRecord(ex, InvalidMetricsListen, ErrorCategory.InvalidArgument, value);
        }

        public static ErrorRecord From(MetricsListenException ex) =>
            new ErrorRecord(ex, MetricsListenerBindFailed, ErrorCategory.ResourceUnavailable, ex.Target);
    }
}
