using System.Text;

namespace HelpBuilder
{
    /// <summary>
    /// Reads a syntax block, the text Get-Command -Syntax prints and platyPS copies:
    /// <c>Verb-Noun [[-A] &lt;T&gt;] [-B] &lt;T&gt; -C &lt;T&gt; [-D &lt;T&gt;] [-E] [&lt;CommonParameters&gt;]</c>.
    /// Square brackets around the whole item mean optional, around the name only positional.
    /// </summary>
    sealed class SyntaxLine
    {
        /// <summary>The set name PowerShell gives a cmdlet that declares none; platyPS writes it as a heading.</summary>
        public const string AllParameterSets = "__AllParameterSets";

        readonly string _text;
        readonly string _path;
        readonly int _line;
        int _at;

        SyntaxLine(string text, string path, int line)
        {
            // Line breaks inside the block are only wrapping.
            _text = text.Replace('\r', ' ').Replace('\n', ' ');
            _path = path;
            _line = line;
        }

        public static void Parse(string text, string commandName, SyntaxSet set, string path, int line)
        {
            var reader = new SyntaxLine(text, path, line);
            reader.SkipSpace();
            string name = reader.Word();
            if (name != commandName)
                throw reader.Fail($"the syntax block starts with '{name}', not with the command name '{commandName}'");
            while (reader.SkipSpace())
                reader.Item(set);
        }

        void Item(SyntaxSet set)
        {
            if (Peek('['))
            {
                _at++;
                if (Peek('['))   // [[-Name] <Type>]
                {
                    _at++;
                    string name = Name();
                    Expect(']');
                    SkipSpace();
                    string type = Type();
                    SkipSpace();
                    Expect(']');
                    Add(set, name, type, required: false, positional: true);
                }
                else if (Peek('<'))   // [<CommonParameters>]
                {
                    string common = Type();
                    if (common != "CommonParameters")
                        throw Fail($"unexpected '[<{common}>]'");
                    Expect(']');
                    set.CommonParameters = true;
                }
                else
                {
                    string name = Name();
                    SkipSpace();
                    if (Peek(']'))
                    {
                        _at++;
                        int mark = _at;
                        SkipSpace();
                        if (Peek('<'))   // [-Name] <Type>
                            Add(set, name, Type(), required: true, positional: true);
                        else             // [-Switch]
                        {
                            _at = mark;
                            Add(set, name, null, required: false, positional: false);
                        }
                    }
                    else   // [-Name <Type>]
                    {
                        string type = Type();
                        SkipSpace();
                        Expect(']');
                        Add(set, name, type, required: false, positional: false);
                    }
                }
            }
            else if (Peek('-'))
            {
                string name = Name();
                int mark = _at;
                SkipSpace();
                if (Peek('<'))   // -Name <Type>
                    Add(set, name, Type(), required: true, positional: false);
                else             // -Switch
                {
                    _at = mark;
                    Add(set, name, null, required: true, positional: false);
                }
            }
            else
                throw Fail($"expected a parameter at '{Rest()}'");
        }

        void Add(SyntaxSet set, string name, string type, bool required, bool positional)
        {
            if (set.Parameters.Exists(p => p.Name == name))
                throw Fail($"-{name} appears twice in the syntax of set '{set.Name}'");
            set.Parameters.Add(new SyntaxParameter { Name = name, Type = type, Required = required, Positional = positional });
        }

        string Name()
        {
            Expect('-');
            int start = _at;
            while (_at < _text.Length && (char.IsLetterOrDigit(_text[_at]) || _text[_at] == '_'))
                _at++;
            if (_at == start)
                throw Fail($"a parameter name is missing after '-' at '{Rest()}'");
            return _text.Substring(start, _at - start);
        }

        string Type()
        {
            Expect('<');
            int end = _text.IndexOf('>', _at);
            if (end < 0)
                throw Fail("a '<' type is not closed with '>'");
            string type = _text.Substring(_at, end - _at).Trim();
            _at = end + 1;
            return type;
        }

        string Word()
        {
            var word = new StringBuilder();
            while (_at < _text.Length && !char.IsWhiteSpace(_text[_at]))
                word.Append(_text[_at++]);
            return word.ToString();
        }

        bool Peek(char c) => _at < _text.Length && _text[_at] == c;

        void Expect(char c)
        {
            if (!Peek(c))
                throw Fail($"expected '{c}' at '{Rest()}'");
            _at++;
        }

        /// <summary>Skips blanks; false at the end of the text.</summary>
        bool SkipSpace()
        {
            while (_at < _text.Length && char.IsWhiteSpace(_text[_at]))
                _at++;
            return _at < _text.Length;
        }

        string Rest()
        {
            string rest = _text.Substring(_at);
            return rest.Length > 30 ? rest.Substring(0, 30) + "..." : rest;
        }

        HelpFormatException Fail(string message) =>
            new HelpFormatException(_path, _line, "SYNTAX: " + message + ".");
    }
}
