namespace SmtpdModule.Engine.Lookup
{
    /// <summary>How a lookup the rules asked for ended.</summary>
    public enum LookupOutcome
    {
        /// <summary>Found: the name exists / is listed / resolves.</summary>
        Found,
        /// <summary>A definite "no": NXDOMAIN, no data, not listed.</summary>
        NotFound,
        /// <summary>Could not tell (timeout, SERVFAIL, REFUSED): the rule check fails and takes the default action.</summary>
        Failed,
    }
}
