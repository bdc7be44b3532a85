using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.State
{
    // What the journal can hold: keys and values within their byte limits, as text that encodes.
    public sealed partial class FileStateStore
    {
        static void CheckEntry(string key, string value)
        {
            StateArguments.CheckKey(key);
            StateArguments.CheckValue(value);
            CheckSize(key, MaxKeyBytes, nameof(key));
            CheckSize(value, MaxValueBytes, nameof(value));
        }

        static void CheckSize(string text, int max, string name)
        {
            // Each UTF-16 unit is at most 3 UTF-8 bytes: most strings need no count at all.
            if (text.Length * 3 <= max && !HasSurrogate(text)) return;
            int bytes;
            try { bytes = StateJournalFormat.Utf8.GetByteCount(text); }
            catch (ArgumentException) { throw new ArgumentException("the " + name + " has no UTF-8 form (a lone surrogate)", name); }
            if (bytes > max) throw new ArgumentException("the " + name + " is " + bytes + " bytes of UTF-8; the file state store takes at most " + max, name);
        }

        static bool HasSurrogate(string text)
        {
            foreach (var c in text)
                if (char.IsSurrogate(c)) return true;
            return false;
        }
    }
}
