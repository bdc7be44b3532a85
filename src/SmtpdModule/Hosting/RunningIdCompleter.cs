using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Completes -Id of the Get- and Stop- cmdlets with the ids of what runs in this PowerShell
    /// process (<see cref="ProxyRegistry"/>, <see cref="ForwarderRegistry"/>), lowest first, each
    /// with a tooltip that says what it is: "proxy 3 on 127.0.0.1:2525".
    /// </summary>
    /// <remarks>
    /// The registries are in-process, so another runspace of this process sees the same ids and
    /// another process sees none. Completion must never fail: anything unexpected gives an empty
    /// list.
    /// These public types name no engine type, not even as a generic argument: PowerShell reads
    /// them before ModuleInitializer.OnImport, when the engine cannot be loaded yet; the engine
    /// types appear only in method bodies, which run after.
    /// </remarks>
    public abstract class RunningIdCompleter : IArgumentCompleter
    {
        /// <summary>What is running now, by id, with the tooltip that describes it.</summary>
        internal abstract IEnumerable<KeyValuePair<int, string>> Running();

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            try
            {
                var word = (wordToComplete ?? "").Trim('\'', '"');
                foreach (var item in Running())
                {
                    var text = item.Key.ToString(CultureInfo.InvariantCulture);
                    if (!text.StartsWith(word, StringComparison.Ordinal)) continue;
                    results.Add(new CompletionResult(text, text, CompletionResultType.ParameterValue, item.Value));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ArgumentException || ex is ObjectDisposedException
                                       || ex is RuntimeException)
            {
                results.Clear();
            }
            return results;
        }
    }

    /// <summary>-Id of Get-SmtpdProxy and Stop-SmtpdProxy: the proxies running in this process.</summary>
    public sealed class ProxyIdCompleter : RunningIdCompleter
    {
        internal override IEnumerable<KeyValuePair<int, string>> Running() =>
            ProxyRegistry.All.Select(p => new KeyValuePair<int, string>(p.Id,
                "proxy " + p.Id.ToString(CultureInfo.InvariantCulture) + " on " + string.Join(", ", p.LocalEndPoints))).ToList();
    }

    /// <summary>-Id of Get-SmtpFwd and Stop-SmtpFwd: the forwarders running in this process.</summary>
    public sealed class ForwarderIdCompleter : RunningIdCompleter
    {
        internal override IEnumerable<KeyValuePair<int, string>> Running() =>
            ForwarderRegistry.All.Select(f => new KeyValuePair<int, string>(f.Id,
                "forwarder " + f.Id.ToString(CultureInfo.InvariantCulture) + " from " + f.SpoolPath + " to " + f.Target)).ToList();
    }
}
