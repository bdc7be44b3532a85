namespace SmtpdModule.Engine.Verification
{
    /// <summary>What the proxy answers when no recipient source can say whether a mailbox exists.</summary>
    public enum VerificationFailMode
    {
        /// <summary>450 4.4.3: the client tries again later (the default: nothing accepted can bounce).</summary>
        TempFail,
        /// <summary>Accept the recipient as if verification were off: mail keeps flowing while a source is
        /// down, and a message for a user who does not exist may bounce later.</summary>
        Accept,
    }
}
