using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// How <c>grey</c> lines decide. The defaults are postgrey's (delay 5 minutes, retry window 2
    /// days, a passed triplet and an auto-allowed client kept 35 days, auto-allow after 5 proven
    /// retries) and spamd's for greytraps (the trapped address refused for a day).
    /// </summary>
    public sealed class GreylistOptions
    {
        /// <summary>How long after its first try a sender must wait before a retry passes.</summary>
        public TimeSpan Delay { get; set; } = TimeSpan.FromMinutes(5);
        /// <summary>How long a first try is remembered: a retry after it starts again.</summary>
        public TimeSpan RetryWindow { get; set; } = TimeSpan.FromDays(2);
        /// <summary>How long a passed triplet, and a client's count of them, are kept after their last use.</summary>
        public TimeSpan PassLifetime { get; set; } = TimeSpan.FromDays(35);
        /// <summary>Proven retries after which a client (its network, or its SPF domain) skips greylisting; 0: never.</summary>
        public int AutoAllowAfter { get; set; } = 5;
        /// <summary>The prefix length of an IPv4 client's network in the key.</summary>
        public int IPv4PrefixLength { get; set; } = 24;
        /// <summary>The prefix length of an IPv6 client's network in the key.</summary>
        public int IPv6PrefixLength { get; set; } = 64;
        /// <summary>Recipient addresses no real user has: a greylisted client that writes to one is refused for <see cref="TrapLifetime"/>.</summary>
        public IList<string> Greytraps { get; set; } = new List<string>();
        /// <summary>How long a trapped client address is refused.</summary>
        public TimeSpan TrapLifetime { get; set; } = TimeSpan.FromDays(1);
        /// <summary>What a grey line decides when the state store cannot be read.</summary>
        public State.StateFailMode FailMode { get; set; } = State.StateFailMode.Open;

        public GreylistOptions Clone()
        {
            var copy = (GreylistOptions)MemberwiseClone();
            copy.Greytraps = new List<string>(Greytraps ?? new string[0]);
            return copy;
        }

        /// <exception cref="ArgumentException">A value out of range, or a greytrap that is not an address.</exception>
        public void Validate()
        {
            if (Delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Delay), Delay, "The greylist delay cannot be negative.");
            if (RetryWindow <= Delay) throw new ArgumentOutOfRangeException(nameof(RetryWindow), RetryWindow, "The retry window must be longer than the greylist delay.");
            if (PassLifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PassLifetime), PassLifetime, "The pass lifetime must be positive.");
            if (TrapLifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TrapLifetime), TrapLifetime, "The greytrap lifetime must be positive.");
            if (AutoAllowAfter < 0) throw new ArgumentOutOfRangeException(nameof(AutoAllowAfter), AutoAllowAfter, "The auto-allow count cannot be negative.");
            if (IPv4PrefixLength < 8 || IPv4PrefixLength > 32) throw new ArgumentOutOfRangeException(nameof(IPv4PrefixLength), IPv4PrefixLength, "An IPv4 prefix length is 8 to 32.");
            if (IPv6PrefixLength < 16 || IPv6PrefixLength > 128) throw new ArgumentOutOfRangeException(nameof(IPv6PrefixLength), IPv6PrefixLength, "An IPv6 prefix length is 16 to 128.");
            foreach (var trap in Greytraps ?? new string[0])
            {
                var at = trap?.LastIndexOf('@') ?? -1;
                if (at <= 0 || at == trap.Length - 1 || trap.IndexOfAny(new[] { ' ', '<', '>', '\t' }) >= 0)
                    throw new ArgumentException("'" + trap + "' is not a greytrap: a full address such as trap@example.org.", nameof(Greytraps));
            }
        }
    }
}
