using System;
using System.IO;
using System.IO.Pipes;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Control
{
    /// <summary>
    /// The control channel of a real proxy on 127.0.0.1: found in the spool's control folder,
    /// asked for its status, stopped gracefully through it; a stale endpoint is removed, a bad
    /// request refused, and a stopped proxy leaves nothing behind.
    /// </summary>
    public class ControlChannelTests
    {
        [Fact]
        public async Task Status_through_the_channel_matches_the_proxy()
        {
            using var proxy = TestProxy.Start();
            var found = ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind);
            var location = Assert.Single(found);
            Assert.Equal(proxy.Proxy.Id, location.Id);
            Assert.Equal(proxy.Proxy.ControlPath, location.File);

            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await TestWait.UntilAsync(() => proxy.Proxy.Active == 1, proxy.Log);
                var status = ProxyStatus.FromFields(await ControlClient.RequestAsync(location, ControlRequest.Status, TimeSpan.FromSeconds(10)), location.File);
                Assert.True(status.IsRunning);
                Assert.Equal(proxy.Proxy.Id, status.Id);
                Assert.Equal(System.Diagnostics.Process.GetCurrentProcess().Id, status.ProcessId);
                Assert.Equal(proxy.EndPoint, status.LocalEndPoints.Single());
                Assert.Equal(1, status.Active);
                Assert.Equal(proxy.Proxy.SpoolPath, status.SpoolPath);
                Assert.Equal(proxy.RulesPath, status.RulesPath);
                Assert.Equal("mx.example.test", status.HostName);
            }
        }

        [Fact]
        public async Task Stop_through_the_channel_answers_once_stopped_and_removes_the_endpoint()
        {
            using var proxy = TestProxy.Start();
            var location = Assert.Single(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
            using var idle = await LineClient.ConnectAsync(proxy.EndPoint);
            var answer = await ControlClient.RequestAsync(location, ControlRequest.Stop(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(30));
            var status = ProxyStatus.FromFields(answer, location.File);
            Assert.False(status.IsRunning);
            await proxy.Proxy.Completion.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("421", await idle.ReadReplyAsync());
            Assert.False(File.Exists(location.File));
            Assert.Empty(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
        }

        [Fact]
        public async Task An_unknown_request_is_refused_and_the_proxy_keeps_running()
        {
            using var proxy = TestProxy.Start();
            var location = Assert.Single(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
            var ex = await Assert.ThrowsAsync<ControlException>(() => ControlClient.RequestAsync(location, "shutdown now", TimeSpan.FromSeconds(10)));
            Assert.Equal(ControlFailure.Refused, ex.Failure);
            ex = await Assert.ThrowsAsync<ControlException>(() => ControlClient.RequestAsync(location, "stop -1", TimeSpan.FromSeconds(10)));
            Assert.Equal(ControlFailure.Refused, ex.Failure);
            Assert.True(proxy.Proxy.IsRunning);
        }

        [Fact]
        public async Task A_client_that_sends_an_endless_line_gets_nothing_and_the_channel_still_answers()
        {
            using var proxy = TestProxy.Start();
            var location = Assert.Single(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
            using (var pipe = new NamedPipeClientStream(".", location.File, PipeDirection.InOut, PipeOptions.Asynchronous))
            {
                await pipe.ConnectAsync(5000);
                var junk = Encoding.ASCII.GetBytes(new string('x', 4096));
                try { await pipe.WriteAsync(junk, 0, junk.Length); } catch (IOException) { }
                var buffer = new byte[16];
                int n;
                try { n = await pipe.ReadAsync(buffer, 0, buffer.Length); } catch (IOException) { n = 0; }
                Assert.Equal(0, n);   // closed without an answer
            }
            var status = ProxyStatus.FromFields(await ControlClient.RequestAsync(location, ControlRequest.Status, TimeSpan.FromSeconds(10)), location.File);
            Assert.True(status.IsRunning);
        }

        [Fact]
        public void A_stale_endpoint_of_a_dead_process_is_removed_and_not_listed()
        {
            if (OperatingSystem.IsWindows()) return;   // Windows keeps marker files; the pid check is the same
            var spool = Directory.CreateTempSubdirectory("smtpd-control-").FullName;
            try
            {
                var control = Directory.CreateDirectory(Path.Combine(spool, ControlLocation.DirectoryName)).FullName;
                // A pid no process has: above the kernel's limit.
                var stale = Path.Combine(control, "proxy-" + int.MaxValue + "-1.sock");
                File.WriteAllText(stale, "");
                Assert.Single(ControlLocation.List(spool));
                Assert.Empty(ControlClient.Find(spool, ControlLocation.ProxyKind));
                Assert.False(File.Exists(stale));
            }
            finally { Directory.Delete(spool, true); }
        }

        [Fact]
        public async Task A_socket_nobody_listens_on_is_stale_even_when_its_pid_is_alive()
        {
            if (OperatingSystem.IsWindows()) return;
            using var proxy = TestProxy.Start();
            var location = Assert.Single(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
            // The same name under another id of this (live) process, but no listener: what a
            // reused pid leaves after a kill.
            var fake = Path.Combine(Path.GetDirectoryName(location.File), "proxy-" + location.ProcessId + "-999.sock");
            // Bound but never listening: a connection is refused, as to a socket whose process died
            // (.NET removes the file of a socket it closes, so this one stays open).
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(fake));
            var fakeLocation = ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind).Single(l => l.Id == 999);
            var ex = await Assert.ThrowsAsync<ControlException>(() => ControlClient.RequestAsync(fakeLocation, ControlRequest.Status, TimeSpan.FromSeconds(10)));
            Assert.Equal(ControlFailure.NotRunning, ex.Failure);
            Assert.False(File.Exists(fake));
        }

        [Fact]
        public void A_proxy_without_the_option_has_no_endpoint()
        {
            using var proxy = TestProxy.Start(configure: o => o.ControlChannel = false);
            Assert.Null(proxy.Proxy.ControlPath);
            Assert.Empty(ControlLocation.List(proxy.SpoolPath));
        }

        [Fact]
        public async Task Under_a_spool_path_too_long_for_a_socket_the_channel_goes_through_a_marker()
        {
            if (OperatingSystem.IsWindows()) return;   // pipe names have no such limit
            string socket;
            string marker;
            using (var proxy = TestProxy.Start(configure: o => o.SpoolPath = Path.Combine(Path.GetDirectoryName(o.SpoolPath), new string('s', 120))))
            {
                marker = proxy.Proxy.ControlPath;
                Assert.EndsWith(".pipe", marker);
                socket = File.ReadAllText(marker).Trim();
                Assert.True(socket.Length < 100, socket);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                             File.GetUnixFileMode(Path.GetDirectoryName(socket)));
                var location = Assert.Single(ControlClient.Find(proxy.Proxy.SpoolPath, ControlLocation.ProxyKind));
                var status = ProxyStatus.FromFields(await ControlClient.RequestAsync(location, ControlRequest.Status, TimeSpan.FromSeconds(10)), location.File);
                Assert.True(status.IsRunning);
                Assert.Equal(proxy.Proxy.Id, status.Id);
            }
            Assert.False(File.Exists(marker));
            Assert.False(Directory.Exists(Path.GetDirectoryName(socket)));
        }
    }
}
