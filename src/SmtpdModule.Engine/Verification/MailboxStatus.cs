namespace SmtpdModule.Engine.Verification
{
    /// <summary>What a recipient source says of one address.</summary>
    public enum MailboxStatus
    {
        /// <summary>The address has a mailbox: the downstream will take it.</summary>
        Known,
        /// <summary>No such user (for a callahead: a 5.1.x answer and nothing else): 550 5.1.1 at RCPT.</summary>
        Unknown,
        /// <summary>The source could not answer (down, timed out, 4xx, a 5xx that is not 5.1.x): never cached,
        /// never "unknown"; the proxy follows its fail mode.</summary>
        Unavailable,
    }
}
