using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>The argument checks every store makes before anything changes, so the stores refuse alike.</summary>
    internal static class StateArguments
    {
        public static void CheckKey(string key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
        }

        public static void CheckValue(string value)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
        }

        public static void CheckTtl(TimeSpan ttl, string name)
        {
            // Redis refuses PX 0 and negative times; refusing here keeps the stores alike.
            if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, ttl, "a TTL must be positive");
        }

        public static void CheckList(string prefix, int limit)
        {
            if (prefix == null) throw new ArgumentNullException(nameof(prefix));
            if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "at least one entry");
        }
    }
}
