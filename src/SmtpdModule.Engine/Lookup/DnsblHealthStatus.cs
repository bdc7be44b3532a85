namespace SmtpdModule.Engine.Lookup
{
    /// <summary>What a probe of a DNSBL's RFC 5782 test points found.</summary>
    public enum DnsblHealthStatus
    {
        /// <summary>No probe has answered yet: the list is trusted, as the original trusted every list.</summary>
        Unknown,
        /// <summary>127.0.0.2 listed, 127.0.0.1 not.</summary>
        Healthy,
        /// <summary>127.0.0.1 (or ::FFFF:7F00:1) is listed: the list answers "listed" for every address, as
        /// lists do after they are shut down and their zone is pointed at a wildcard.</summary>
        ListsEverything,
        /// <summary>A test point answered 127.255.255.0/24: the list refuses to serve us (Spamhaus: a typo,
        /// a public resolver, or over quota).</summary>
        ErrorAnswers,
        /// <summary>The test points could not be asked: timeouts, SERVFAIL, REFUSED.</summary>
        Timeout,
        /// <summary>127.0.0.2 is not listed: the list is empty, gone, or not a DNSBL.</summary>
        NotListing,
    }
}
