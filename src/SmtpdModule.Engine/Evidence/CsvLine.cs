using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Splits one CSV row (RFC 4180 quoting: a quoted field may hold commas, and "" stands for one
    /// quote). Exchange writes each event on one line, so a quote still open at the end of the line
    /// means the row was cut short.
    /// </summary>
    internal static class CsvLine
    {
        /// <summary>The row's fields; false when a quoted field is not closed, or text follows a closing quote.</summary>
        public static bool TrySplit(string line, List<string> fields)
        {
            fields.Clear();
            var field = new StringBuilder();
            int i = 0;
            while (true)
            {
                field.Clear();
                if (i < line.Length && line[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= line.Length) return false;
                        char c = line[i++];
                        if (c != '"') { field.Append(c); continue; }
                        if (i < line.Length && line[i] == '"') { field.Append('"'); i++; continue; }
                        break;
                    }
                    if (i < line.Length && line[i] != ',') return false;
                }
                else
                {
                    int comma = line.IndexOf(',', i);
                    int end = comma < 0 ? line.Length : comma;
                    field.Append(line, i, end - i);
                    i = end;
                }
                fields.Add(field.ToString());
                if (i >= line.Length) return true;
                i++;   // the comma
            }
        }
    }
}
