using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace HelpBuilder
{
    /// <summary>Word wrapping and plain-text tables for console help.</summary>
    static class TextLayout
    {
        /// <summary>
        /// Breaks text into lines of at most <paramref name="width"/> columns at spaces; "\n" forces
        /// a break. A word longer than the width (a path, a long command) gets a line of its own.
        /// </summary>
        public static List<string> Wrap(string text, int width)
        {
            width = Math.Max(width, 20);
            var lines = new List<string>();
            foreach (string hard in text.Split('\n'))
            {
                var line = new StringBuilder();
                foreach (string word in hard.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line.Length > 0 && line.Length + 1 + word.Length > width)
                    {
                        lines.Add(line.ToString());
                        line.Clear();
                    }
                    if (line.Length > 0)
                        line.Append(' ');
                    line.Append(word);
                }
                lines.Add(line.ToString());
            }
            return lines;
        }

        /// <summary>
        /// A table as aligned columns under a dashed rule, at most <paramref name="width"/> wide:
        /// columns that do not fit are narrowed, widest first, and their cells wrapped.
        /// </summary>
        public static List<string> Table(List<string[]> rows, int width)
        {
            const string gap = "  ";
            int columns = rows.Max(r => r.Length);
            var cells = rows.Select(r => Enumerable.Range(0, columns).Select(i => i < r.Length ? r[i] : "").ToArray()).ToList();
            var widths = Enumerable.Range(0, columns).Select(i => cells.Max(r => r[i].Length)).ToArray();
            int available = width - gap.Length * (columns - 1);
            while (widths.Sum() > available)
            {
                int widest = Array.IndexOf(widths, widths.Max());
                if (widths[widest] <= 12)
                    break;   // too many columns to fit: let the lines run long rather than wrap every word
                widths[widest]--;
            }

            var lines = new List<string>();
            for (int r = 0; r < cells.Count; r++)
            {
                var wrapped = Enumerable.Range(0, columns).Select(i => Wrap(cells[r][i], widths[i])).ToArray();
                int height = wrapped.Max(w => w.Count);
                for (int l = 0; l < height; l++)
                {
                    var line = new StringBuilder();
                    for (int i = 0; i < columns; i++)
                    {
                        string part = l < wrapped[i].Count ? wrapped[i][l] : "";
                        line.Append(i < columns - 1 ? part.PadRight(widths[i]) + gap : part);
                    }
                    lines.Add(line.ToString().TrimEnd());
                }
                if (r == 0)
                    lines.Add(string.Join(gap, widths.Select(w => new string('-', w))));
            }
            return lines;
        }
    }
}
