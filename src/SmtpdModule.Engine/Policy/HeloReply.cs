using System.Collections;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The HELO or EHLO reply's lines, written out when first read: the proxy writes them once per
    /// session, while a replay only asks whether HELO took effect and never reads them. The first
    /// line greets the client by its HELO and address; EHLO's extension lines are shared (<see cref="EhloExtensions"/>).
    /// </summary>
    internal sealed class HeloReply : IReadOnlyList<string>
    {
        readonly string _host, _helo, _client;
        // Null for HELO: one line, no extensions.
        readonly string[] _extensions;
        string[] _lines;

        public HeloReply(string host, string helo, string client, string[] extensions)
        {
            _host = host;
            _helo = helo;
            _client = client;
            _extensions = extensions;
        }

        public int Count => _extensions == null ? 1 : _extensions.Length + 1;

        public string this[int index] => Lines[index];

        // Several readers may build them at once; each builds the same lines.
        string[] Lines => _lines ?? (_lines = Build());

        string[] Build()
        {
            var first = _host + " Hello " + _helo + " [" + _client + "]";
            if (_extensions == null) return new[] { "250 " + first };
            var lines = new string[_extensions.Length + 1];
            lines[0] = "250-" + first;
            _extensions.CopyTo(lines, 1);
            return lines;
        }

        public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)Lines).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Join(" / ", Lines);
    }
}
