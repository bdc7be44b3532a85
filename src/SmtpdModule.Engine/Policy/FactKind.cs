namespace SmtpdModule.Engine.Policy
{
    /// <summary>Where a fact came from.</summary>
    public enum FactKind
    {
        /// <summary>A DNS answer: <see cref="Fact.Name"/> and <see cref="Fact.RecordType"/> say the question.</summary>
        Dns,
        /// <summary>The client's ident (RFC 1413) answer.</summary>
        Ident,
        /// <summary>A read from the state store: <see cref="Fact.Name"/> is the key.</summary>
        State,
        /// <summary>A rate limit's counter after this session's increment: <see cref="Fact.Name"/> is the key.</summary>
        Count,
    }
}
