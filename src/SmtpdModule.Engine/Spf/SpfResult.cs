namespace SmtpdModule.Engine.Spf
{
    /// <summary>The result of an SPF check (RFC 7208 §2.6).</summary>
    public enum SpfResult
    {
        /// <summary>No usable domain, or the domain publishes no SPF record.</summary>
        None,
        /// <summary>The domain says nothing about this address (also the default at the end of a record).</summary>
        Neutral,
        /// <summary>The address is authorised.</summary>
        Pass,
        /// <summary>The address is not authorised.</summary>
        Fail,
        /// <summary>Probably not authorised; the domain does not want a Fail.</summary>
        SoftFail,
        /// <summary>A transient DNS failure: asking later may give an answer.</summary>
        TempError,
        /// <summary>The domain's records cannot be interpreted (syntax, limits, several records).</summary>
        PermError,
    }
}
