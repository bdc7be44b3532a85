using System;
using System.Globalization;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// What a <c>grey</c> line saw and decided for one recipient, with the keys it read, so the proxy
    /// can write what follows (a first try, a pass, a trap) and a listing can show it.
    /// </summary>
    /// <remarks>A triplet's value is six lines: the format version, the first try (Unix seconds), the
    /// pass (Unix seconds, or '-'), the client address, the sender and the recipient; addresses hold no
    /// line breaks, so the text needs no escaping.</remarks>
    public sealed class GreylistCheck
    {
        internal GreylistCheck(int line, GreylistState state, string identity, string tripletKey, string allowKey, string trapKey,
                               DateTimeOffset? firstSeen, bool trapHit, DateTimeOffset time, string client, string from, string to)
        {
            Line = line;
            State = state;
            Identity = identity;
            TripletKey = tripletKey;
            AllowKey = allowKey;
            TrapKey = trapKey;
            FirstSeen = firstSeen;
            TrapHit = trapHit;
            Time = time;
            Client = client;
            From = from;
            To = to;
        }

        /// <summary>The grey line.</summary>
        public int Line { get; }
        public GreylistState State { get; }
        /// <summary>Who the triplet keys on: <c>n:192.0.2.0/24</c> (the client's network) or <c>d:example.org</c> (the sender's SPF-passing domain).</summary>
        public string Identity { get; }
        public string TripletKey { get; }
        public string AllowKey { get; }
        public string TrapKey { get; }
        /// <summary>When the triplet was first tried; null on a first try.</summary>
        public DateTimeOffset? FirstSeen { get; }
        /// <summary>The recipient is a greytrap and the line refused: the client's address is to be trapped.</summary>
        public bool TrapHit { get; }
        /// <summary>When the check ran.</summary>
        public DateTimeOffset Time { get; }
        public string Client { get; }
        public string From { get; }
        public string To { get; }

        /// <summary>The state store prefix of every greylist key.</summary>
        public const string KeyPrefix = "grey:";

        /// <summary>The triplet's value after a first try (<paramref name="passed"/> null) or a pass.</summary>
        public string TripletValue(DateTimeOffset first, DateTimeOffset? passed) =>
            "1\n" + Unix(first) + "\n" + (passed == null ? "-" : Unix(passed.Value)) + "\n" + Client + "\n" + From + "\n" + To;

        /// <summary>Reads a triplet's value: false when it is not one.</summary>
        public static bool TryParseTriplet(string value, out DateTimeOffset first, out DateTimeOffset? passed, out string client, out string from, out string to)
        {
            first = default; passed = null; client = from = to = null;
            var parts = value?.Split('\n');
            if (parts == null || parts.Length != 6 || parts[0] != "1") return false;
            if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var f)) return false;
            first = DateTimeOffset.FromUnixTimeSeconds(f);
            if (parts[2] != "-")
            {
                if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var p)) return false;
                passed = DateTimeOffset.FromUnixTimeSeconds(p);
            }
            client = parts[3]; from = parts[4]; to = parts[5];
            return true;
        }

        static string Unix(DateTimeOffset t) => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        public override string ToString() =>
            "grey line " + Line + ": " + State + " (" + Identity + (FirstSeen == null ? "" : ", first tried " + FirstSeen.Value.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)) + ")"
            + (TrapHit ? ", greytrap " + To : "");
    }
}
