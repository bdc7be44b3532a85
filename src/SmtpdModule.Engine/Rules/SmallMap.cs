using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A map for the few entries a session keeps (a handful of facts): searched in order while small,
    /// so a lookup compares a key or two instead of hashing it, and nothing is made until the first
    /// entry; past <see cref="SmallLimit"/> entries, a dictionary. Not thread-safe.
    /// </summary>
    internal sealed class SmallMap<TKey, TValue> where TKey : IEquatable<TKey>
    {
        const int SmallLimit = 8;
        TKey[] _keys;
        TValue[] _values;
        int _count;
        Dictionary<TKey, TValue> _many;

        public int Count => _many?.Count ?? _count;

        public bool TryGetValue(TKey key, out TValue value)
        {
            if (_many != null) return _many.TryGetValue(key, out value);
            for (int i = 0; i < _count; i++)
                if (_keys[i].Equals(key)) { value = _values[i]; return true; }
            value = default;
            return false;
        }

        public void Set(TKey key, TValue value)
        {
            if (_many != null) { _many[key] = value; return; }
            for (int i = 0; i < _count; i++)
                if (_keys[i].Equals(key)) { _values[i] = value; return; }
            if (_count == SmallLimit)
            {
                _many = new Dictionary<TKey, TValue>(SmallLimit * 2);
                for (int i = 0; i < _count; i++) _many[_keys[i]] = _values[i];
                _many[key] = value;
                _keys = null;
                _values = null;
                _count = 0;
                return;
            }
            if (_keys == null || _count == _keys.Length)
            {
                var size = _keys == null ? 4 : SmallLimit;
                Array.Resize(ref _keys, size);
                Array.Resize(ref _values, size);
            }
            _keys[_count] = key;
            _values[_count] = value;
            _count++;
        }

        public void Remove(TKey key)
        {
            if (_many != null) { _many.Remove(key); return; }
            for (int i = 0; i < _count; i++)
            {
                if (!_keys[i].Equals(key)) continue;
                _count--;
                Array.Copy(_keys, i + 1, _keys, i, _count - i);
                Array.Copy(_values, i + 1, _values, i, _count - i);
                _keys[_count] = default;
                _values[_count] = default;
                return;
            }
        }

        public void Clear()
        {
            _many = null;
            if (_keys != null)
            {
                Array.Clear(_keys, 0, _count);
                Array.Clear(_values, 0, _count);
            }
            _count = 0;
        }
    }
}
