using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace HelpBuilder
{
    /// <summary>
    /// Turns Markdig blocks into <see cref="TextBlock"/>s and inlines into plain text. Get-Help
    /// shows no markup, so code spans lose their backticks and emphasis its stars; a link keeps
    /// its text and, when it points outside the docs, its address in parentheses.
    /// </summary>
    static class MarkdownText
    {
        public static List<TextBlock> ToBlocks(IEnumerable<Block> blocks, string path)
        {
            var result = new List<TextBlock>();
            foreach (var block in blocks)
                Add(result, block, indent: 0, path);
            return result;
        }

        static void Add(List<TextBlock> result, Block block, int indent, string path)
        {
            int line = block.Line + 1;
            switch (block)
            {
                case HeadingBlock heading:
                    result.Add(new TextBlock
                    {
                        Kind = TextBlockKind.Heading, Level = heading.Level, Indent = indent,
                        Text = Inline(heading.Inline), Line = line,
                    });
                    break;
                case ParagraphBlock paragraph:
                    result.Add(new TextBlock
                    {
                        Kind = TextBlockKind.Paragraph, Indent = indent, Text = Inline(paragraph.Inline), Line = line,
                    });
                    break;
                case CodeBlock code:   // fenced and indented alike
                    result.Add(new TextBlock
                    {
                        Kind = TextBlockKind.Code, Indent = indent, Text = CodeText(code), Line = line,
                    });
                    break;
                case ListBlock list:
                    AddList(result, list, indent, path);
                    break;
                case QuoteBlock quote:
                    foreach (var child in quote)
                        Add(result, child, indent + 4, path);
                    break;
                case Table table:
                    result.Add(new TextBlock
                    {
                        Kind = TextBlockKind.Table, Indent = indent, Rows = TableRows(table), Line = line,
                    });
                    break;
                case HtmlBlock html:
                    // Comments are notes to the writer; any other HTML would show as tags in a console.
                    if (html.Type != HtmlBlockType.Comment)
                        throw new HelpFormatException(path, line, "HTML blocks are not supported in help text.");
                    break;
                case ThematicBreakBlock:
                case BlankLineBlock:
                case LinkReferenceDefinitionGroup:
                    break;
                default:
                    throw new HelpFormatException(path, line, $"Unsupported markdown block ({block.GetType().Name}).");
            }
        }

        static void AddList(List<TextBlock> result, ListBlock list, int indent, string path)
        {
            int number = 1;
            if (list.IsOrdered && int.TryParse(list.OrderedStart, out int start))
                number = start;
            bool firstItem = true;
            foreach (var item in list.OfType<ListItemBlock>())
            {
                string marker = list.IsOrdered ? $"{number++}{list.OrderedDelimiter} " : "- ";
                int inner = indent + marker.Length;
                int first = result.Count;
                foreach (var child in item)
                    Add(result, child, inner, path);
                if (result.Count > first && result[first].Kind == TextBlockKind.Paragraph)
                    result[first].Marker = marker;
                else
                    result.Insert(first, new TextBlock
                    {
                        Kind = TextBlockKind.Paragraph, Indent = inner, Marker = marker, Line = item.Line + 1,
                    });
                result[first].Compact = !list.IsLoose && !firstItem;
                firstItem = false;
            }
        }

        static List<string[]> TableRows(Table table) =>
            table.OfType<TableRow>()
                .Select(row => row.OfType<TableCell>()
                    .Select(cell => string.Join(" ", cell.OfType<ParagraphBlock>().Select(p => Inline(p.Inline))))
                    .ToArray())
                .ToList();

        public static string CodeText(CodeBlock code)
        {
            var lines = new List<string>();
            foreach (var line in code.Lines.Lines.Take(code.Lines.Count))
                lines.Add(line.Slice.ToString().TrimEnd());
            // Markdig keeps trailing blank lines of an indented block; they only add space.
            while (lines.Count > 0 && lines[^1].Length == 0)
                lines.RemoveAt(lines.Count - 1);
            return string.Join("\n", lines);
        }

        /// <summary>The plain text of a run of inlines; hard line breaks become "\n".</summary>
        public static string Inline(ContainerInline container)
        {
            var text = new StringBuilder();
            Append(text, container);
            return text.ToString().Trim();
        }

        static void Append(StringBuilder text, ContainerInline container)
        {
            if (container == null)
                return;
            foreach (var inline in container)
            {
                switch (inline)
                {
                    case LiteralInline literal:
                        text.Append(literal.Content.ToString());
                        break;
                    case CodeInline code:
                        text.Append(code.Content);
                        break;
                    case LineBreakInline lineBreak:
                        text.Append(lineBreak.IsHard ? "\n" : " ");
                        break;
                    case AutolinkInline autolink:
                        text.Append(autolink.Url);
                        break;
                    case LinkInline link:
                        int before = text.Length;
                        Append(text, link);
                        string label = text.ToString(before, text.Length - before);
                        if (IsAbsoluteUrl(link.Url) && label != link.Url)
                            text.Append(" (").Append(link.Url).Append(')');
                        break;
                    case HtmlEntityInline entity:
                        text.Append(entity.Transcoded.ToString());
                        break;
                    case HtmlInline html:
                        // `<id>` written outside a code span parses as a tag; the reader meant the text.
                        text.Append(html.Tag);
                        break;
                    case ContainerInline inner:   // emphasis and the like: keep the words
                        Append(text, inner);
                        break;
                    default:
                        text.Append(inline.ToString());
                        break;
                }
            }
        }

        public static bool IsAbsoluteUrl(string url) =>
            url != null && Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
            (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
    }
}
