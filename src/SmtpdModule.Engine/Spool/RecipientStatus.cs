namespace SmtpdModule.Engine.Spool
{
    /// <summary>How far delivery to one recipient has come; the crash-safe successor of the
    /// original's <c>RCPT</c>→<c>SENT</c> overwrite (reference §5.2 step 5).</summary>
    public enum RecipientStatus
    {
        /// <summary>Not yet delivered (written as no status at all).</summary>
        Pending,
        Delivered,
        Failed,
    }
}
