using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Asks the client's identd who owns the connection (RFC 1413): from our local address to the
    /// peer's port 113, <c>peer-port , local-port</c>, one reply line of at most 1,000 bytes, the
    /// whole exchange within a deadline. Asked only when a rule needs the user (reference §2.5),
    /// and at most once per session.
    /// </summary>
    public sealed class IdentClient : IIdentSource
    {
        readonly IPEndPoint _local, _remote;
        readonly TimeSpan _timeout;
        Task<IdentAnswer> _answer;

        public IdentClient(IPEndPoint local, IPEndPoint remote, TimeSpan timeout)
        {
            _local = local;
            _remote = remote;
            _timeout = timeout;
        }

        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default)
        {
            if (_timeout <= TimeSpan.Zero) return Task.FromResult(IdentAnswer.None);
            return _answer ?? (_answer = AskAsync(cancellationToken));
        }

        async Task<IdentAnswer> AskAsync(CancellationToken cancellationToken)
        {
            using (var socket = new Socket(_remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                cts.CancelAfter(_timeout);
                using (cts.Token.Register(() => socket.Dispose()))
                {
                    try
                    {
                        socket.Bind(new IPEndPoint(_local.Address, 0));
                        await socket.ConnectAsync(new IPEndPoint(_remote.Address, 113)).ConfigureAwait(false);
                        var query = Encoding.ASCII.GetBytes(_remote.Port + " , " + _local.Port + "\r\n");
                        await socket.SendAsync(new ArraySegment<byte>(query), SocketFlags.None).ConfigureAwait(false);
                        var buffer = new byte[1000];
                        int len = 0;
                        while (len < buffer.Length)
                        {
                            int n = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, len, buffer.Length - len), SocketFlags.None).ConfigureAwait(false);
                            if (n <= 0) break;
                            len += n;
                            if (Array.IndexOf(buffer, (byte)'\n', 0, len) >= 0) break;
                        }
                        // A reply we cannot use (ERROR, wrong ports, garbage) is the client's own answer: no user.
                        return IdentAnswer.Of(Parse(Encoding.ASCII.GetString(buffer, 0, len), _remote.Port, _local.Port));
                    }
                    catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
                    {
                        return IdentAnswer.None;   // nobody listens at port 113: a definite "no answer"
                    }
                    catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        // Timed out (the socket was closed by the deadline) or reset: could not tell.
                        return IdentAnswer.Failure(cts.IsCancellationRequested ? "ident query timed out after " + _timeout.TotalSeconds + " s" : "ident query failed: " + ex.Message);
                    }
                }
            }
        }

        /// <summary>Parses <c>peer-port , local-port : USERID : os : user</c>; the user is its first word (at most 80 characters).</summary>
        public static string Parse(string reply, int peerPort, int localPort)
        {
            if (reply == null) return null;
            int nl = reply.IndexOf('\n');
            if (nl >= 0) reply = reply.Substring(0, nl);
            var parts = reply.Split(new[] { ':' }, 4);
            if (parts.Length < 4) return null;
            var ports = parts[0].Split(',');
            if (ports.Length != 2 || !int.TryParse(ports[0].Trim(), out var p1) || !int.TryParse(ports[1].Trim(), out var p2)) return null;
            if (p1 != peerPort || p2 != localPort) return null;
            if (!string.Equals(parts[1].Trim(), "USERID", StringComparison.OrdinalIgnoreCase)) return null;
            var user = parts[3].Trim();
            int sp = user.IndexOfAny(new[] { ' ', '\t', '\r' });
            if (sp >= 0) user = user.Substring(0, sp);
            if (user.Length == 0) return null;
            return user.Length > 80 ? user.Substring(0, 80) : user;
        }
    }
}
