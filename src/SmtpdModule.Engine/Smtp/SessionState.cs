namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Where one SMTP session stands (RFC 5321 §4.1.4). Each state has a secured twin: STARTTLS
    /// starts the session over (RFC 3207 §4.2) but it stays secured, which decides what a second
    /// STARTTLS gets and what EHLO offers.
    /// </summary>
    internal enum SessionState
    {
        /// <summary>The 220 banner was sent; no HELO or EHLO yet.</summary>
        Connected,
        /// <summary>Greeted, no transaction.</summary>
        Greeted,
        /// <summary>MAIL accepted, no recipient accepted yet.</summary>
        MailGiven,
        /// <summary>At least one RCPT accepted: DATA may follow.</summary>
        RecipientsGiven,
        SecureConnected,
        SecureGreeted,
        SecureMailGiven,
        SecureRecipientsGiven,
    }
}
