using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The A and AAAA addresses of a host name.</summary>
    public sealed class HostAddresses
    {
        public HostAddresses(LookupOutcome outcome, IReadOnlyList<IPAddress> addresses, string error = null)
        {
            Outcome = outcome;
            Addresses = addresses ?? new IPAddress[0];
            Error = error;
        }

        public LookupOutcome Outcome { get; }
        public IReadOnlyList<IPAddress> Addresses { get; }
        public string Error { get; }
        public override string ToString() => Outcome + " [" + string.Join(", ", Addresses) + "]";
    }
}
