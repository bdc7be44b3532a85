namespace SmtpdModule.Engine.Spool
{
    /// <summary>Why a spool operation failed; the SMTP layer and the cmdlets choose their answer from it.</summary>
    public enum SpoolErrorReason
    {
        /// <summary>No such spool item (or no spool at the given root). Includes ids that are not
        /// well-formed: such an id never names a file.</summary>
        NotFound,

        /// <summary>A spool file exists but cannot be understood (bad envelope, wrong encoding).
        /// Such files belong in <c>corrupt/</c>.</summary>
        Corrupt,

        /// <summary>Any other input/output failure. Temporary from the client's point of view
        /// (SMTP <c>451 4.3.0</c>).</summary>
        Io,

        /// <summary>The volume or the quota is full (SMTP <c>452 4.3.1</c>).</summary>
        Full,

        /// <summary>A forwarder is delivering the message right now; it cannot be held, released
        /// or removed until that attempt ends.</summary>
        Busy,
    }
}
