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
    }
}
