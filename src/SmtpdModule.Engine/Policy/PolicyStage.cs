namespace SmtpdModule.Engine.Policy
{
    /// <summary>The points of an SMTP session at which the policy decides, in the order a session meets them.</summary>
    public enum PolicyStage
    {
        /// <summary>The client has connected; its address (and reverse name) are known.</summary>
        Connect,
        /// <summary>HELO or EHLO.</summary>
        Helo,
        /// <summary>MAIL FROM: the sender.</summary>
        Mail,
        /// <summary>RCPT TO: one recipient; the rules file decides here.</summary>
        Rcpt,
        /// <summary>The end of the message text, before the spool commit.</summary>
        Data,
    }
}
