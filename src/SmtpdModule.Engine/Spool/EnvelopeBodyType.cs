namespace SmtpdModule.Engine.Spool
{
    /// <summary>The <c>BODY=</c> the client declared (RFC 6152); the forwarder repeats it.</summary>
    public enum EnvelopeBodyType
    {
        /// <summary><c>7BIT</c>, also what a client that says nothing gets.</summary>
        SevenBit,

        /// <summary><c>8BITMIME</c>.</summary>
        EightBitMime,
    }
}
