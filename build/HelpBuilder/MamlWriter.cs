using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace HelpBuilder
{
    /// <summary>
    /// Writes the MAML that Get-Help reads from &lt;module&gt;.dll-Help.xml: a helpItems root with one
    /// command:command per cmdlet, holding details (name, verb, noun, synopsis), description,
    /// syntax (one syntaxItem per parameter set), parameters, inputTypes, returnValues, alertSet
    /// (NOTES), examples and relatedLinks. Each text block becomes one maml:para; Get-Help wraps
    /// paragraphs to the console itself, so only code and tables keep their line breaks.
    /// </summary>
    static class MamlWriter
    {
        const string Maml = "http://schemas.microsoft.com/maml/2004/10";
        const string Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        const string Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        // Width used for tables inside MAML paragraphs: Get-Help indents parameter text by 8.
        const int TableWidth = 70;

        public static void Write(IEnumerable<CommandHelp> commands, string file)
        {
            var settings = new XmlWriterSettings
            {
                Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false), NewLineChars = "\n",
            };
            using var stream = File.Create(file);
            using var xml = XmlWriter.Create(stream, settings);
            xml.WriteStartDocument();
            xml.WriteStartElement("helpItems", "http://msh");
            xml.WriteAttributeString("schema", "maml");
            foreach (var command in commands)
                WriteCommand(xml, command);
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }

        static void WriteCommand(XmlWriter xml, CommandHelp help)
        {
            xml.WriteStartElement("command", "command", Command);
            xml.WriteAttributeString("xmlns", "maml", null, Maml);
            xml.WriteAttributeString("xmlns", "command", null, Command);
            xml.WriteAttributeString("xmlns", "dev", null, Dev);

            int dash = help.Name.IndexOf('-');
            xml.WriteStartElement("details", Command);
            xml.WriteElementString("name", Command, help.Name);
            xml.WriteElementString("verb", Command, dash > 0 ? help.Name.Substring(0, dash) : help.Name);
            xml.WriteElementString("noun", Command, dash > 0 ? help.Name.Substring(dash + 1) : "");
            WriteDescription(xml, help.Synopsis);
            xml.WriteEndElement();

            WriteDescription(xml, help.Description);

            xml.WriteStartElement("syntax", Command);
            foreach (var set in OrderedSets(help))
            {
                xml.WriteStartElement("syntaxItem", Command);
                xml.WriteElementString("name", Maml, help.Name);
                foreach (var shown in set.Parameters)
                {
                    var parameter = help.Parameters.First(p => p.Name == shown.Name);
                    var facts = parameter.Facts.FirstOrDefault(f => f.AppliesTo(set.Name)) ?? parameter.Facts[0];
                    WriteParameter(xml, parameter, facts, inSyntax: true);
                }
                xml.WriteEndElement();
            }
            xml.WriteEndElement();

            xml.WriteStartElement("parameters", Command);
            foreach (var parameter in help.Parameters)
                WriteParameter(xml, parameter, Merged(parameter), inSyntax: false);
            xml.WriteEndElement();

            WriteTypes(xml, "inputTypes", "inputType", help.Inputs);
            WriteTypes(xml, "returnValues", "returnValue", help.Outputs);

            xml.WriteStartElement("alertSet", Maml);
            xml.WriteStartElement("alert", Maml);
            WriteParas(xml, help.Notes);
            xml.WriteEndElement();
            xml.WriteEndElement();

            xml.WriteStartElement("examples", Command);
            foreach (var example in help.Examples)
            {
                xml.WriteStartElement("example", Command);
                xml.WriteElementString("title", Maml, ExampleTitle(example.Title));
                xml.WriteElementString("code", Dev, example.Code);
                xml.WriteStartElement("remarks", Dev);
                WriteParas(xml, example.Remarks);
                // Get-Help prints the next title right under the last remark otherwise.
                xml.WriteElementString("para", Maml, "");
                xml.WriteEndElement();
                xml.WriteEndElement();
            }
            xml.WriteEndElement();

            xml.WriteStartElement("relatedLinks", Maml);
            foreach (var link in help.Links)
            {
                xml.WriteStartElement("navigationLink", Maml);
                xml.WriteElementString("linkText", Maml, link.Text);
                xml.WriteElementString("uri", Maml, link.Uri);
                xml.WriteEndElement();
            }
            xml.WriteEndElement();

            xml.WriteEndElement();
        }

        /// <summary>The default set first, as Get-Command -Syntax lists it; the rest in page order.</summary>
        static IEnumerable<SyntaxSet> OrderedSets(CommandHelp help) =>
            help.Syntax.Where(s => s.IsDefault).Concat(help.Syntax.Where(s => !s.IsDefault));

        /// <summary>
        /// The PARAMETERS entry of a parameter with several yaml blocks: required or positional if
        /// it is so in any set, as Get-Help has one entry per parameter.
        /// </summary>
        static ParameterFacts Merged(ParameterHelp parameter)
        {
            var first = parameter.Facts[0];
            if (parameter.Facts.Count == 1)
                return first;
            var merged = new ParameterFacts
            {
                Type = first.Type, DefaultValue = first.DefaultValue, PipelineInput = first.PipelineInput,
                Globbing = first.Globbing, Required = parameter.Facts.Any(f => f.Required),
                Position = parameter.Facts.Select(f => f.Position).FirstOrDefault(p => p != "Named") ?? "Named",
            };
            merged.Aliases.AddRange(first.Aliases);
            merged.AcceptedValues.AddRange(first.AcceptedValues);
            merged.Sets.AddRange(parameter.Facts.SelectMany(f => f.Sets).Distinct());
            return merged;
        }

        static void WriteParameter(XmlWriter xml, ParameterHelp parameter, ParameterFacts facts, bool inSyntax)
        {
            bool isSwitch = facts.Type == "SwitchParameter";
            bool isArray = facts.Type.EndsWith("[]", StringComparison.Ordinal);
            xml.WriteStartElement("parameter", Command);
            xml.WriteAttributeString("required", facts.Required ? "true" : "false");
            xml.WriteAttributeString("variableLength", isArray ? "true" : "false");
            xml.WriteAttributeString("globbing", facts.Globbing ? "true" : "false");
            xml.WriteAttributeString("pipelineInput", facts.PipelineInput);
            xml.WriteAttributeString("position", facts.Position);
            xml.WriteAttributeString("aliases", facts.Aliases.Count > 0 ? string.Join(", ", facts.Aliases) : "none");
            xml.WriteElementString("name", Maml, parameter.Name);
            WriteDescription(xml, parameter.Description);
            if (inSyntax && facts.AcceptedValues.Count > 0)
            {
                // Get-Help shows these as {Allow | Deny} in the syntax.
                xml.WriteStartElement("parameterValueGroup", Command);
                foreach (string value in facts.AcceptedValues)
                    WriteParameterValue(xml, value, required: false);
                xml.WriteEndElement();
            }
            // A switch takes no value, so the syntax shows none (-Wait, not -Wait <SwitchParameter>).
            if (!(inSyntax && isSwitch))
                WriteParameterValue(xml, facts.Type, required: !isSwitch);
            xml.WriteStartElement("type", Dev);
            xml.WriteElementString("name", Maml, facts.Type);
            xml.WriteElementString("uri", Maml, "");
            xml.WriteEndElement();
            xml.WriteElementString("defaultValue", Dev, facts.DefaultValue);
            xml.WriteEndElement();
        }

        static void WriteParameterValue(XmlWriter xml, string value, bool required)
        {
            xml.WriteStartElement("parameterValue", Command);
            xml.WriteAttributeString("required", required ? "true" : "false");
            xml.WriteAttributeString("variableLength", "false");
            xml.WriteString(value);
            xml.WriteEndElement();
        }

        static void WriteTypes(XmlWriter xml, string list, string item, List<TypeHelp> types)
        {
            xml.WriteStartElement(list, Command);
            foreach (var type in types)
            {
                xml.WriteStartElement(item, Command);
                xml.WriteStartElement("type", Dev);
                xml.WriteElementString("name", Maml, type.Name);
                xml.WriteEndElement();
                WriteDescription(xml, type.Description);
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
        }

        static void WriteDescription(XmlWriter xml, List<TextBlock> blocks)
        {
            xml.WriteStartElement("description", Maml);
            WriteParas(xml, blocks);
            xml.WriteEndElement();
        }

        static void WriteParas(XmlWriter xml, List<TextBlock> blocks)
        {
            // The items of a tight list share one paragraph, a line each, so that Get-Help
            // does not put a blank line between them.
            var paras = new List<string>();
            foreach (var block in blocks)
            {
                if (block.Compact && paras.Count > 0)
                    paras[^1] += "\n" + ParaText(block);
                else
                    paras.Add(ParaText(block));
            }
            foreach (string para in paras)
                xml.WriteElementString("para", Maml, para);
        }

        static string ParaText(TextBlock block)
        {
            string indent = new string(' ', Math.Max(0, block.Indent - block.Marker.Length));
            switch (block.Kind)
            {
                case TextBlockKind.Code:
                    // Indented like a code sample in an about topic, so it stands out from prose.
                    string pad = new string(' ', block.Indent + 4);
                    return string.Join("\n", block.Text.Split('\n').Select(l => l.Length == 0 ? "" : pad + l));
                case TextBlockKind.Table:
                    return string.Join("\n", TextLayout.Table(block.Rows, TableWidth - block.Indent)
                        .Select(l => new string(' ', block.Indent) + l));
                default:
                    return indent + block.Marker + block.Text;
            }
        }

        /// <summary>Get-Help prints the title as is; the dashes set examples apart, as in PowerShell's own help.</summary>
        static string ExampleTitle(string title)
        {
            int pad = Math.Max(2, (78 - title.Length - 2) / 2);
            string dashes = new string('-', pad);
            return $"{dashes} {title} {dashes}";
        }
    }
}
