using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Linq;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Test-SmtpdRule: plays a transaction through the proxy's own decision path (connect, EHLO,
    /// MAIL, each RCPT) and writes one <see cref="RuleDecision"/> per recipient, each carrying the
    /// verdicts of the stages before it (Stages); -EachStage writes the stage verdicts instead.
    /// Nothing is sent to the client address; ident answers come from -Ident; DNS is asked only
    /// when the rules (or a missing -ClientName) need it.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "SmtpdRule")]
    [OutputType(typeof(RuleDecision))]
    [OutputType(typeof(StageVerdict))]
    public sealed class TestSmtpdRuleCommand : SmtpdCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string ClientAddress { get; set; }

        /// <summary>Absent: looked up. Empty: no reverse name (UNKNOWN). Otherwise: the verified name.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string ClientName { get; set; }

        /// <summary>What identd would answer if asked; empty means no answer.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string Ident { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string Helo { get; set; }

        /// <summary>The MAIL FROM argument; <c>&lt;&gt;</c> or empty for the null sender.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string From { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] To { get; set; }

        [Parameter]
        public string[] DnsServer { get; set; }

        [Parameter]
        public DefaultAction DefaultAction { get => (DefaultAction)_defaultAction; set => _defaultAction = (int)value; }
        // Held as a number: a field of an engine enum would make PowerShell load the engine while it
        // lists this assembly's types, before Hosting/ModuleInitializer.cs has said where it is.
        int _defaultAction = (int)DefaultAction.Allow;

        [Parameter]
        public LookupFailurePolicy OnLookupFailure { get => (LookupFailurePolicy)_onLookupFailure; set => _onLookupFailure = (int)value; }
        int _onLookupFailure = (int)LookupFailurePolicy.NoMatch;

        [Parameter]
        public SwitchParameter SkipForwardConfirmation { get; set; }

        [Parameter]
        public SwitchParameter Explain { get; set; }

        /// <summary>The tests -FailedTest names (empty entries skipped); false after writing the error for an unknown one.</summary>
        bool TryFailedTests(out ProtocolTests tests)
        {
            tests = ProtocolTests.None;
            foreach (var name in FailedTest ?? new string[0])
            {
                if (string.IsNullOrWhiteSpace(name)) continue;
                if (!ProtocolTestNames.TryParse(name.Trim(), out var t))
                {
                    WriteError(ErrorMapping.BadProtocolTest(name, string.Join(", ", ProtocolTestNames.All)));
                    return false;
                }
                tests |= t;
            }
            return true;
        }

        /// <summary>The protocol tests the client failed in the session, as the proxy would have found
        /// them (its FAILED= facts); none by default.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        // Checked per record, not by ValidateSet: a CSV row's empty cell means "none", and one bad row must not stop the others.
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        [ArgumentCompleter(typeof(FailedTestCompleter))]
        public string[] FailedTest { get; set; }

        /// <summary>One object per command the proxy would answer (connect, EHLO, MAIL, each RCPT) instead of one per recipient.</summary>
        [Parameter]
        public SwitchParameter EachStage { get; set; }

        /// <summary>The proxy's host name, as its greeting and HELO reply show it.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string HostName { get; set; }

        /// <summary>Judge addresses as a proxy started with -AcceptRoutedAddresses would: no 553 check before the rules.</summary>
        [Parameter]
        public SwitchParameter AcceptRoutedAddresses { get; set; }

        /// <summary>Verify allowed recipients against this list, as a proxy started with it would.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string RecipientListPath { get; set; }

        /// <summary>Look each allowed recipient up in this directory, as a proxy started with it would.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string LdapServer { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string LdapSearchBase { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string LdapFilter { get; set; }

        [Parameter]
        [Credential]
        public PSCredential LdapCredential { get; set; }

        [Parameter]
        public SwitchParameter LdapStartTls { get; set; }

        /// <summary>Ask this real mail server (host[:port]) about each allowed recipient, as the proxy's callahead does.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string CallaheadHost { get; set; }

        [Parameter]
        public CallaheadTlsMode CallaheadTlsMode { get => (CallaheadTlsMode)_callaheadTls; set => _callaheadTls = (int)value; }
        int _callaheadTls = (int)CallaheadTlsMode.None;   // a number, as _defaultAction

        [Parameter]
        public VerificationFailMode RecipientVerificationFailMode { get => (VerificationFailMode)_failMode; set => _failMode = (int)value; }
        int _failMode = (int)VerificationFailMode.TempFail;   // a number, as _defaultAction

        /// <summary>Decide with this real mail server's limits (host[:port]), asked once, as a proxy started with -SmartHost does.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string SmartHost { get; set; }

        DnsResolverOptions _dnsOptions;
        DownstreamLimits _smartHostLimits;
        string _loadedPath;
        RuleTester _tester;

        protected override void BeginProcessing()
        {
            _dnsOptions = DnsOptionsFrom(DnsServer);
            if (SmartHost != null)
            {
                var probe = SmartHostProbe.From(SmartHost, HostName, out var badHost);
                if (badHost != null) ThrowTerminatingError(badHost);
                _smartHostLimits = Run(token => probe.ProbeAsync(token));
                if (_smartHostLimits == null) return;   // stopped
                if (_smartHostLimits.IsKnown) WriteVerbose("smart host limits: " + _smartHostLimits);
                else WriteWarning("The smart host's limits were not learned (" + _smartHostLimits.Detail + "): deciding with the proxy's own, as a proxy that cannot ask it does.");
            }
        }

        protected override void ProcessRecord()
        {
            var tester = GetTester();

            if (!RuleTestRequest.TryParseClientAddress(ClientAddress, out var address, out var addressError))
            {
                // One bad record does not stop the others.
                WriteError(ErrorMapping.BadClientAddress(ClientAddress, addressError));
                return;
            }
            if (!TryFailedTests(out var failedTests)) return;

            var request = new RuleTestRequest
            {
                ClientAddress = address,
                ClientName = ClientName,
                ConfirmReverseName = !SkipForwardConfirmation.IsPresent,
                Ident = Ident,
                Helo = Helo,
                From = From,
                To = To,
                Explain = Explain.IsPresent,
                FailedTests = failedTests,
                StrictAddresses = !AcceptRoutedAddresses.IsPresent,
                SmartHostLimits = _smartHostLimits,
            };
            if (HostName != null) request.HostName = HostName;
            var result = Run(token => tester.RunAsync(request, token));
            if (result == null) return;   // stopped
            if (result.ReverseLookup != null) WriteVerbose(result.ReverseLookup);
            if (EachStage.IsPresent)
            {
                foreach (var stage in result.Stages) WriteObject(stage);
                return;
            }
            for (int i = 0; i < result.Decisions.Count; i++)
            {
                // The path to this recipient rides on the decision, so its type (and views) stay as they were.
                var decision = PSObject.AsPSObject(result.Decisions[i]);
                decision.Properties.Add(new PSNoteProperty("Stages", result.StagesOf(i).ToArray()));
                WriteObject(decision);
            }
        }

        /// <summary>The rules are loaded once and kept for every pipeline record of the same path.</summary>
        RuleTester GetTester()
        {
            var resolved = ResolveExistingFile(Path);
            if (_tester != null && string.Equals(resolved, _loadedPath, StringComparison.Ordinal))
                return _tester;

            RuleSet rules = null;
            try
            {
                rules = RuleSet.Load(resolved);
            }
            catch (RuleFileException ex)
            {
                ThrowTerminatingError(ErrorMapping.From(ex, resolved));
            }
            foreach (var warning in InFileOrder(rules.Diagnostics))
                WriteWarning(warning.ToString());

            _tester?.Dispose();
            _tester = new RuleTester(rules, new RuleEvaluationOptions { DefaultAction = DefaultAction, OnLookupFailure = OnLookupFailure }, _dnsOptions,
                                     verification: RecipientVerificationFrom(RecipientListPath,
                                         new LdapParameters { Server = LdapServer, SearchBase = LdapSearchBase, Filter = LdapFilter, Credential = LdapCredential, StartTls = LdapStartTls },
                                         CallaheadHost, CallaheadTlsMode, HostName, RecipientVerificationFailMode));
            _loadedPath = resolved;
            return _tester;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _tester?.Dispose();
                _tester = null;
            }
        }
    }
}
