namespace SmtpdModule.Engine.Spf
{
    /// <summary>When the proxy checks SPF.</summary>
    public enum SpfCheckMode
    {
        /// <summary>When a rule tests <c>SPF=</c>: a proxy whose rules ignore SPF asks no TXT question for it.</summary>
        Auto,
        /// <summary>For every transaction, so each message carries Received-SPF and Authentication-Results.</summary>
        Always,
    }
}
