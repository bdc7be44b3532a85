using System;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A spool operation failed. Carries data: the item's <see cref="Id"/> (null when the failure
    /// is not about one item), the <see cref="Reason"/>, and for unreadable envelopes the
    /// <see cref="Line"/> and <see cref="Key"/> where reading stopped. The underlying exception,
    /// if any, is the inner exception.
    /// </summary>
    public sealed class SpoolException : Exception
    {
        public SpoolException(string id, SpoolErrorReason reason, Exception innerException = null)
            : this(id, reason, 0, null, innerException)
        {
        }

        public SpoolException(string id, SpoolErrorReason reason, int line, string key, Exception innerException = null)
            : base(BuildMessage(id, reason, line, key, innerException), innerException)
        {
            Id = id;
            Reason = reason;
            Line = line;
            Key = key;
        }

        /// <summary>The spool id concerned, or null.</summary>
        public string Id { get; }

        public SpoolErrorReason Reason { get; }

        /// <summary>For <see cref="SpoolErrorReason.Corrupt"/> envelopes: the 1-based line where
        /// reading stopped; 0 when the problem is the file as a whole (a required key missing).</summary>
        public int Line { get; }

        /// <summary>For <see cref="SpoolErrorReason.Corrupt"/> envelopes: the key that was bad or
        /// missing, when one is to blame.</summary>
        public string Key { get; }

        /// <summary>A copy with <paramref name="id"/> filled in; the serializer does not know which
        /// file it reads, the reader does.</summary>
        internal SpoolException WithId(string id) =>
            Id == id ? this : new SpoolException(id, Reason, Line, Key, InnerException);

        static string BuildMessage(string id, SpoolErrorReason reason, int line, string key, Exception inner)
        {
            var text = (id ?? "spool") + ": " + reason;
            if (line > 0) text += " at envelope line " + line;
            if (key != null) text += " (" + key + ")";
            if (inner != null && !string.IsNullOrEmpty(inner.Message)) text += ": " + inner.Message;
            return text;
        }
    }
}
