using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Hosting
{
    /// <summary>Completes Test-SmtpdRule -FailedTest with the protocol tests' names and ANY.</summary>
    public sealed class FailedTestCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            var word = (wordToComplete ?? "").Trim('\'', '"');
            var names = new List<string>(ProtocolTestNames.All) { "ANY" };
            foreach (var name in names)
                if (name.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                    results.Add(new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
            return results;
        }
    }
}
