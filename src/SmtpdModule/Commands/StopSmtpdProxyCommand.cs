using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Stop-SmtpdProxy: stops a proxy gracefully — no new sessions, idle sessions get 421,
    /// transactions in flight may finish within -TimeoutSeconds; nothing acknowledged is lost.
    /// With -SpoolPath it stops, through their control channel, the proxies of any process on
    /// this machine that serve that spool: how a service or scheduled task is stopped gracefully.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "SmtpdProxy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ById)]
    [OutputType(typeof(SmtpProxy), typeof(ProxyStatus))]
    public sealed class StopSmtpdProxyCommand : SmtpdCmdlet
    {
        const string ById = "Id", ByObject = "InputObject", BySpool = "SpoolPath";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public SmtpProxy[] InputObject { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        /// <summary>Only the proxy of this process (with -SpoolPath); 0 or none: any.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        public int ProcessId { get; set; }

        [Parameter]
        [ValidateRange(0, 3600)]
        public double TimeoutSeconds { get; set; } = 30;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByObject)
            {
                foreach (var p in InputObject) Stop(p);
                return;
            }
            if (ParameterSetName == BySpool)
            {
                StopInSpool();
                return;
            }
            foreach (var id in Id)
            {
                var p = ProxyRegistry.Find(id);
                if (p == null) WriteError(ErrorMapping.ProxyNotFound(id));
                else Stop(p);
            }
        }

        void Stop(SmtpProxy proxy)
        {
            if (!ShouldProcess("proxy " + proxy.Id + " (" + string.Join(", ", proxy.LocalEndPoints) + ")", "Stop SMTP proxy")) return;
            Run(_ => proxy.StopAsync(TimeSpan.FromSeconds(TimeoutSeconds)).ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }));
            if (PassThru) WriteObject(proxy);
        }

        void StopInSpool()
        {
            if (!TryGetFileSystemPath(SpoolPath, out var spool))
            {
                WriteError(new ErrorRecord(new ArgumentException("'" + SpoolPath + "' is not a file-system path."), "PathNotInFileSystem", ErrorCategory.InvalidArgument, SpoolPath));
                return;
            }
            System.Collections.Generic.List<ControlLocation> found;
            try { found = ControlLookup.Find(spool, ControlLocation.ProxyKind, Id, ProcessId); }
            catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, GetSmtpdProxyCommand.ControlPathOf(spool))); return; }
            var stopped = new System.Collections.Generic.HashSet<int>();
            var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
            foreach (var location in found)
            {
                if (!ShouldProcess("proxy " + location.Id + " of process " + location.ProcessId + " (" + spool + ")", "Stop SMTP proxy")) { stopped.Add(location.Id); continue; }
                ControlFields answer = null;
                // The answer comes once the proxy has stopped: its bound, the close, and a margin.
                try { answer = Run(_ => ControlLookup.AskAsync(location, ControlRequest.Stop(timeout), timeout + TimeSpan.FromSeconds(30))); }
                catch (ControlException ex) { WriteError(ErrorMapping.From(ex)); continue; }
                catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, location.File)); continue; }
                if (answer == null) continue;   // stale: it was not running
                stopped.Add(location.Id);
                if (PassThru) WriteObject(ProxyStatus.FromFields(answer, location.File));
            }
            if (Id != null)
                foreach (var id in Id)
                    if (!stopped.Contains(id)) WriteError(ErrorMapping.NotFoundInSpool("proxy", id, spool));
        }
    }
}
