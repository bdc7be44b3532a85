using System.Collections.Generic;
using System.Globalization;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The EHLO reply's lines after the first (RFC 5321 §4.1.1.1), for one SIZE and one answer to
    /// "is SMTPUTF8 offered", with and without STARTTLS: made once and shared by every session with
    /// those limits, so a session copies lines and builds none. Immutable.
    /// </summary>
    internal sealed class EhloExtensions
    {
        EhloExtensions(long size, bool smtpUtf8, bool offerStartTls)
        {
            Size = size;
            SmtpUtf8 = smtpUtf8;
            Plain = Lines(size, smtpUtf8, startTls: false);
            WithStartTls = offerStartTls ? Lines(size, smtpUtf8, startTls: true) : Plain;
        }

        /// <summary>The lines for these limits; <paramref name="offerStartTls"/>: the proxy has a certificate.</summary>
        public static EhloExtensions For(long size, bool smtpUtf8, bool offerStartTls) => new EhloExtensions(size, smtpUtf8, offerStartTls);

        public long Size { get; }
        public bool SmtpUtf8 { get; }
        /// <summary>Without STARTTLS: a secured session, or a proxy without a certificate (RFC 3207 §4.2).</summary>
        public string[] Plain { get; }
        /// <summary>With STARTTLS last, when the proxy offers it; else <see cref="Plain"/>.</summary>
        public string[] WithStartTls { get; }

        public bool Fits(long size, bool smtpUtf8) => Size == size && SmtpUtf8 == smtpUtf8;

        /// <summary>One reply line each, the last with a space after the code.</summary>
        static string[] Lines(long size, bool smtpUtf8, bool startTls)
        {
            var names = new List<string> { "PIPELINING", "SIZE " + size.ToString(CultureInfo.InvariantCulture), "8BITMIME", "ENHANCEDSTATUSCODES" };
            if (smtpUtf8) names.Add("SMTPUTF8");
            if (startTls) names.Add("STARTTLS");
            var lines = new string[names.Count];
            for (int i = 0; i < lines.Length; i++) lines[i] = (i == lines.Length - 1 ? "250 " : "250-") + names[i];
            return lines;
        }
    }
}
