using System;
using System.Collections.Generic;
using System.Linq;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpBuilder
{
    /// <summary>
    /// Reads one cmdlet page of the platyPS 2.0.0 markdown schema by walking the Markdig tree:
    /// front matter, "# Name", then the "## " sections in the schema's order, each split at its
    /// "### " headings. Anything the schema does not allow stops with the line at fault, rather
    /// than turning into help that silently lacks a part. The per-parameter ```yaml blocks and the
    /// front matter are flat "Key: value" lists and are read as such.
    /// </summary>
    static class CommandPageParser
    {
        // The schema's sections, in the order the schema writes them.
        static readonly string[] SectionOrder =
            { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };
        static readonly string[] Optional = { "NOTES", "RELATED LINKS" };

        sealed class Section
        {
            public string Name;
            public int Line;
            public readonly List<Block> Blocks = new List<Block>();
        }

        /// <summary>A "### " heading and the blocks up to the next one.</summary>
        sealed class Part
        {
            public string Title;
            public int Line;
            public readonly List<Block> Blocks = new List<Block>();
        }

        public static CommandHelp Parse(MarkdownDocument document, string path, string expectedName)
        {
            var help = new CommandHelp { Path = path };
            var blocks = document.Where(b => !(b is BlankLineBlock)).ToList();
            int at = 0;

            if (at >= blocks.Count || !(blocks[at] is YamlFrontMatterBlock frontMatter))
                throw new HelpFormatException(path, 1, "the page must start with the platyPS front matter (---, external help file, Module Name, schema: 2.0.0, ---).");
            ReadFrontMatter(frontMatter, help, path);
            at++;

            if (at >= blocks.Count || !(blocks[at] is HeadingBlock title) || title.Level != 1)
                throw new HelpFormatException(path, Line(at < blocks.Count ? blocks[at] : frontMatter), "expected the command name as a '# ' heading after the front matter.");
            help.Name = MarkdownText.Inline(title.Inline);
            if (!string.Equals(help.Name, expectedName, StringComparison.Ordinal))
                throw new HelpFormatException(path, Line(title), $"the page is named '{expectedName}' but its heading says '{help.Name}'.");
            at++;

            var sections = Split(blocks, at, path);
            foreach (string required in SectionOrder.Except(Optional))
                if (!sections.ContainsKey(required))
                    throw new HelpFormatException(path, 1, $"the '## {required}' section is missing.");

            help.Synopsis.AddRange(Text(sections["SYNOPSIS"], path, allowEmpty: false));
            if (help.Synopsis.Any(b => b.Kind != TextBlockKind.Paragraph))
                throw new HelpFormatException(path, sections["SYNOPSIS"].Line, "SYNOPSIS must be plain paragraphs.");
            ReadSyntax(sections["SYNTAX"], help, path);
            help.Description.AddRange(Text(sections["DESCRIPTION"], path, allowEmpty: false));
            ReadExamples(sections["EXAMPLES"], help, path);
            ReadParameters(sections["PARAMETERS"], help, path);
            help.Inputs.AddRange(ReadTypes(sections["INPUTS"], path));
            help.Outputs.AddRange(ReadTypes(sections["OUTPUTS"], path));
            if (sections.TryGetValue("NOTES", out var notes))
                help.Notes.AddRange(Text(notes, path, allowEmpty: true));
            if (sections.TryGetValue("RELATED LINKS", out var links))
                ReadLinks(links, help, path);

            PageConsistency.Check(help);
            return help;
        }

        static int Line(Block block) => block.Line + 1;

        static void ReadFrontMatter(YamlFrontMatterBlock block, CommandHelp help, string path)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value, _) in KeyValues(block, path, "front matter"))
                values[key] = value;
            if (!values.TryGetValue("schema", out string schema) || schema != "2.0.0")
                throw new HelpFormatException(path, Line(block), "the front matter must say 'schema: 2.0.0' (the platyPS markdown schema this builder reads).");
            if (!values.TryGetValue("external help file", out string file) || string.IsNullOrEmpty(file))
                throw new HelpFormatException(path, Line(block), "the front matter has no 'external help file'.");
            help.ExternalHelpFile = file;
            values.TryGetValue("online version", out string online);
            help.OnlineVersion = online ?? "";
        }

        /// <summary>The "Key: value" lines of a flat YAML block; blank lines are skipped.</summary>
        static IEnumerable<(string Key, string Value, int Line)> KeyValues(LeafBlock block, string path, string what)
        {
            foreach (var line in block.Lines.Lines.Take(block.Lines.Count))
            {
                string text = line.Slice.ToString().Trim();
                if (text.Length == 0 || text == "---")
                    continue;
                int colon = text.IndexOf(':');
                if (colon <= 0)
                    throw new HelpFormatException(path, line.Line + 1, $"expected 'Key: value' in the {what}, found '{text}'.");
                yield return (text.Substring(0, colon).Trim(), text.Substring(colon + 1).Trim(), line.Line + 1);
            }
        }

        static Dictionary<string, Section> Split(List<Block> blocks, int at, string path)
        {
            var sections = new Dictionary<string, Section>(StringComparer.Ordinal);
            Section current = null;
            int lastOrder = -1;
            for (; at < blocks.Count; at++)
            {
                var block = blocks[at];
                if (block is HeadingBlock heading && heading.Level <= 2)
                {
                    string name = MarkdownText.Inline(heading.Inline);
                    int order = Array.IndexOf(SectionOrder, name);
                    if (heading.Level == 1 || order < 0)
                        throw new HelpFormatException(path, Line(block), $"unexpected heading '{new string('#', heading.Level)} {name}': a cmdlet page has the sections {string.Join(", ", SectionOrder)}.");
                    if (sections.ContainsKey(name))
                        throw new HelpFormatException(path, Line(block), $"a second '## {name}' section.");
                    if (order < lastOrder)
                        throw new HelpFormatException(path, Line(block), $"'## {name}' must come before '## {SectionOrder[lastOrder]}'.");
                    lastOrder = order;
                    current = new Section { Name = name, Line = Line(block) };
                    sections.Add(name, current);
                }
                else if (current == null)
                    throw new HelpFormatException(path, Line(block), "text between the command name and '## SYNOPSIS'.");
                else
                    current.Blocks.Add(block);
            }
            return sections;
        }

        /// <summary>Splits a section at its "### " headings; nothing may come before the first.</summary>
        static List<Part> Parts(Section section, string path)
        {
            var parts = new List<Part>();
            foreach (var block in section.Blocks)
            {
                if (block is HeadingBlock heading)
                {
                    if (heading.Level != 3)
                        throw new HelpFormatException(path, Line(block), $"{section.Name}: expected a '### ' heading, found level {heading.Level}.");
                    parts.Add(new Part { Title = MarkdownText.Inline(heading.Inline), Line = Line(block) });
                }
                else if (parts.Count == 0)
                    throw new HelpFormatException(path, Line(block), $"{section.Name}: text before the first '### ' heading.");
                else
                    parts[^1].Blocks.Add(block);
            }
            return parts;
        }

        static List<TextBlock> Text(Section section, string path, bool allowEmpty) =>
            Text(section.Blocks, section.Name, section.Line, path, allowEmpty);

        static List<TextBlock> Text(List<Block> blocks, string where, int line, string path, bool allowEmpty)
        {
            var text = MarkdownText.ToBlocks(blocks, path);
            var heading = text.FirstOrDefault(b => b.Kind == TextBlockKind.Heading);
            if (heading != null)
                throw new HelpFormatException(path, heading.Line, $"{where}: headings are not allowed here.");
            if (!allowEmpty && !text.Any(b => b.Text.Length > 0 || b.Rows != null))
                throw new HelpFormatException(path, line, $"{where} is empty.");
            return text;
        }

        static void ReadSyntax(Section section, CommandHelp help, string path)
        {
            var parts = Parts(section, path);
            if (parts.Count == 0)
                throw new HelpFormatException(path, section.Line, "SYNTAX has no '### ParameterSetName' block.");
            foreach (var part in parts)
            {
                const string defaultMark = "(Default)";
                string name = part.Title;
                bool isDefault = name.EndsWith(defaultMark, StringComparison.Ordinal);
                if (isDefault)
                    name = name.Substring(0, name.Length - defaultMark.Length).Trim();
                if (name.Length == 0 || name.Contains(' '))
                    throw new HelpFormatException(path, part.Line, $"SYNTAX: '### {part.Title}' is not a parameter set name.");
                if (help.Syntax.Any(s => s.Name == name))
                    throw new HelpFormatException(path, part.Line, $"SYNTAX: parameter set '{name}' appears twice.");
                var code = part.Blocks.OfType<CodeBlock>().ToList();
                if (code.Count != 1 || part.Blocks.Count != 1)
                    throw new HelpFormatException(path, part.Line, $"SYNTAX: '### {part.Title}' must be followed by exactly one code block.");
                var set = new SyntaxSet { Name = name, IsDefault = isDefault, HeadingLine = part.Line, Line = Line(code[0]) };
                SyntaxLine.Parse(MarkdownText.CodeText(code[0]), help.Name, set, path, set.Line);
                help.Syntax.Add(set);
            }
        }

        static void ReadExamples(Section section, CommandHelp help, string path)
        {
            foreach (var part in Parts(section, path))
            {
                // The code is the code blocks right under the title (a command and, often, its
                // output); the text after them is the remarks.
                var code = part.Blocks.TakeWhile(b => b is CodeBlock).Cast<CodeBlock>().ToList();
                if (code.Count == 0)
                    throw new HelpFormatException(path, part.Line, $"EXAMPLES: '### {part.Title}' must be followed by a code block.");
                var example = new ExampleHelp
                {
                    Title = part.Title,
                    Code = string.Join("\n\n", code.Select(MarkdownText.CodeText)),
                };
                example.Remarks.AddRange(Text(part.Blocks.Skip(code.Count).ToList(), "EXAMPLES: " + part.Title, part.Line, path, allowEmpty: true));
                help.Examples.Add(example);
            }
        }

        static void ReadParameters(Section section, CommandHelp help, string path)
        {
            foreach (var part in Parts(section, path))
            {
                if (part.Title == "CommonParameters")
                    continue;   // Get-Help adds its own paragraph about them
                if (!part.Title.StartsWith("-", StringComparison.Ordinal) || part.Title.Length < 2 || part.Title.Contains(' '))
                    throw new HelpFormatException(path, part.Line, $"PARAMETERS: expected '### -Name' or '### CommonParameters', found '### {part.Title}'.");
                var parameter = new ParameterHelp { Name = part.Title.Substring(1), Line = part.Line };
                if (help.Parameters.Any(p => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)))
                    throw new HelpFormatException(path, part.Line, $"PARAMETERS: -{parameter.Name} is documented twice.");

                var yaml = part.Blocks.OfType<FencedCodeBlock>().Where(b => b.Info == "yaml").ToList();
                if (yaml.Count == 0)
                    throw new HelpFormatException(path, part.Line, $"PARAMETERS: -{parameter.Name} has no ```yaml block (Type, Parameter Sets, Required, Position, ...).");
                var prose = part.Blocks.TakeWhile(b => !yaml.Contains(b)).ToList();
                if (part.Blocks.Skip(prose.Count).Any(b => !yaml.Contains(b)))
                    throw new HelpFormatException(path, Line(part.Blocks.Skip(prose.Count).First(b => !yaml.Contains(b))),
                        $"PARAMETERS: -{parameter.Name}: only ```yaml blocks may follow the description.");
                parameter.Description.AddRange(Text(prose, "PARAMETERS: -" + parameter.Name, part.Line, path, allowEmpty: false));
                foreach (var block in yaml)
                    parameter.Facts.Add(ReadFacts(block, parameter.Name, path));
                help.Parameters.Add(parameter);
            }
        }

        static ParameterFacts ReadFacts(FencedCodeBlock block, string parameter, string path)
        {
            var facts = new ParameterFacts { Line = Line(block) };
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, value, line) in KeyValues(block, path, $"yaml block of -{parameter}"))
            {
                if (!seen.Add(key))
                    throw new HelpFormatException(path, line, $"-{parameter}: '{key}' appears twice.");
                switch (key)
                {
                    case "Type": facts.Type = value; break;
                    case "Parameter Sets": facts.Sets.AddRange(List(value)); break;
                    case "Aliases": facts.Aliases.AddRange(List(value)); break;
                    case "Accepted values": facts.AcceptedValues.AddRange(List(value)); break;
                    case "Required": facts.Required = Bool(value, key, parameter, path, line); break;
                    case "Position":
                        if (string.Equals(value, "Named", StringComparison.OrdinalIgnoreCase))
                            facts.Position = "Named";
                        else if (int.TryParse(value, out int position) && position >= 0)
                            facts.Position = position.ToString();
                        else
                            throw new HelpFormatException(path, line, $"-{parameter}: Position must be 'Named' or a number, not '{value}'.");
                        break;
                    case "Default value": facts.DefaultValue = value; break;
                    case "Accept pipeline input": facts.PipelineInput = PipelineInput(value, parameter, path, line); break;
                    case "Accept wildcard characters": facts.Globbing = Bool(value, key, parameter, path, line); break;
                    case "Applicable": break;   // platyPS's per-platform marker; one module, one platform set
                    default:
                        throw new HelpFormatException(path, line, $"-{parameter}: unknown key '{key}' (expected Type, Parameter Sets, Aliases, Accepted values, Required, Position, Default value, Accept pipeline input, Accept wildcard characters).");
                }
            }
            foreach (string key in new[] { "Type", "Parameter Sets", "Required", "Position", "Accept pipeline input", "Accept wildcard characters" })
                if (!seen.Contains(key))
                    throw new HelpFormatException(path, facts.Line, $"-{parameter}: the yaml block has no '{key}'.");
            if (facts.Type.Length == 0 || facts.Sets.Count == 0)
                throw new HelpFormatException(path, facts.Line, $"-{parameter}: Type and Parameter Sets must not be empty.");
            if (string.IsNullOrEmpty(facts.DefaultValue))
                facts.DefaultValue = "None";
            return facts;
        }

        static List<string> List(string value) =>
            value.Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).ToList();

        static bool Bool(string value, string key, string parameter, string path, int line)
        {
            if (string.Equals(value, "True", StringComparison.OrdinalIgnoreCase)) return true;
            if (string.Equals(value, "False", StringComparison.OrdinalIgnoreCase)) return false;
            throw new HelpFormatException(path, line, $"-{parameter}: {key} must be True or False, not '{value}'.");
        }

        /// <summary>"False", or "True (" one or more of ByValue, ByPropertyName, FromRemainingArguments ")".</summary>
        static string PipelineInput(string value, string parameter, string path, int line)
        {
            if (string.Equals(value, "False", StringComparison.OrdinalIgnoreCase))
                return "False";
            const string prefix = "True (";
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && value.EndsWith(")", StringComparison.Ordinal))
            {
                var kinds = List(value.Substring(prefix.Length, value.Length - prefix.Length - 1));
                var known = new[] { "ByValue", "ByPropertyName", "FromRemainingArguments" };
                if (kinds.Count > 0 && kinds.All(k => known.Contains(k)) && kinds.Distinct().Count() == kinds.Count)
                    return $"True ({string.Join(", ", kinds)})";
            }
            throw new HelpFormatException(path, line, $"-{parameter}: 'Accept pipeline input' must be False or True (ByValue and/or ByPropertyName), not '{value}'.");
        }

        static IEnumerable<TypeHelp> ReadTypes(Section section, string path)
        {
            var parts = Parts(section, path);
            if (parts.Count == 0)
                throw new HelpFormatException(path, section.Line, $"{section.Name} has no '### TypeName' entry (write '### None' when there is none).");
            foreach (var part in parts)
            {
                var type = new TypeHelp { Name = part.Title };
                type.Description.AddRange(Text(part.Blocks, section.Name + ": " + part.Title, part.Line, path, allowEmpty: true));
                yield return type;
            }
        }

        static void ReadLinks(Section section, CommandHelp help, string path)
        {
            if (help.OnlineVersion.Length > 0)
                help.Links.Add(new LinkHelp { Text = "Online Version:", Uri = help.OnlineVersion });
            foreach (var block in section.Blocks.SelectMany(b => b is ListBlock list ? list.Descendants<ParagraphBlock>().Cast<Block>() : new[] { b }))
            {
                if (!(block is ParagraphBlock paragraph))
                    throw new HelpFormatException(path, Line(block), "RELATED LINKS: expected one link per paragraph, '[Name](target)'.");
                var found = paragraph.Inline.Descendants<LinkInline>().Where(l => !l.IsImage).ToList();
                if (found.Count == 0)
                    help.Links.Add(new LinkHelp { Text = MarkdownText.Inline(paragraph.Inline), Uri = "" });
                foreach (var link in found)
                {
                    // Relative targets are the markdown pages; Get-Help can only use an address.
                    string text = MarkdownText.Inline(link);
                    help.Links.Add(new LinkHelp { Text = text, Uri = MarkdownText.IsAbsoluteUrl(link.Url) ? link.Url : "" });
                }
            }
        }
    }
}
