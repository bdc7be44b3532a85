namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The record types the rules engine asks for.</summary>
    public enum DnsRecordType
    {
        A,
        AAAA,
        NS,
        MX,
        PTR,
        /// <summary>Text records (SPF, RFC 7208 §3): one value per record, its character-strings joined.</summary>
        TXT,
    }
}
