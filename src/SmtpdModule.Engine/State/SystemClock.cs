using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>The machine's clock.</summary>
    public sealed class SystemClock : ISystemClock
    {
        /// <summary>The one instance; the clock has no state.</summary>
        public static readonly SystemClock Instance = new SystemClock();

        SystemClock() { }

        public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;
    }
}
