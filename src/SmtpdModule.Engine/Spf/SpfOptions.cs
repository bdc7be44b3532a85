using System;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>How the proxy checks SPF and reports it in the message.</summary>
    public sealed class SpfOptions
    {
        /// <summary>RFC 7208 §4.6.4 asks for at least 20 seconds for a whole check.</summary>
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

        public SpfCheckMode Mode { get; set; } = SpfCheckMode.Auto;

        /// <summary>The longest a whole check (every lookup of it) may take; after it the result is
        /// TempError, never Fail. The check starts at MAIL, so the client's RCPT round trips count.</summary>
        public TimeSpan Timeout { get; set; } = DefaultTimeout;

        /// <summary>The authserv-id of Authentication-Results (RFC 8601 §2.5); null: the proxy's host name.
        /// Every MX of a domain should use the same one: downstream filters trust results under it,
        /// and fields that claim it arriving from outside are removed.</summary>
        public string AuthServId { get; set; }

        public SpfOptions Clone() => (SpfOptions)MemberwiseClone();

        /// <exception cref="ArgumentOutOfRangeException">The timeout is not positive.</exception>
        /// <exception cref="ArgumentException">The authserv-id is not a single token.</exception>
        public void Validate()
        {
            if (Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The SPF timeout must be positive.");
            if (AuthServId != null && !IsToken(AuthServId))
                throw new ArgumentException("'" + AuthServId + "' is not an authserv-id: printable ASCII without blanks, ';', '(' or ')', such as mx.example.org.", nameof(AuthServId));
        }

        static bool IsToken(string s)
        {
            if (s.Length == 0 || s.Length > 255) return false;
            foreach (var c in s)
                if (c <= 0x20 || c >= 0x7F || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\') return false;
            return true;
        }
    }
}
