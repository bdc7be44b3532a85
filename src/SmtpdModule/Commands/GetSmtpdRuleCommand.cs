using System.Linq;
using System.Management.Automation;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdRule: compiles a rules file and writes its rules, so an administrator can see how
    /// each line was read. Warnings go to the warning stream. A file with errors reports every
    /// error at once: all but the first as non-terminating errors, then the first as the
    /// terminating one.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdRule")]
    [OutputType(typeof(Rule))]
    public sealed class GetSmtpdRuleCommand : SmtpdCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override void ProcessRecord()
        {
            var resolved = ResolveExistingFile(Path);
            RuleSet rules;
            try
            {
                rules = RuleSet.Load(resolved);
            }
            catch (RuleFileException ex)
            {
                ReportRefusedFile(ex, resolved);
                return;   // not reached: ReportRefusedFile throws
            }

            foreach (var warning in InFileOrder(rules.Diagnostics))
                WriteWarning(warning.ToString());
            foreach (var rule in rules.Rules)
                WriteObject(rule);
        }

        void ReportRefusedFile(RuleFileException ex, string path)
        {
            // The exception's message names its first error: that one terminates, last.
            var first = ex.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
            foreach (var d in InFileOrder(ex.Diagnostics))
            {
                if (ReferenceEquals(d, first)) continue;
                if (d.Severity == DiagnosticSeverity.Warning) WriteWarning(d.ToString());
                else WriteError(ErrorMapping.From(d, path));
            }
            ThrowTerminatingError(ErrorMapping.From(ex, path));
        }
    }
}
