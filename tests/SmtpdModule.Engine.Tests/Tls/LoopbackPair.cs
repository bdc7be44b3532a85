using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Tests.Tls
{
    /// <summary>Both ends of one real TCP connection on 127.0.0.1 (the listener's port 0 chosen by the OS).</summary>
    public sealed class LoopbackPair : IDisposable
    {
        LoopbackPair(Socket server, Socket client)
        {
            Server = server;
            Client = client;
        }

        /// <summary>The accepted socket, as the receiver sees the client.</summary>
        public Socket Server { get; }
        /// <summary>The connecting socket.</summary>
        public Socket Client { get; }

        public static async Task<LoopbackPair> ConnectAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                var connecting = client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
                var server = await listener.AcceptSocketAsync();
                await connecting;
                return new LoopbackPair(server, client);
            }
            finally
            {
                listener.Stop();
            }
        }

        /// <summary>The server side's stream as the session will make it: it owns the socket, so
        /// disposing it closes the connection.</summary>
        public NetworkStream ServerStream() => new NetworkStream(Server, ownsSocket: true);

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
