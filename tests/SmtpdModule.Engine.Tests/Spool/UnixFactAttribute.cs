using System;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>A fact about Unix behaviour (file modes); skipped, visibly, on Windows.</summary>
    sealed class UnixFactAttribute : FactAttribute
    {
        public UnixFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Unix file modes do not exist on Windows.";
        }
    }
}
