using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Smtp;

namespace SmtpdModule.Hosting
{
    /// <summary>What runs in the background of this PowerShell process (proxies, forwarders), by
    /// id, for the Get- and Stop- cmdlets; whatever stops leaves by itself.</summary>
    internal sealed class RunningRegistry<T> where T : class
    {
        readonly ConcurrentDictionary<int, T> _running = new ConcurrentDictionary<int, T>();
        readonly Func<T, int> _id;
        readonly Func<T, bool> _isRunning;
        readonly Func<T, Task> _completion;

        public RunningRegistry(Func<T, int> id, Func<T, bool> isRunning, Func<T, Task> completion)
        {
            _id = id;
            _isRunning = isRunning;
            _completion = completion;
        }

        public void Add(T item)
        {
            var id = _id(item);
            _running[id] = item;
            _completion(item).ContinueWith(_ => _running.TryRemove(id, out T _));
        }

        public IReadOnlyList<T> All => _running.Values.Where(_isRunning).OrderBy(_id).ToList();

        public T Find(int id) => _running.TryGetValue(id, out var item) && _isRunning(item) ? item : null;
    }

    internal static class ProxyRegistry
    {
        static readonly RunningRegistry<SmtpProxy> s_proxies = new RunningRegistry<SmtpProxy>(p => p.Id, p => p.IsRunning, p => p.Completion);
        public static void Add(SmtpProxy proxy) => s_proxies.Add(proxy);
        public static IReadOnlyList<SmtpProxy> All => s_proxies.All;
        public static SmtpProxy Find(int id) => s_proxies.Find(id);
    }

    internal static class ForwarderRegistry
    {
        static readonly RunningRegistry<Forwarder> s_forwarders = new RunningRegistry<Forwarder>(f => f.Id, f => f.IsRunning, f => f.Completion);
        public static void Add(Forwarder forwarder) => s_forwarders.Add(forwarder);
        public static IReadOnlyList<Forwarder> All => s_forwarders.All;
        public static Forwarder Find(int id) => s_forwarders.Find(id);
    }
}
