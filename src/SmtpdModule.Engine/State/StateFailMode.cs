namespace SmtpdModule.Engine.State
{
    /// <summary>What a check that needs the state store decides when the store cannot be reached.</summary>
    public enum StateFailMode
    {
        /// <summary>Let the mail through and log: a grey line does not decide, a rate limit counts nothing.</summary>
        Open,
        /// <summary>A grey line defers the recipient (451 4.3.0) until the store answers again.</summary>
        Closed,
    }
}
