namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// The outcome of an ident query (RFC 1413). "No answer" (nothing listens, an ERROR reply) is
    /// a fact: tokens that need a user do not match. A failure (the query timed out) is not: whether
    /// the client would have named a user is unknown, and the rules treat the token as uncertain.
    /// </summary>
    public sealed class IdentAnswer
    {
        IdentAnswer(string user, bool failed, string error)
        {
            User = user;
            Failed = failed;
            Error = error;
        }

        /// <summary>No user: nobody answered at port 113, or identd said ERROR.</summary>
        public static readonly IdentAnswer None = new IdentAnswer(null, false, null);

        /// <summary>A user, or <see cref="None"/> for null or empty.</summary>
        public static IdentAnswer Of(string user) => string.IsNullOrEmpty(user) ? None : new IdentAnswer(user, false, null);

        /// <summary>The query could not complete (timeout, reset).</summary>
        public static IdentAnswer Failure(string error) => new IdentAnswer(null, true, error ?? "ident query failed");

        /// <summary>The user as identd gave it; null when there is none.</summary>
        public string User { get; }
        public bool Failed { get; }
        public string Error { get; }

        public override string ToString() => Failed ? "failed: " + Error : User ?? "(none)";
    }
}
