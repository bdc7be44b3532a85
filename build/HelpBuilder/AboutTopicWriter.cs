using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Markdig.Syntax;

namespace HelpBuilder
{
    /// <summary>
    /// Turns an about_*.md page into the about_*.help.txt that Get-Help about_Name prints: plain
    /// text at most 80 columns wide, section headings in capitals at the margin, text indented
    /// by four, subsection headings in capitals at four, code indented by eight.
    /// <para>
    /// Both about layouts platyPS knows are read: the older one ("# about_X", "## about_X",
    /// "# SHORT DESCRIPTION", "## subsection") and the newer one ("# about_X", "## Short
    /// description", "### subsection"). The shallowest heading level after the title is taken
    /// as the section level.
    /// </para>
    /// </summary>
    static class AboutTopicWriter
    {
        const int Width = 80;
        const int TextIndent = 4;

        public static void Write(MarkdownDocument document, string path, string topic, string file)
        {
            var blocks = MarkdownText.ToBlocks(document, path);
            if (blocks.Count == 0 || blocks[0].Kind != TextBlockKind.Heading || blocks[0].Level != 1 || blocks[0].Text != topic)
                throw new HelpFormatException(path, blocks.Count > 0 ? blocks[0].Line : 1, $"an about topic starts with '# {topic}'.");
            blocks.RemoveAt(0);
            // The older layout repeats the name as "## about_X" under the title.
            if (blocks.Count > 0 && blocks[0].Kind == TextBlockKind.Heading && blocks[0].Text == topic)
                blocks.RemoveAt(0);

            var headings = blocks.Where(b => b.Kind == TextBlockKind.Heading).ToList();
            if (headings.Count == 0)
                throw new HelpFormatException(path, 1, "an about topic needs at least a 'Short description' and a 'Long description' heading.");
            int sectionLevel = headings.Min(h => h.Level);
            if (!headings.Any(h => h.Level == sectionLevel && string.Equals(h.Text, "Short description", StringComparison.OrdinalIgnoreCase)))
                throw new HelpFormatException(path, headings[0].Line, "an about topic needs a 'Short description' section.");
            if (blocks[0].Kind != TextBlockKind.Heading)
                throw new HelpFormatException(path, blocks[0].Line, "text before the first section heading.");

            var text = new List<string> { "TOPIC", Indent(TextIndent) + topic };
            TextBlock previous = null;
            foreach (var block in blocks)
            {
                // A heading is followed by its text without a blank line, as in PowerShell's own topics.
                if (!block.Compact && (previous == null || previous.Kind != TextBlockKind.Heading || block.Kind == TextBlockKind.Heading))
                    text.Add("");
                previous = block;
                switch (block.Kind)
                {
                    case TextBlockKind.Heading:
                        int at = block.Level == sectionLevel ? 0 : TextIndent;
                        text.Add(Indent(at) + block.Text.ToUpperInvariant());
                        break;
                    case TextBlockKind.Paragraph:
                        text.AddRange(Paragraph(block));
                        break;
                    case TextBlockKind.Code:
                        int pad = TextIndent + block.Indent + 4;
                        text.AddRange(block.Text.Split('\n').Select(l => l.Length == 0 ? "" : Indent(pad) + l));
                        break;
                    case TextBlockKind.Table:
                        int left = TextIndent + block.Indent;
                        text.AddRange(TextLayout.Table(block.Rows, Width - left).Select(l => Indent(left) + l));
                        break;
                }
            }

            var output = new StringBuilder();
            foreach (string line in text)
                output.Append(line.TrimEnd()).Append('\n');
            File.WriteAllText(file, output.ToString(), new UTF8Encoding(false));
        }

        static IEnumerable<string> Paragraph(TextBlock block)
        {
            int left = TextIndent + block.Indent;
            var lines = TextLayout.Wrap(block.Text, Width - left);
            for (int i = 0; i < lines.Count; i++)
                yield return i == 0 && block.Marker.Length > 0
                    ? Indent(left - block.Marker.Length) + block.Marker + lines[i]
                    : Indent(left) + lines[i];
        }

        static string Indent(int n) => new string(' ', Math.Max(0, n));
    }
}
