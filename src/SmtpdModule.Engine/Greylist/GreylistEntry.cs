using System;
using System.Globalization;
using System.Net;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>
    /// One greylisting key of a state store as an administrator reads it: a triplet, a client's
    /// auto-allow count, or a trapped client address, with what its value says.
    /// </summary>
    /// <remarks>A triplet's key is a hash, so its identity (the client's network or the sender's
    /// SPF domain) is found by hashing the likely candidates again: the sender's domain, then the
    /// network of the recorded client at the reader's prefix lengths. When neither gives the key
    /// (SPF checked the HELO name of a null sender, or the prefix lengths changed), it stays null.</remarks>
    public sealed class GreylistEntry
    {
        GreylistEntry(GreylistEntryKind kind, string key, GreylistEntryState state, DateTimeOffset? expires)
        {
            Kind = kind;
            Key = key;
            State = state;
            Expires = expires;
        }

        public GreylistEntryKind Kind { get; }
        /// <summary>The state store key: what Remove-SmtpdGreylistEntry removes.</summary>
        public string Key { get; }
        public GreylistEntryState State { get; }
        /// <summary>A triplet's last client address, a trapped address, or the network of an auto-allowed client
        /// (<c>192.0.2.0/24</c>); null for a client known by its SPF domain.</summary>
        public string Client { get; private set; }
        /// <summary>Who the entry keys on: <c>n:192.0.2.0/24</c> or <c>d:example.org</c>; null for a trap, or a triplet whose identity is not found.</summary>
        public string Identity { get; private set; }
        /// <summary>A triplet's sender (empty for the null sender); null for the other kinds.</summary>
        public string From { get; private set; }
        /// <summary>A triplet's recipient, or the greytrap a trapped client wrote to.</summary>
        public string To { get; private set; }
        /// <summary>A triplet's first try, or when a client was trapped.</summary>
        public DateTimeOffset? FirstSeen { get; private set; }
        /// <summary>When a triplet's retry passed (or was last used after it); null while it waits.</summary>
        public DateTimeOffset? Passed { get; private set; }
        /// <summary>An auto-allow entry's count of proven retries; null for the other kinds.</summary>
        public long? Count { get; private set; }
        /// <summary>When the store forgets the entry; null when it does not expire.</summary>
        public DateTimeOffset? Expires { get; }

        /// <summary>The stored value, as read: sent over the control channel and parsed again there.</summary>
        internal string Value { get; private set; }

        /// <summary>Reads one state store entry; false when the key is not greylisting's or its value is not what greylisting writes.
        /// <paramref name="options"/>: the prefix lengths a triplet's identity is looked for with, and the auto-allow threshold.</summary>
        internal static bool TryParse(string key, string value, DateTimeOffset? expires, GreylistOptions options, out GreylistEntry entry)
        {
            entry = null;
            if (key == null || value == null || !key.StartsWith(GreylistCheck.KeyPrefix, StringComparison.Ordinal)) return false;
            var rest = key.Substring(GreylistCheck.KeyPrefix.Length);
            if (rest.StartsWith("t:", StringComparison.Ordinal)) entry = Triplet(key, value, expires, options);
            else if (rest.StartsWith("a:", StringComparison.Ordinal)) entry = AutoAllow(key, rest.Substring(2), value, expires, options);
            else if (rest.StartsWith("trap:", StringComparison.Ordinal)) entry = Trap(key, rest.Substring(5), value, expires);
            if (entry != null) entry.Value = value;
            return entry != null;
        }

        static GreylistEntry Triplet(string key, string value, DateTimeOffset? expires, GreylistOptions options)
        {
            DateTimeOffset first; DateTimeOffset? passed; string client, from, to;
            // A time past year 9999 is not something the proxy wrote.
            try { if (!GreylistCheck.TryParseTriplet(value, out first, out passed, out client, out from, out to)) return null; }
            catch (ArgumentOutOfRangeException) { return null; }
            return new GreylistEntry(GreylistEntryKind.Triplet, key, passed == null ? GreylistEntryState.Waiting : GreylistEntryState.Passed, expires)
            {
                Client = client, From = from, To = to, FirstSeen = first, Passed = passed,
                Identity = TripletIdentity(key, client, from, to, options),
            };
        }

        static string TripletIdentity(string key, string client, string from, string to, GreylistOptions options)
        {
            int at = from.LastIndexOf('@');
            if (at >= 0 && at < from.Length - 1)
            {
                var domain = "d:" + from.Substring(at + 1).ToLowerInvariant();
                if (GreylistKeys.Triplet(domain, from, to) == key) return domain;
            }
            if (IPAddress.TryParse(client, out var address))
            {
                var network = "n:" + GreylistKeys.Network(new PeerAddress(address), options);
                if (GreylistKeys.Triplet(network, from, to) == key) return network;
            }
            return null;
        }

        static GreylistEntry AutoAllow(string key, string identity, string value, DateTimeOffset? expires, GreylistOptions options)
        {
            if (!StateInteger.TryParse(value, out var count)) return null;
            bool network = identity.StartsWith("n:", StringComparison.Ordinal);
            if (!network && !identity.StartsWith("d:", StringComparison.Ordinal)) return null;
            var state = options.AutoAllowAfter > 0 && count >= options.AutoAllowAfter ? GreylistEntryState.AutoAllowed : GreylistEntryState.Counting;
            return new GreylistEntry(GreylistEntryKind.AutoAllow, key, state, expires)
            {
                Identity = identity, Count = count, Client = network ? identity.Substring(2) : null,
            };
        }

        static GreylistEntry Trap(string key, string address, string value, DateTimeOffset? expires)
        {
            int nl = value.IndexOf('\n');
            if (nl < 0 || !long.TryParse(value.Substring(0, nl), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
                return null;
            return new GreylistEntry(GreylistEntryKind.Trap, key, GreylistEntryState.Trapped, expires)
            {
                Client = address, To = value.Substring(nl + 1), FirstSeen = DateTimeOffset.FromUnixTimeSeconds(seconds),
            };
        }

        public override string ToString() =>
            Kind + " " + State + " " + (Client ?? Identity) + (From == null ? "" : " <" + From + ">") + (To == null ? "" : " <" + To + ">");
    }
}
