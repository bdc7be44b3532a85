using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Completes -Id of the spool cmdlets with the ids in the spool that -SpoolPath names on the
    /// same command line. Without a -SpoolPath there is nothing to offer. The path is resolved in
    /// the current runspace, as the cmdlet would resolve it (relative to the current location,
    /// PowerShell drives included).
    /// </summary>
    /// <remarks>
    /// Completion must never fail or write anything: every error gives an empty list, and a path
    /// that is not an existing spool is not opened (opening completes a spool's directories).
    /// </remarks>
    public sealed class SpoolIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            try
            {
                var root = ResolveSpoolPath(SpoolPathOf(fakeBoundParameters));
                if (root == null || !System.IO.Directory.Exists(System.IO.Path.Combine(root, SpoolLayout.Ready))) return results;

                // Get-SmtpdSpool -Id takes wildcards: '2025*12' lists what the pattern matches.
                var word = (wordToComplete ?? "").Trim('\'', '"');
                var wildcard = word.IndexOfAny(new[] { '*', '?', '[' });
                var prefix = wildcard < 0 ? word : word.Substring(0, wildcard);
                var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
                foreach (var id in SpoolQueue.Open(root).Ids(prefix).Distinct(StringComparer.Ordinal).OrderBy(i => i, StringComparer.Ordinal))
                    if (pattern.IsMatch(id))
                        results.Add(new CompletionResult(id, id, CompletionResultType.ParameterValue, id));
            }
            catch (Exception ex) when (ex is SpoolException || ex is ArgumentException || ex is System.IO.IOException
                                       || ex is UnauthorizedAccessException || ex is RuntimeException
                                       || ex is InvalidOperationException)
            {
                results.Clear();
            }
            return results;
        }

        static string SpoolPathOf(IDictionary bound)
        {
            if (bound == null) return null;
            foreach (DictionaryEntry entry in bound)
            {
                if (!string.Equals(entry.Key as string, "SpoolPath", StringComparison.OrdinalIgnoreCase)) continue;
                var value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
                return value as string;
            }
            return null;
        }

        // The cmdlet resolves through SessionState; a completer has no cmdlet, so it asks the
        // runspace it runs in.
        static string ResolveSpoolPath(string path)
        {
            if (string.IsNullOrEmpty(path)) return null;
            using (var ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                ps.AddCommand("Microsoft.PowerShell.Management\\Resolve-Path").AddParameter("LiteralPath", path)
                  .AddParameter("ErrorAction", ActionPreference.Ignore);
                var resolved = ps.Invoke().Select(o => o.BaseObject).OfType<PathInfo>().FirstOrDefault();
                if (resolved == null || !string.Equals(resolved.Provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                    return null;
                return resolved.ProviderPath;
            }
        }
    }
}
