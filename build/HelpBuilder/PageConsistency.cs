using System;
using System.Linq;

namespace HelpBuilder
{
    /// <summary>
    /// The SYNTAX blocks and the PARAMETERS section say the same things twice (which parameters a
    /// set has, which are required or positional, their types). When they disagree the page
    /// cannot be turned into one truthful MAML file, so the build stops at the line that differs.
    /// </summary>
    static class PageConsistency
    {
        public static void Check(CommandHelp help)
        {
            string path = help.Path;
            if (help.Syntax.Count > 1 && help.Syntax.Count(s => s.IsDefault) != 1)
                throw new HelpFormatException(path, help.Syntax[0].HeadingLine,
                    "SYNTAX: with several parameter sets, exactly one heading must end in '(Default)'.");

            foreach (var set in help.Syntax)
            {
                foreach (var shown in set.Parameters)
                {
                    var parameter = help.Parameters.FirstOrDefault(p => p.Name == shown.Name)
                        ?? throw new HelpFormatException(path, set.Line, $"SYNTAX ({set.Name}): -{shown.Name} has no '### -{shown.Name}' section under PARAMETERS.");
                    var facts = parameter.Facts.Where(f => f.AppliesTo(set.Name) || help.Syntax.Count == 1).ToList();
                    if (facts.Count != 1)
                        throw new HelpFormatException(path, parameter.Line,
                            $"-{shown.Name}: {(facts.Count == 0 ? "no" : "more than one")} yaml block names parameter set '{set.Name}', where the syntax shows it.");
                    var f = facts[0];
                    string type = shown.Type ?? "SwitchParameter";
                    if (!string.Equals(type, f.Type, StringComparison.OrdinalIgnoreCase))
                        throw new HelpFormatException(path, f.Line, $"-{shown.Name}: Type is '{f.Type}' but the syntax of set '{set.Name}' says '{type}'.");
                    if (shown.Required != f.Required)
                        throw new HelpFormatException(path, f.Line, $"-{shown.Name}: Required is {f.Required} but the syntax of set '{set.Name}' shows it {(shown.Required ? "required" : "optional")}.");
                    if (shown.Positional != (f.Position != "Named"))
                        throw new HelpFormatException(path, f.Line, $"-{shown.Name}: Position is {f.Position} but the syntax of set '{set.Name}' shows it {(shown.Positional ? "positional" : "named")}.");
                }
            }

            foreach (var parameter in help.Parameters)
            {
                foreach (var f in parameter.Facts)
                    foreach (string name in f.Sets.Where(s => s != ParameterFacts.AllSets))
                        if (!help.Syntax.Any(s => s.Name == name))
                            throw new HelpFormatException(path, f.Line, $"-{parameter.Name}: parameter set '{name}' has no block under SYNTAX.");
                var missing = help.Syntax.FirstOrDefault(s =>
                    parameter.Facts.Any(f => f.AppliesTo(s.Name)) && !s.Parameters.Any(p => p.Name == parameter.Name));
                if (missing != null)
                    throw new HelpFormatException(path, missing.Line, $"SYNTAX ({missing.Name}): -{parameter.Name} belongs to this set but is not in its syntax.");
            }
        }
    }
}
