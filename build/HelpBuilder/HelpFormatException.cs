using System;

namespace HelpBuilder
{
    /// <summary>
    /// A page the builder cannot turn into help. Carries the place, not a sentence about it, so
    /// that Program can print the usual <c>file:line: message</c> form that editors jump to.
    /// </summary>
    sealed class HelpFormatException : Exception
    {
        public HelpFormatException(string path, int line, string message)
            : base(message)
        {
            Path = path;
            Line = line;
        }

        /// <summary>The markdown file, as given on the command line.</summary>
        public string Path { get; }

        /// <summary>1-based line of the offending block; 1 when the fault is the file as a whole.</summary>
        public int Line { get; }

        public override string ToString() => $"{Path}:{Math.Max(Line, 1)}: {Message}";
    }
}
