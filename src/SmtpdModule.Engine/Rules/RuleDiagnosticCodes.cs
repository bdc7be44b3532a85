namespace SmtpdModule.Engine.Rules
{
    /// <summary>The stable codes of <see cref="RuleDiagnostic"/>. Public API: never reuse or rename one.</summary>
    public static class RuleDiagnosticCodes
    {
        // Errors: the file is refused.
        public const string BadFieldCount = "BadFieldCount";
        public const string JunkAtEnd = "JunkAtEnd";
        public const string UnknownAction = "UnknownAction";
        public const string InvalidRegex = "InvalidRegex";
        public const string UnreadableFile = "UnreadableFile";
        public const string UnknownProtocolTest = "UnknownProtocolTest";
        public const string BadDnsblFilter = "BadDnsblFilter";
        /// <summary>A score definition or SCORE. token that does not parse: name, zone, weight or threshold.</summary>
        public const string BadScore = "BadScore";
        /// <summary>A second score definition with a name already defined.</summary>
        public const string DuplicateScore = "DuplicateScore";
        /// <summary>A SCORE. token naming no score defined above it.</summary>
        public const string UndefinedScore = "UndefinedScore";
        /// <summary>An SPF= token with a result RFC 7208 does not define, or outside the from list.</summary>
        public const string BadSpfToken = "BadSpfToken";

        // Warnings: the file loads; the original's behaviour is kept.
        public const string NeverMatches = "NeverMatches";
        public const string BogusTemplate = "BogusTemplate";
        public const string Shadowed = "Shadowed";
        public const string EmptyList = "EmptyList";
        public const string SplitRegex = "SplitRegex";
    }
}
