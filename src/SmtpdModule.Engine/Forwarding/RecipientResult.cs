namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>The result of one attempt for one recipient, with what a DSN needs to explain it.</summary>
    public sealed class RecipientResult
    {
        /// <param name="recipient">The recipient this is about.</param>
        /// <param name="outcome">What happened.</param>
        /// <param name="status">The RFC 3463 status code, e.g. <c>2.0.0</c>, <c>4.4.1</c>,
        /// <c>5.1.1</c>: the server's enhanced code when it gave one, else derived from the reply
        /// code or exit status.</param>
        /// <param name="diagnostic">What the next hop said, one line: <c>550 5.1.1 No such user</c>,
        /// <c>Connection refused</c>, <c>sendmail exited with 67 (EX_NOUSER)</c>.</param>
        /// <param name="diagnosticType">The RFC 3464 diagnostic type: <c>smtp</c> when
        /// <paramref name="diagnostic"/> is an SMTP reply, <c>x-unix</c> for exit codes, else <c>x-local</c>.</param>
        public RecipientResult(OutgoingRecipient recipient, DeliveryOutcome outcome, string status, string diagnostic, string diagnosticType = "smtp")
        {
            Recipient = recipient;
            Outcome = outcome;
            Status = status;
            Diagnostic = diagnostic;
            DiagnosticType = diagnosticType;
        }

        public OutgoingRecipient Recipient { get; }
        public DeliveryOutcome Outcome { get; }
        public string Status { get; }
        public string Diagnostic { get; }
        public string DiagnosticType { get; }

        public override string ToString() => Recipient + ": " + Outcome + " " + Diagnostic;
    }
}
