namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>What one attempt did for one recipient.</summary>
    public enum DeliveryOutcome
    {
        /// <summary>The next hop took responsibility (2xx after DATA, exit 0, file written).</summary>
        Delivered,

        /// <summary>A temporary failure: 4xx, no connection, a timeout, a temporary exit code. Retry later.</summary>
        Deferred,

        /// <summary>A permanent failure: 5xx, a permanent exit code. Bounce, never retry.</summary>
        Failed,
    }
}
