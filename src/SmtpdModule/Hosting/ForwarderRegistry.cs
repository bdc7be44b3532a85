using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using SmtpdModule.Engine.Forwarding;

namespace SmtpdModule.Hosting
{
    /// <summary>The forwarders running in this PowerShell process, by id; a stopped one leaves by itself.</summary>
    internal static class ForwarderRegistry
    {
        static readonly ConcurrentDictionary<int, Forwarder> s_forwarders = new ConcurrentDictionary<int, Forwarder>();

        public static void Add(Forwarder forwarder)
        {
            s_forwarders[forwarder.Id] = forwarder;
            forwarder.Completion.ContinueWith(_ => s_forwarders.TryRemove(forwarder.Id, out Forwarder _));
        }

        public static IReadOnlyList<Forwarder> All => s_forwarders.Values.Where(f => f.IsRunning).OrderBy(f => f.Id).ToList();

        public static Forwarder Find(int id) => s_forwarders.TryGetValue(id, out var f) && f.IsRunning ? f : null;
    }
}
