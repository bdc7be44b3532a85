using System;
using System.Diagnostics;
using System.Threading.Tasks;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests
{
    /// <summary>Polls an outside effect until it holds or a deadline passes; the failure shows the server log.</summary>
    public static class TestWait
    {
        public static Task UntilAsync(Func<bool> condition, string log = null, int timeoutMs = 10000) =>
            UntilAsync(() => Task.FromResult(condition()), log, timeoutMs);

        public static async Task UntilAsync(Func<Task<bool>> condition, string log = null, int timeoutMs = 10000)
        {
            var watch = Stopwatch.StartNew();
            while (!await condition())
            {
                if (watch.ElapsedMilliseconds > timeoutMs)
                    throw new XunitException("condition not met within " + timeoutMs + " ms" + (log == null ? "" : "; server log:\n" + log));
                await Task.Delay(20);
            }
        }
    }
}
