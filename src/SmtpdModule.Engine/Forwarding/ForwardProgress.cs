namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>How far a <see cref="Forwarder.RunOnceAsync"/> run has come.</summary>
    public sealed class ForwardProgress
    {
        internal ForwardProgress(long done, long total, string lastId)
        {
            Done = done;
            Total = total;
            LastId = lastId;
        }

        /// <summary>Messages tried so far.</summary>
        public long Done { get; }

        /// <summary>Messages found due so far (grows when bounces or new mail arrive during the run).</summary>
        public long Total { get; }

        /// <summary>The message tried last.</summary>
        public string LastId { get; }
    }
}
