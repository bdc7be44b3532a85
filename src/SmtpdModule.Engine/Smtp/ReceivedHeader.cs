using System;
using System.Globalization;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Our trace header (RFC 5321 §4.4): who connected (HELO name, verified reverse name, address),
    /// who received it, the protocol keyword (RFC 3848, RFC 6531), our id, the recipient when there
    /// is exactly one, and an RFC 5322 date with its zone. Peer-supplied text is cleaned first, so
    /// nothing a client says can break the header.
    /// </summary>
    public static class ReceivedHeader
    {
        public static string Build(string helo, string clientName, string clientAddress, string hostName, string protocol,
                                   string id, string singleRecipient, DateTimeOffset when)
        {
            var from = PeerText.CleanName(string.IsNullOrEmpty(helo) ? "unknown" : helo);
            var name = clientName == null ? "unknown" : PeerText.CleanName(clientName);
            var text = "Received: from " + from + " (" + name + " [" + clientAddress + "])\r\n" +
                       "\tby " + hostName + " (SmtpdModule) with " + protocol + " id " + id;
            if (singleRecipient != null) text += "\r\n\tfor " + PeerText.CleanAddress(singleRecipient);
            return text + "; " + Rfc5322Date(when) + "\r\n";
        }

        public static string Rfc5322Date(DateTimeOffset when)
        {
            var offset = when.Offset;
            var sign = offset < TimeSpan.Zero ? "-" : "+";
            offset = offset.Duration();
            return when.ToString("ddd, d MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + sign +
                   offset.Hours.ToString("00", CultureInfo.InvariantCulture) + offset.Minutes.ToString("00", CultureInfo.InvariantCulture);
        }

        /// <summary>The "with" keyword: SMTP or ESMTP, S for TLS, A for authentication (RFC 3848), UTF8 for SMTPUTF8 (RFC 6531).</summary>
        public static string Protocol(bool esmtp, bool tls, bool authenticated, bool smtpUtf8)
        {
            if (!esmtp) return "SMTP";
            var core = smtpUtf8 ? "UTF8SMTP" : "ESMTP";
            return core + (tls ? "S" : "") + (authenticated ? "A" : "");
        }
    }
}
