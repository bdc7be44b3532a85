using System;
using System.Management.Automation;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Test-SmtpdSpf: the SPF check (RFC 7208) the proxy makes for a client, written as one
    /// <see cref="SpfCheckResult"/>: the MAIL FROM identity when -From is given (empty or <c>&lt;&gt;</c>
    /// is the null sender, checked as postmaster@ the HELO name), else the HELO identity.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "SmtpdSpf")]
    [OutputType(typeof(SpfCheckResult))]
    public sealed class TestSmtpdSpfCommand : SmtpdCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string ClientAddress { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string Helo { get; set; }

        /// <summary>The MAIL FROM address, bare or in angle brackets; absent: the HELO identity is checked.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string From { get; set; }

        [Parameter]
        public string[] DnsServer { get; set; }

        /// <summary>How long to wait for one DNS answer (default 3 seconds).</summary>
        [Parameter]
        public TimeSpan DnsTimeout { get; set; }

        DnsClientResolver _dns;

        protected override void BeginProcessing()
        {
            var options = DnsOptionsFrom(DnsServer);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(DnsTimeout)))
            {
                try { options.Timeout = DnsTimeout; }
                catch (ArgumentOutOfRangeException ex)
                {
                    ThrowTerminatingError(ErrorMapping.BadDnsTimeout(ex, DnsTimeout));
                }
            }
            try { _dns = new DnsClientResolver(options); }
            catch (InvalidOperationException ex) { ThrowTerminatingError(ErrorMapping.NoDns(ex)); }
        }

        protected override void ProcessRecord()
        {
            if (!RuleTestRequest.TryParseClientAddress(ClientAddress, out var address, out var error))
            {
                WriteError(ErrorMapping.BadClientAddress(ClientAddress, error));
                return;
            }
            var evaluator = new SpfEvaluator(_dns);
            var checkMailFrom = MyInvocation.BoundParameters.ContainsKey(nameof(From));
            var result = Run(token => checkMailFrom
                ? evaluator.CheckMailFromAsync(address, Helo, From, token)
                : evaluator.CheckHeloAsync(address, Helo, token));
            if (result != null) WriteObject(result);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _dns?.Dispose();
        }
    }
}
