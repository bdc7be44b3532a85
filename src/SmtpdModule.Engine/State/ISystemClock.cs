using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>The time expiry is measured by; tests hand the store a clock they move by hand.</summary>
    public interface ISystemClock
    {
        /// <summary>The current time, UTC.</summary>
        DateTimeOffset UtcNow { get; }
    }
}
