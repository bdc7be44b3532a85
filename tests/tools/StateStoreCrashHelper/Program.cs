using System;
using System.Globalization;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;

// Usage: StateStoreCrashHelper <folder> <compaction floor in bytes>
// Prints "open <counter> <damage>" once, then "ack <n>" after the increment that returned n and
// the write of "item:<n>" have both completed. It never stops by itself: the test kills it.
static class Program
{
    static async Task<int> Main(string[] args)
    {
        var day = TimeSpan.FromDays(1);
        using var store = new FileStateStore(args[0], new FileStateStoreOptions
        {
            CompactionFloorBytes = long.Parse(args[1], CultureInfo.InvariantCulture),
        });
        var stdout = Console.Out;
        stdout.WriteLine("open " + (await store.GetAsync("counter") ?? "0") + " " + store.Recovery.Damage);
        stdout.Flush();
        while (true)
        {
            long n = await store.IncrementAsync("counter", 1, day);
            await store.SetAsync("item:" + n, "value " + n, day);
            await store.SetAsync("hot", "overwritten " + n, day);   // dead records, so compactions run
            stdout.WriteLine("ack " + n);
            stdout.Flush();
        }
    }
}
