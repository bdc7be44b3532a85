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

        /// <summary>Parses a file's bytes (UTF-8, a BOM is fine). A file that is not valid UTF-8 is
        /// decoded again line by line, so each invalid byte is reported where it stands.</summary>
        /// <exception cref="RecipientListException">The list has errors.</exception>
        internal static RecipientList Parse(byte[] bytes, string path, DateTime? fileTimeUtc, long fileLength)
        {
            int pos = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            string text = null;
            try { text = StrictUtf8.GetString(bytes, pos, bytes.Length - pos); }
            catch (DecoderFallbackException) { }
            if (text != null) return Parse(text, path, fileTimeUtc, fileLength);

            var builder = new Builder(path);
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
        internal static RecipientList Parse(string text, string path, DateTime? fileTimeUtc = null, long fileLength = 0)
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
            return builder.Build(fileTimeUtc, fileLength);
        }

        /// <summary>The column where the first invalid sequence begins: the characters before it, plus one.</summary>
        static int BadByteColumn(byte[] bytes, int start, int end)
        {
            // Byte by byte through GetChars, which (unlike GetCharCount) keeps a partial sequence's
            // state; a lead byte whose sequence is then broken is where the error begins.
            var decoder = StrictUtf8.GetDecoder();
            var chars = new char[4];
            int sequence = start;
            for (int i = start; i < end; i++)
            {
                try
                {
                    if (decoder.GetChars(bytes, i, 1, chars, 0, flush: false) > 0) sequence = i + 1;
                }
                catch (DecoderFallbackException)
                {
                    break;
                }
            }
            return Encoding.UTF8.GetCharCount(bytes, start, sequence - start) + 1;
        }

        sealed class Builder
        {
            readonly string _path;
            readonly Dictionary<string, RecipientListDomain> _domains = new Dictionary<string, RecipientListDomain>(RecipientListAddress.Comparer);
            readonly List<RecipientListError> _errors = new List<RecipientListError>();
            readonly Dictionary<string, (string Ascii, string Error)> _seen = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
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
                var domain = Domain(domainText, out var why);
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

            // A list names few domains many times; IDNA validation is the dearest step of a line.
            string Domain(string text, out string why)
            {
                if (_seen.TryGetValue(text, out var known))
                {
                    why = known.Error;
                    return known.Ascii;
                }
                var ascii = RecipientListAddress.Domain(text, validate: true, out why);
                _seen.Add(text, (ascii, why));
                return ascii;
            }

            internal RecipientList Build(DateTime? fileTimeUtc, long fileLength)
            {
                if (_errors.Count > 0) throw new RecipientListException(_path, _errors.ToArray());
                return new RecipientList(_path, _domains, _entries, fileTimeUtc, fileLength);
            }
        }
    }
}
