using SmtpdModule.Engine.Protocol;
namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What the state table says of one command in one state: accepted, with the state
    /// the session moves to when the command takes effect, or refused with its reply.</summary>
    internal readonly struct SessionStep
    {
        SessionStep(SessionState next, SmtpReply refusal)
        {
            Next = next;
            Refusal = refusal;
        }

        public static SessionStep To(SessionState next) => new SessionStep(next, null);

        public static SessionStep Refuse(SessionState current, SmtpReply reply) => new SessionStep(current, reply);

        public bool Accepted => Refusal == null;

        /// <summary>The state after the command took effect; for a refusal, the state unchanged.</summary>
        public SessionState Next { get; }

        /// <summary>The reply to a command out of sequence (counted as a client error); null when accepted.</summary>
        public SmtpReply Refusal { get; }
    }
}
