using System;
using SmtpdModule.Engine.Diagnostics;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// -LogMaxSize, -LogMaxAge, -LogMaxFiles and -LogRetention, which Start-SmtpdProxy and
    /// Start-SmtpFwd share, made into the engine's rotation options.
    /// </summary>
    internal static class LogRotationParameters
    {
        /// <exception cref="ArgumentException">A time span between zero and one second: a bare
        /// number binds to a TimeSpan as ticks, which nobody means.</exception>
        public static LogRotationOptions From(long maxSize, TimeSpan maxAge, int maxFiles, TimeSpan retention)
        {
            RequireSeconds("LogMaxAge", maxAge, "'1.00:00:00' or (New-TimeSpan -Days 1)");
            RequireSeconds("LogRetention", retention, "'14.00:00:00' or (New-TimeSpan -Days 14)");
            var options = new LogRotationOptions { MaxSize = maxSize, MaxAge = maxAge, MaxFiles = maxFiles, Retention = retention };
            options.Validate();
            return options;
        }

        static void RequireSeconds(string parameter, TimeSpan value, string example)
        {
            if (value == TimeSpan.Zero || value >= TimeSpan.FromSeconds(1)) return;
            throw new ArgumentException("-" + parameter + " must be zero (no limit) or at least one second. A bare number is read as ticks: write "
                                        + example + ".", parameter);
        }
    }
}
