using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The NS and MX hosts found for a domain by the walk of reference §2.4, and their addresses.</summary>
    public sealed class NameServerSet
    {
        public NameServerSet(LookupOutcome outcome, IReadOnlyList<string> names, IReadOnlyList<IPAddress> addresses, int crops,
            string error = null, string zone = null, bool fromEnclosingZone = false)
        {
            Outcome = outcome;
            Names = names ?? new string[0];
            Addresses = addresses ?? new IPAddress[0];
            Crops = crops;
            Error = error;
            Zone = zone;
            FromEnclosingZone = fromEnclosingZone;
        }

        /// <summary>Found when some name on the walk existed; NotFound when the walk ran out; Failed when a query could not be answered.</summary>
        public LookupOutcome Outcome { get; }
        /// <summary>NS and MX targets (cleaned, case-insensitively distinct, at most 100).</summary>
        public IReadOnlyList<string> Names { get; }
        /// <summary>Their addresses (at most 500).</summary>
        public IReadOnlyList<IPAddress> Addresses { get; }
        /// <summary>How many leading labels were dropped before a name answered. Going up to the
        /// enclosing zone (<see cref="FromEnclosingZone"/>) is not a crop.</summary>
        public int Crops { get; }
        public string Error { get; }
        /// <summary>The name whose NS records are in <see cref="Names"/>: the name that answered, or the
        /// closest enclosing zone apex; null when no NS records were found.</summary>
        public string Zone { get; }
        /// <summary>True when the name that answered has no NS records of its own and the NS set is
        /// that of the enclosing zone, as the authority section gave the original (reference §2.4).</summary>
        public bool FromEnclosingZone { get; }
        public override string ToString() =>
            Outcome + " crops=" + Crops + (Zone == null ? "" : (FromEnclosingZone ? " zone=" : " apex=") + Zone)
            + " [" + string.Join(", ", Names) + "]";
    }
}
