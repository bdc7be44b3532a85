using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Linq;

namespace SmtpdModule.Bench.Replay
{
    /// <summary>The runtime's allocation samples (one per ~100 KB) by type: where a replay's bytes go.</summary>
    sealed class AllocationTypes : EventListener
    {
        readonly Dictionary<string, long> _bytes = new Dictionary<string, long>();
        public bool On;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!On || e.EventName == null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal)) return;
            var type = (string)e.Payload[e.PayloadNames.IndexOf("TypeName")];
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")]);
            lock (_bytes) _bytes[type] = (_bytes.TryGetValue(type, out var b) ? b : 0) + amount;
        }

        public void Print(int top)
        {
            lock (_bytes)
            {
                var total = _bytes.Values.Sum();
                foreach (var kv in _bytes.OrderByDescending(k => k.Value).Take(top))
                    Console.WriteLine($"{kv.Value * 100.0 / total,6:F1}%  {kv.Key}");
            }
        }
    }
}
