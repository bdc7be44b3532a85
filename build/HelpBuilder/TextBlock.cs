using System.Collections.Generic;

namespace HelpBuilder
{
    enum TextBlockKind { Paragraph, Code, Table, Heading }

    /// <summary>
    /// One block of help text with its markdown stripped: what both outputs (MAML paragraphs and
    /// the wrapped about_*.help.txt) are made from. List items are flattened into paragraphs
    /// with a marker and a hanging indent, so neither output has to know about lists.
    /// </summary>
    sealed class TextBlock
    {
        public TextBlockKind Kind { get; set; }

        /// <summary>Paragraph or heading text (hard line breaks as "\n"), or the code's lines.</summary>
        public string Text { get; set; } = "";

        /// <summary>Heading level, for headings only.</summary>
        public int Level { get; set; }

        /// <summary>Left indent of every line, in columns, within the enclosing section.</summary>
        public int Indent { get; set; }

        /// <summary>Printed in the indent of the first line ("- ", "2. "); empty for most blocks.</summary>
        public string Marker { get; set; } = "";

        /// <summary>
        /// An item of a tight list after its first: printed right under the one before, with no
        /// blank line between them.
        /// </summary>
        public bool Compact { get; set; }

        /// <summary>Table cells, first row the header.</summary>
        public List<string[]> Rows { get; set; }

        /// <summary>1-based source line.</summary>
        public int Line { get; set; }
    }
}
