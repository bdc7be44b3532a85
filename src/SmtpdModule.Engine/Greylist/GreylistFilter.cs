using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>
    /// Which greylist entries a listing keeps. Every filter given must match; an entry without
    /// the property a filter looks at (a trap has no sender, a domain's auto-allow count no
    /// client) does not match it.
    /// </summary>
    public sealed class GreylistFilter
    {
        /// <summary>Keeps everything.</summary>
        public static readonly GreylistFilter All = new GreylistFilter(null, null, null, null, null, null);

        readonly NetworkRange _client;
        readonly PeerAddress _clientAddress;

        GreylistFilter(string client, NetworkRange range, PeerAddress address, AddressWildcard from, AddressWildcard to, IEnumerable<GreylistEntryKind> kinds)
        {
            Client = client;
            _client = range;
            _clientAddress = address;
            From = from;
            To = to;
            Kinds = kinds?.Distinct().ToArray() ?? new GreylistEntryKind[0];
        }

        /// <summary>An address or CIDR network: a triplet's client or a trapped address in it, or an auto-allowed network that overlaps it; null: any.</summary>
        public string Client { get; }
        /// <summary>The sender of a triplet; null: any.</summary>
        public AddressWildcard From { get; }
        /// <summary>The recipient of a triplet, or the greytrap of a trap; null: any.</summary>
        public AddressWildcard To { get; }
        /// <summary>The kinds kept; empty: all.</summary>
        public IReadOnlyList<GreylistEntryKind> Kinds { get; }

        /// <summary>A filter; null or empty arguments filter nothing.</summary>
        /// <returns>False, with <paramref name="error"/>, when <paramref name="client"/> is not an address or a CIDR network.</returns>
        public static bool TryCreate(string client, string from, string to, IEnumerable<GreylistEntryKind> kinds, out GreylistFilter filter, out string error)
        {
            filter = null;
            error = null;
            NetworkRange range = null;
            PeerAddress address = null;
            if (!string.IsNullOrEmpty(client))
            {
                if (!NetworkRange.TryParse(client, out range, out error)) return false;
                int slash = client.IndexOf('/');
                IPText.TryParseAddress((slash < 0 ? client : client.Substring(0, slash)).Trim(), out var ip, out _);
                address = new PeerAddress(ip);
            }
            filter = new GreylistFilter(string.IsNullOrEmpty(client) ? null : client.Trim(), range, address,
                                        string.IsNullOrEmpty(from) ? null : new AddressWildcard(from),
                                        string.IsNullOrEmpty(to) ? null : new AddressWildcard(to), kinds);
            return true;
        }

        /// <summary>The entry passes every filter given.</summary>
        public bool Matches(GreylistEntry entry)
        {
            if (entry == null) throw new ArgumentNullException(nameof(entry));
            if (Kinds.Count > 0 && !Kinds.Contains(entry.Kind)) return false;
            if (From != null && !From.IsMatch(entry.From)) return false;
            if (To != null && !To.IsMatch(entry.To)) return false;
            return _client == null || ClientMatches(entry);
        }

        bool ClientMatches(GreylistEntry entry)
        {
            if (entry.Client == null) return false;
            if (entry.Kind != GreylistEntryKind.AutoAllow)
                return IPAddress.TryParse(entry.Client, out var address) && _client.Contains(new PeerAddress(address));
            // Two CIDR networks overlap exactly when one holds the other's first address.
            if (!NetworkRange.TryParse(entry.Client, out var network, out _)) return false;
            int slash = entry.Client.IndexOf('/');
            return network.Contains(_clientAddress)
                || IPAddress.TryParse(slash < 0 ? entry.Client : entry.Client.Substring(0, slash), out var first) && _client.Contains(new PeerAddress(first));
        }

        public override string ToString() =>
            "client=" + (Client ?? "*") + " from=" + (From?.Text ?? "*") + " to=" + (To?.Text ?? "*") + " kind=" + (Kinds.Count == 0 ? "*" : string.Join(",", Kinds));
    }
}
