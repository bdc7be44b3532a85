using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>A clock stopped at one time: a replay decides at the time its record was made.</summary>
    public sealed class FixedClock : ISystemClock
    {
        public FixedClock(DateTimeOffset time) { UtcNow = time.ToUniversalTime(); }
        public DateTimeOffset UtcNow { get; }
    }
}
