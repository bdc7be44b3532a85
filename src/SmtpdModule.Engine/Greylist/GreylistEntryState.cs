namespace SmtpdModule.Engine.Greylist
{
    /// <summary>What an entry means for the next try.</summary>
    public enum GreylistEntryState
    {
        /// <summary>A triplet tried once and has not yet come back after the delay: its retry is refused until then.</summary>
        Waiting,
        /// <summary>A triplet that proved it retries: its mail goes on to the next rules line.</summary>
        Passed,
        /// <summary>A client's count of proven retries, below the auto-allow threshold (or the threshold is off).</summary>
        Counting,
        /// <summary>A client whose count reached the auto-allow threshold: it skips greylisting.</summary>
        AutoAllowed,
        /// <summary>A client address refused for writing to a greytrap.</summary>
        Trapped,
    }
}
