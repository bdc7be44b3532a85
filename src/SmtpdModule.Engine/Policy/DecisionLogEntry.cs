using System;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>One thing <see cref="DecisionLogReader"/> found: a decision record, or a line it could not read.</summary>
    public readonly struct DecisionLogEntry
    {
        public DecisionLogEntry(long lineNumber, DecisionRecord record, FormatException error)
        {
            LineNumber = lineNumber;
            Record = record;
            Error = error;
        }

        /// <summary>The line's number in the log, from 1 (every line counts, empty ones and other events too).</summary>
        public long LineNumber { get; }

        /// <summary>The record; null when <see cref="Error"/> is set.</summary>
        public DecisionRecord Record { get; }

        /// <summary>Why the line could not be read (its message does not name the file or line); null for a record.</summary>
        public FormatException Error { get; }
    }
}
