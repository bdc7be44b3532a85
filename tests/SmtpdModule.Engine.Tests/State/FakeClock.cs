using System;
using System.Threading;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A clock that moves only when told; safe to move and read from several threads.</summary>
    sealed class FakeClock : ISystemClock
    {
        long _ticks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

        public DateTimeOffset UtcNow => new DateTimeOffset(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
