using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>A recipient list was refused: it could not be read, or it has malformed lines. The
    /// properties name the first error; <see cref="Errors"/> holds every one found (up to
    /// <see cref="RecipientListParser.MaxErrors"/>) so an admin fixes them in one pass.</summary>
    public sealed class RecipientListException : Exception
    {
        public RecipientListException(string path, IReadOnlyList<RecipientListError> errors, Exception inner = null)
            : base(BuildMessage(path, errors), inner)
        {
            if (errors == null || errors.Count == 0) throw new ArgumentException("at least one error", nameof(errors));
            Path = path;
            Errors = errors;
            Line = errors[0].Line;
            Column = errors[0].Column;
            Reason = errors[0].Reason;
        }

        /// <summary>The list file; null for a list parsed from text.</summary>
        public string Path { get; }
        /// <summary>The first error's line, 1-based; 0 when the file could not be read.</summary>
        public int Line { get; }
        /// <summary>The first error's column, 1-based; 0 when the file could not be read.</summary>
        public int Column { get; }
        /// <summary>The first error without its place.</summary>
        public string Reason { get; }
        /// <summary>The file could not be read at all (missing, denied): not a syntax error.</summary>
        public bool IsUnreadable => Line == 0;
        public IReadOnlyList<RecipientListError> Errors { get; }

        static string BuildMessage(string path, IReadOnlyList<RecipientListError> errors)
        {
            if (errors == null || errors.Count == 0) return (path ?? "<list>") + ": the recipient list was refused.";
            var text = errors[0].Format(path);
            return errors.Count == 1 ? text : text + " (and " + (errors.Count - 1) + " more error" + (errors.Count == 2 ? "" : "s") + ")";
        }
    }
}
