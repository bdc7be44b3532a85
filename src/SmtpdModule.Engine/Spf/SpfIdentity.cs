namespace SmtpdModule.Engine.Spf
{
    /// <summary>Which identity an SPF check authorised (RFC 7208 §2.3, §2.4).</summary>
    public enum SpfIdentity
    {
        /// <summary>The MAIL FROM domain; for the null sender, <c>postmaster@</c> the HELO name.</summary>
        MailFrom,
        /// <summary>The HELO/EHLO name.</summary>
        Helo,
    }
}
