using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    // A new connection: the session limits (in all, per client address, per client network) before a session starts.
    public sealed partial class SmtpProxy
    {
        void Admit(Socket socket)
        {
            socket.NoDelay = true;
            var remote = ((IPEndPoint)socket.RemoteEndPoint).Address;
            if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
            SmtpReply refusal = null;
            var network = _rt.ConcurrencyNetworkOf(remote);
            if (_sessions.Count >= Options.MaxSessions) refusal = Replies.TooManySessions;
            else if (_perClient.AddOrUpdate(remote, 1, (_, n) => n + 1) > Options.MaxSessionsPerClient)
            {
                Release(_perClient, remote);
                refusal = Replies.TooManySessionsFromYou;
            }
            else if (network != null && _perNetwork.AddOrUpdate(network, 1, (_, n) => n + 1) > Options.RateLimits.ConnectionsAtOnce)
            {
                Release(_perNetwork, network);
                Release(_perClient, remote);
                refusal = new SmtpReply(421, "4.7.0", "Too many connections from " + network + ", try again later");
            }
            if (refusal != null)
            {
                _rt.Events.Write(new ProxyEvent("limit", null, remote.ToString(), refusal.Text));
                _ = RefuseAsync(socket, refusal);
                return;
            }

            var id = Id + "-" + Interlocked.Increment(ref _sessionSerial).ToString("x");
            _rt.Counters.SessionOpened();
            var session = new SmtpSession(_rt, socket, id);
            var task = Task.Run(session.RunAsync);
            _sessions[task] = socket;
            task.ContinueWith(t =>
            {
                _sessions.TryRemove(t, out _);
                Release(_perClient, remote);
                if (network != null) Release(_perNetwork, network);
                _rt.Counters.SessionClosed();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        static void Release<T>(ConcurrentDictionary<T, int> counts, T key)
        {
            while (true)
            {
                if (!counts.TryGetValue(key, out var n)) return;
                if (n <= 1 ? counts.TryRemove(key, out _) : counts.TryUpdate(key, n - 1, n)) return;
            }
        }
    }
}
