using System;
using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Compiles the text of a recipient list (the format is described on
    /// <see cref="RecipientListSource"/>). The whole file is checked: every malformed line is an error
    /// with its line and column, and one error refuses the file, since a half-loaded list would
    /// refuse real users.
    /// </summary>
    internal static class RecipientListParser
    {
        /// <summary>Errors reported at most: past this the file is plainly not a recipient list.</summary>
        internal const int MaxErrors = 100;

        static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

        /// <summary>Parses a file's bytes (UTF-8, a BOM is fine), decoding line by line so an invalid
        /// byte is reported where it stands.</summary>
        /// <exception cref="RecipientListException">The list has errors.</exception>
        internal static RecipientList Parse(byte[] bytes, string path, DateTime? fileTimeUtc, long fileLength)
        {
            var builder = new Builder(path);
            int pos = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            int lineNumber = 0;
            while (pos < bytes.Length && !builder.Full)
            {
                int nl = Array.IndexOf(bytes, (byte)'\n', pos);
                int end = nl < 0 ? bytes.Length : nl;
                lineNumber++;
                string line;
                try { line = StrictUtf8.GetString(bytes, pos, end - pos); }
                catch (DecoderFallbackException)
                {
                    builder.Error(lineNumber, BadByteColumn(bytes, pos, end), "the line is not valid UTF-8");
                    line = null;
                }
                if (line != null) builder.Line(lineNumber, line);
                pos = nl < 0 ? bytes.Length : nl + 1;
            }
            return builder.Build(fileTimeUtc, fileLength);
        }

        /// <summary>Parses text already decoded.</summary>
        /// <exception cref="RecipientListException">The list has errors.</exception>
        internal static RecipientList Parse(string text, string path)
        {
            var builder = new Builder(path);
            int pos = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0, lineNumber = 0;
            while (pos < text.Length && !builder.Full)
            {
                int nl = text.IndexOf('\n', pos);
                int end = nl < 0 ? text.Length : nl;
                builder.Line(++lineNumber, text.Substring(pos, end - pos));
                pos = nl < 0 ? text.Length : nl + 1;
            }
            return builder.Build(null, 0);
        }

        /// <summary>The column of the first byte the strict decoder refuses: the characters before it, plus one.</summary>
        static int BadByteColumn(byte[] bytes, int start, int end)
        {
            var decoder = StrictUtf8.GetDecoder();
            for (int i = start; i < end; i++)
            {
                try { decoder.GetCharCount(bytes, i, 1, flush: false); }
                catch (DecoderFallbackException)
                {
                    return Encoding.UTF8.GetCharCount(bytes, start, i - start) + 1;
                }
            }
            return Encoding.UTF8.GetCharCount(bytes, start, end - start) + 1;   // truncated at the line's end
        }

        sealed class Builder
        {
            readonly string _path;
            readonly Dictionary<string, RecipientListDomain> _domains = new Dictionary<string, RecipientListDomain>(RecipientListAddress.Comparer);
            readonly List<RecipientListError> _errors = new List<RecipientListError>();
            int _entries;

            internal Builder(string path) => _path = path;

            internal bool Full => _errors.Count >= MaxErrors;

            internal void Error(int line, int column, string reason) => _errors.Add(new RecipientListError(line, column, reason));

            internal void Line(int number, string line)
            {
                int end = line.Length;
                while (end > 0 && char.IsWhiteSpace(line[end - 1])) end--;   // CR of CRLF included
                int start = 0;
                while (start < end && char.IsWhiteSpace(line[start])) start++;
                if (start == end || line[start] == '#') return;   // blank or comment (indented ones too)

                for (int i = start; i < end; i++)
                {
                    if (char.IsWhiteSpace(line[i]))
                    {
                        Error(number, i + 1, "white space inside an entry (a '#' comment takes a line of its own)");
                        return;
                    }
                    if (char.IsControl(line[i]))
                    {
                        Error(number, i + 1, "a control character inside an entry");
                        return;
                    }
                }

                bool negative = line[start] == '!';
                int body = negative ? start + 1 : start;
                if (body == end)
                {
                    Error(number, body + 1, "an address must follow '!'");
                    return;
                }
                // The last '@': a quoted local part may hold one, a domain never does.
                int at = line.LastIndexOf('@', end - 1, end - body);
                if (at < 0)
                {
                    Error(number, body + 1, "expected local@domain, @domain or *@domain");
                    return;
                }
                if (at + 1 == end)
                {
                    Error(number, at + 2, "the domain is missing after '@'");
                    return;
                }
                for (int i = at + 1; i < end; i++)
                {
                    if (line[i] == '*' || line[i] == '?')
                    {
                        Error(number, i + 1, "wildcards are allowed only in the local part");
                        return;
                    }
                }
                if (line[at + 1] == '[')
                {
                    Error(number, at + 2, "address literals are not supported; list a domain name");
                    return;
                }
                var domainText = line.Substring(at + 1, end - at - 1);
                var domain = RecipientListAddress.Domain(domainText, validate: true, out var why);
                if (domain == null)
                {
                    Error(number, at + 2, "'" + domainText + "' is not a valid domain name (" + why + ")");
                    return;
                }

                var local = RecipientListAddress.Local(line.Substring(body, at - body));
                bool wildcard = local.Length == 0 || local.IndexOf('*') >= 0 || local.IndexOf('?') >= 0;
                var entry = new RecipientListEntry(number, line.Substring(start, end - start), negative, local.Length == 0 ? "*" : local, wildcard);
                if (!_domains.TryGetValue(domain, out var table)) _domains.Add(domain, table = new RecipientListDomain());
                table.Add(entry);
                _entries++;
            }

            internal RecipientList Build(DateTime? fileTimeUtc, long fileLength)
            {
                if (_errors.Count > 0) throw new RecipientListException(_path, _errors.ToArray());
                return new RecipientList(_path, _domains, _entries, fileTimeUtc, fileLength);
            }
        }
    }
}
