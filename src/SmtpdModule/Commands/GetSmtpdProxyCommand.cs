using System.Management.Automation;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>Get-SmtpdProxy: the proxies running in this PowerShell process, with live counters.</summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdProxy")]
    [OutputType(typeof(SmtpProxy))]
    public sealed class GetSmtpdProxyCommand : SmtpdCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        protected override void ProcessRecord()
        {
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
