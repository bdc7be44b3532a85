using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdProxy: the proxies running in this PowerShell process, with live counters; with
    /// -SpoolPath, the proxies of any process on this machine that serve that spool (a service, a
    /// scheduled task), asked through their control channel.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdProxy")]
    [OutputType(typeof(SmtpProxy), typeof(ProxyStatus))]
    public sealed class GetSmtpdProxyCommand : ControlChannelCmdlet
    {
        internal override string Kind => ControlLocation.ProxyKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ProxyStatus.FromFields(answer, controlFile);

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] SpoolPath { get; set; }

        protected override void ProcessRecord()
        {
            if (SpoolPath != null)
            {
                foreach (var spool in SpoolPath) WriteStatusFromSpool(spool, Id);
                return;
            }
            if (Id == null)
            {
                foreach (var p in ProxyRegistry.All) WriteObject(p);
                return;
            }
            foreach (var id in Id)
            {
                var p = ProxyRegistry.Find(id);
                if (p != null) WriteObject(p);
                else WriteError(ErrorMapping.ProxyNotFound(id));
            }
        }
    }
}
