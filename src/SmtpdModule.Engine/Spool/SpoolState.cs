namespace SmtpdModule.Engine.Spool
{
    /// <summary>Where a committed message is in its life; each state is a directory of the spool.</summary>
    public enum SpoolState
    {
        /// <summary>Waiting for the forwarder.</summary>
        Ready,
        /// <summary>Being delivered by a forwarder.</summary>
        Active,
        /// <summary>Tried, and waiting for its next attempt.</summary>
        Deferred,
        /// <summary>Put aside by an administrator; not delivered until released.</summary>
        Held,
        /// <summary>Delivery failed for good and was not bounced (null sender, or bounces switched off).</summary>
        Failed,
    }
}
