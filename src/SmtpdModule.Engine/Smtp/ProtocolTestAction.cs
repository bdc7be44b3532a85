namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What the proxy does when a client fails a protocol test and no rule line decided on
    /// it. Whatever the action, a test the rules name (<c>FAILED=</c>) runs and is a fact for them.</summary>
    public enum ProtocolTestAction
    {
        /// <summary>Nothing: not logged, not enforced. The pregreet test (which costs every new client
        /// the greeting wait) runs only when the rules name it.</summary>
        Ignore,
        /// <summary>Log the failure (event <c>protocol</c>) and go on.</summary>
        Log,
        /// <summary>Log it, then 521 5.5.1 and close: at once for a non-SMTP command, at the first
        /// RCPT for the others (the envelope is then in the log, as postscreen's enforce keeps it).</summary>
        Enforce,
    }
}
