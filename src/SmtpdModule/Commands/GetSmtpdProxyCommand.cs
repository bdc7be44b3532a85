using System.Collections.Generic;
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
    public sealed class GetSmtpdProxyCommand : GetRunningCmdlet
    {
        internal override string Kind => ControlLocation.ProxyKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ProxyStatus.FromFields(answer, controlFile);

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        internal override int[] Ids => Id;
        internal override IEnumerable<object> Running() => ProxyRegistry.All;
        internal override object Find(int id) => ProxyRegistry.Find(id);
    }
}
