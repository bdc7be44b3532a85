namespace SmtpdModule.Engine.Lookup
{
    /// <summary>How a DNS question ended. "Not found" and "could not tell" are different facts:
    /// the first is an answer, the second makes a rule check fail (and take the default action).</summary>
    public enum DnsStatus
    {
        /// <summary>The name exists. <see cref="DnsAnswer.Values"/> may still be empty (NODATA).</summary>
        Ok,
        /// <summary>NXDOMAIN: the name does not exist.</summary>
        NameError,
        /// <summary>No usable answer: timeout, SERVFAIL, REFUSED, a malformed response.</summary>
        Failed,
    }
}
