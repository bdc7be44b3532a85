using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The A and AAAA addresses of a host name.</summary>
    public sealed class HostAddresses
    {
        static readonly IPAddress[] None = new IPAddress[0];

        public HostAddresses(LookupOutcome outcome, IReadOnlyList<IPAddress> addresses, string error = null)
        {
            Outcome = outcome;
            Addresses = addresses ?? None;
            Error = error;
        }

        public LookupOutcome Outcome { get; }
        public IReadOnlyList<IPAddress> Addresses { get; }
        public string Error { get; }
        public override string ToString() => Outcome + " [" + string.Join(", ", Addresses) + "]";
    }
}
