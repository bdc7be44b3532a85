using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using SmtpdModule.Engine.Smtp;

namespace SmtpdModule.Hosting
{
    /// <summary>The proxies running in this PowerShell process, by id; a stopped proxy leaves by itself.</summary>
    internal static class ProxyRegistry
    {
        static readonly ConcurrentDictionary<int, SmtpProxy> s_proxies = new ConcurrentDictionary<int, SmtpProxy>();

        public static void Add(SmtpProxy proxy)
        {
            s_proxies[proxy.Id] = proxy;
            proxy.Completion.ContinueWith(_ => s_proxies.TryRemove(proxy.Id, out SmtpProxy _));
        }

        public static IReadOnlyList<SmtpProxy> All => s_proxies.Values.Where(p => p.IsRunning).OrderBy(p => p.Id).ToList();

        public static SmtpProxy Find(int id) => s_proxies.TryGetValue(id, out var p) && p.IsRunning ? p : null;
    }
}
