using System;
using System.Diagnostics;
using System.Globalization;

namespace SmtpdModule.Engine.Control
{
    /// <summary>The requests of the control channel: <c>status</c> and <c>stop &lt;seconds&gt;</c>.</summary>
    public static class ControlRequest
    {
        /// <summary>Asks for the status fields.</summary>
        public const string Status = "status";

        internal const string Unknown = "error unknown request\n\n";

        /// <summary>Asks for a graceful stop; transactions or deliveries in flight get
        /// <paramref name="timeout"/> to finish. The answer comes once stopped.</summary>
        public static string Stop(TimeSpan timeout) =>
            "stop " + Math.Max(0, timeout.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture);

        internal static bool TryParseStop(string line, out TimeSpan timeout)
        {
            timeout = TimeSpan.Zero;
            if (line == null || !line.StartsWith("stop ", StringComparison.Ordinal)) return false;
            if (!double.TryParse(line.Substring(5), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                || double.IsNaN(seconds) || seconds < 0 || seconds > 3600) return false;
            timeout = TimeSpan.FromSeconds(seconds);
            return true;
        }

        static int s_pid;

        internal static int ProcessId
        {
            get
            {
                if (s_pid == 0) using (var p = Process.GetCurrentProcess()) s_pid = p.Id;
                return s_pid;
            }
        }
    }
}
