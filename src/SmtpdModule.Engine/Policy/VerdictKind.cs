namespace SmtpdModule.Engine.Policy
{
    /// <summary>What a stage of the policy makes of a command.</summary>
    public enum VerdictKind
    {
        /// <summary>The command takes effect (its positive reply) and the session goes on.</summary>
        Continue,
        /// <summary>The command is refused for good (a 5xx reply) and the session goes on.</summary>
        Reject,
        /// <summary>The command is refused for now (a 4xx reply) and the session goes on.</summary>
        TempFail,
        /// <summary>The replies are written and the session is closed.</summary>
        Close,
        /// <summary>The session is held for <see cref="Verdict.Delay"/>, then the command takes effect.</summary>
        Delay,
    }
}
