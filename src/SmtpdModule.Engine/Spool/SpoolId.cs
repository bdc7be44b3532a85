using System;
using System.Globalization;
using System.Security.Cryptography;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Spool ids: <c>yyyyMMddTHHmmss-</c> (UTC, so ids sort by arrival) followed by 24 characters
    /// of lower-case base32 carrying 120 bits from a cryptographic generator. An id becomes the
    /// file names <c>&lt;id&gt;.tmp</c> and <c>&lt;id&gt;.msg</c>, so nothing reaches a path
    /// before <see cref="IsValid"/> accepts it.
    /// </summary>
    /// <remarks>
    /// The format is checked exactly, not just for "no separators": exactly 40 characters of
    /// digits, <c>T</c>, <c>-</c> and <c>a-z2-7</c>. That excludes separators, dots, drive
    /// prefixes, Windows device names (<c>nul</c>, <c>con</c>, …), trailing dots and spaces that
    /// Windows would strip, and ids that differ only in case (which would collide on a
    /// case-insensitive file system).
    /// </remarks>
    public static class SpoolId
    {
        /// <summary>The length of every valid id.</summary>
        public const int Length = 40;

        const int TimeLength = 15;          // yyyyMMddTHHmmss
        const int RandomBytes = 15;         // 120 bits; 15 bytes are exactly 24 base32 characters
        const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

        // One generator for the process: thread-safe, and making one per id cost a new OpenSSL
        // context (and its fork check, a getpid) for every message.
        static readonly RandomNumberGenerator Random = RandomNumberGenerator.Create();

        /// <summary>A new id for a message arriving now.</summary>
        public static string New() => New(DateTimeOffset.UtcNow);

        internal static string New(DateTimeOffset now)
        {
            var random = new byte[RandomBytes];
            Random.GetBytes(random);

            var chars = new char[Length];
            now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture).CopyTo(0, chars, 0, TimeLength);
            chars[TimeLength] = '-';
            var at = TimeLength + 1;
            for (var i = 0; i < RandomBytes; i += 5)
            {
                ulong group = 0;
                for (var j = 0; j < 5; j++) group = (group << 8) | random[i + j];
                for (var shift = 35; shift >= 0; shift -= 5) chars[at++] = Base32[(int)(group >> shift) & 31];
            }
            return new string(chars);
        }

        /// <summary>
        /// <paramref name="id"/> as the spool spells it, for ids a user typed in any case: lower
        /// case but for the <c>T</c> between date and time. No two valid ids differ only in case,
        /// so this never turns one valid id into another; it does not make an id valid.
        /// </summary>
        /// <returns>Null for null.</returns>
        public static string Canonical(string id)
        {
            if (id == null) return null;
            var chars = id.ToLowerInvariant().ToCharArray();
            if (chars.Length > 8 && chars[8] == 't') chars[8] = 'T';
            return new string(chars);
        }

        /// <summary>True when <paramref name="id"/> has exactly the form <see cref="New()"/>
        /// produces. Ids from clients, scripts and file names go through this before they are used
        /// in a path.</summary>
        public static bool IsValid(string id)
        {
            if (id == null || id.Length != Length) return false;
            for (var i = 0; i < Length; i++)
            {
                var c = id[i];
                bool ok;
                if (i < 8 || (i > 8 && i < TimeLength)) ok = c >= '0' && c <= '9';
                else if (i == 8) ok = c == 'T';
                else if (i == TimeLength) ok = c == '-';
                else ok = (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
                if (!ok) return false;
            }
            return true;
        }
    }
}
