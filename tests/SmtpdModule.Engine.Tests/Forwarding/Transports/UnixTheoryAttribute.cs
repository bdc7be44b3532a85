using System;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>A theory about Unix behaviour (exit statuses, signals); skipped, visibly, on Windows.</summary>
    sealed class UnixTheoryAttribute : TheoryAttribute
    {
        public UnixTheoryAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Needs a Unix process model (sysexits, signals).";
        }
    }
}
