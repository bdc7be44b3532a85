namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// What the proxy does with a lone CR or LF in message text (one not part of a CRLF pair).
    /// Either way it never ends the text, and nothing lone reaches the spool or the next hop.
    /// </summary>
    public enum BareLineEndingPolicy
    {
        /// <summary>Store it as CRLF (Postfix's smtpd_forbid_bare_newline = normalize). The default:
        /// some old or home-made senders still end lines with LF alone.</summary>
        Normalize,
        /// <summary>Refuse the message with 550 5.5.2 and spool nothing; the session goes on.</summary>
        Reject,
    }
}
