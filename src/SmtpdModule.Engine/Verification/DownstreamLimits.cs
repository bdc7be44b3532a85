using System;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// What the downstream (the forwarder's smart host) said of itself in its EHLO reply: the
    /// largest message it takes (SIZE, RFC 1870) and whether it takes SMTPUTF8 (RFC 6531) and
    /// 8BITMIME (RFC 6152). The proxy advertises no larger a SIZE and refuses an SMTPUTF8
    /// transaction the downstream cannot take, so such mail is refused at the door instead of
    /// bounced later (backscatter).
    /// </summary>
    public sealed class DownstreamLimits
    {
        /// <summary>Nothing learned yet: callers use their own defaults.</summary>
        public static DownstreamLimits Unknown { get; } = new DownstreamLimits(false, 0, false, false, null, "not probed yet");

        DownstreamLimits(bool isKnown, long maxSize, bool smtpUtf8, bool eightBitMime, DateTimeOffset? learnedAt, string detail)
        {
            IsKnown = isKnown;
            MaxSize = maxSize;
            SmtpUtf8 = smtpUtf8;
            EightBitMime = eightBitMime;
            LearnedAt = learnedAt;
            Detail = detail;
        }

        /// <summary>Limits learned from an EHLO reply.</summary>
        /// <param name="maxSize">The SIZE value; 0 when SIZE was absent or had no value (no limit).</param>
        /// <param name="smtpUtf8">SMTPUTF8 was offered.</param>
        /// <param name="eightBitMime">8BITMIME was offered.</param>
        /// <param name="learnedAt">When the EHLO was read.</param>
        /// <param name="detail">Where from, for the log: "host:port".</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative.</exception>
        public DownstreamLimits(long maxSize, bool smtpUtf8, bool eightBitMime, DateTimeOffset learnedAt, string detail)
            : this(true, maxSize, smtpUtf8, eightBitMime, learnedAt, detail)
        {
            if (maxSize < 0) throw new ArgumentOutOfRangeException(nameof(maxSize));
        }

        /// <summary>No limits known, with the reason (the downstream could not be asked).</summary>
        public static DownstreamLimits Unavailable(string detail) => new DownstreamLimits(false, 0, false, false, null, detail);

        /// <summary>The downstream answered an EHLO; when false, every other value is a default
        /// and callers use their own.</summary>
        public bool IsKnown { get; }

        /// <summary>The downstream's SIZE in bytes; 0 means no limit (or not known).</summary>
        public long MaxSize { get; }

        /// <summary>The downstream offers SMTPUTF8.</summary>
        public bool SmtpUtf8 { get; }

        /// <summary>The downstream offers 8BITMIME.</summary>
        public bool EightBitMime { get; }

        /// <summary>When the EHLO was read; null when not known.</summary>
        public DateTimeOffset? LearnedAt { get; }

        /// <summary>Where the limits come from, or why there are none.</summary>
        public string Detail { get; }

        /// <summary>The SIZE to advertise: the smaller of <paramref name="ownLimit"/> and the
        /// downstream's, where 0 on either side means no limit.</summary>
        public long CapSize(long ownLimit)
        {
            if (!IsKnown || MaxSize == 0) return ownLimit;
            return ownLimit == 0 ? MaxSize : Math.Min(ownLimit, MaxSize);
        }

        /// <summary>The same answer in substance: known or not, SIZE, SMTPUTF8 and 8BITMIME (not
        /// when or from where). A refresh that brings the same is not news.</summary>
        public bool SameAs(DownstreamLimits other) =>
            other != null && IsKnown == other.IsKnown && MaxSize == other.MaxSize && SmtpUtf8 == other.SmtpUtf8 && EightBitMime == other.EightBitMime;

        public override string ToString() =>
            IsKnown
                ? "SIZE " + (MaxSize == 0 ? "unlimited" : MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture))
                  + ", SMTPUTF8 " + (SmtpUtf8 ? "yes" : "no") + ", 8BITMIME " + (EightBitMime ? "yes" : "no") + " (" + Detail + ")"
                : "unknown (" + Detail + ")";
    }
}
