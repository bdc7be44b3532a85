using System;
using System.Collections;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The results of a session's checks by name ("reverse", "spf", "grey", ...): a handful of
    /// entries, so a short list searched in order (names compared without case), kept in the order
    /// they were first set, as a dictionary without removals keeps them. Nothing is made until the
    /// first result. Not thread-safe: one command at a time.
    /// </summary>
    internal sealed class SessionResults : IDictionary<string, string>
    {
        List<KeyValuePair<string, string>> _entries;

        int IndexOf(string key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            if (_entries == null) return -1;
            for (int i = 0; i < _entries.Count; i++)
                if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase)) return i;
            return -1;
        }

        public string this[string key]
        {
            get
            {
                int i = IndexOf(key);
                if (i < 0) throw new KeyNotFoundException("No result '" + key + "'.");
                return _entries[i].Value;
            }
            set
            {
                int i = IndexOf(key);
                // A result set again keeps its place and its first spelling, as a dictionary's entry does.
                if (i >= 0) _entries[i] = new KeyValuePair<string, string>(_entries[i].Key, value);
                else (_entries ?? (_entries = new List<KeyValuePair<string, string>>(4))).Add(new KeyValuePair<string, string>(key, value));
            }
        }

        public int Count => _entries?.Count ?? 0;
        public bool IsReadOnly => false;

        public ICollection<string> Keys
        {
            get
            {
                var keys = new List<string>(Count);
                foreach (var e in this) keys.Add(e.Key);
                return keys;
            }
        }

        public ICollection<string> Values
        {
            get
            {
                var values = new List<string>(Count);
                foreach (var e in this) values.Add(e.Value);
                return values;
            }
        }

        public void Add(string key, string value)
        {
            if (IndexOf(key) >= 0) throw new ArgumentException("A result '" + key + "' is already there.", nameof(key));
            this[key] = value;
        }

        public void Add(KeyValuePair<string, string> item) => Add(item.Key, item.Value);

        public bool ContainsKey(string key) => IndexOf(key) >= 0;

        public bool TryGetValue(string key, out string value)
        {
            int i = IndexOf(key);
            value = i >= 0 ? _entries[i].Value : null;
            return i >= 0;
        }

        public bool Remove(string key)
        {
            int i = IndexOf(key);
            if (i < 0) return false;
            _entries.RemoveAt(i);
            return true;
        }

        public bool Remove(KeyValuePair<string, string> item) =>
            TryGetValue(item.Key, out var v) && string.Equals(v, item.Value, StringComparison.Ordinal) && Remove(item.Key);

        public bool Contains(KeyValuePair<string, string> item) =>
            TryGetValue(item.Key, out var v) && string.Equals(v, item.Value, StringComparison.Ordinal);

        public void Clear() => _entries?.Clear();

        public void CopyTo(KeyValuePair<string, string>[] array, int arrayIndex) => _entries?.CopyTo(array, arrayIndex);

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() =>
            ((IEnumerable<KeyValuePair<string, string>>)_entries ?? Array.Empty<KeyValuePair<string, string>>()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
