namespace SmtpdModule.Engine.Protocol
{
    /// <summary>
    /// Every reply the receiver sends on its own account, in one table (codes per RFC 5321,
    /// enhanced codes per RFC 3463). Texts are conventional and never carry exception text.
    /// </summary>
    public static class Replies
    {
        public static readonly SmtpReply Ok = new SmtpReply(250, "2.0.0", "OK");
        public static readonly SmtpReply SenderOk = new SmtpReply(250, "2.1.0", "Sender OK");
        public static readonly SmtpReply RecipientOk = new SmtpReply(250, "2.1.5", "Recipient OK");
        /// <summary>Recipient verification found no such mailbox downstream (RFC 3463 5.1.1).</summary>
        public static readonly SmtpReply UnknownUser = new SmtpReply(550, "5.1.1", "Recipient address rejected: user unknown");
        /// <summary>No recipient source could answer, and the fail mode is to defer (RFC 3463 4.4.3).</summary>
        public static readonly SmtpReply VerificationUnavailable = new SmtpReply(450, "4.4.3", "Recipient verification unavailable, try again later");
        public static readonly SmtpReply Bye = new SmtpReply(221, "2.0.0", "Bye");
        public static readonly SmtpReply CannotVerify = new SmtpReply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
        public static readonly SmtpReply Help = new SmtpReply(214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS");
        public static readonly SmtpReply StartData = new SmtpReply(354, null, "End data with <CR><LF>.<CR><LF>");
        public static readonly SmtpReply ReadyForTls = new SmtpReply(220, "2.0.0", "Ready to start TLS");

        public static readonly SmtpReply ShuttingDown = new SmtpReply(421, "4.3.2", "Service shutting down, closing connection");
        public static readonly SmtpReply Timeout = new SmtpReply(421, "4.4.2", "Timeout waiting for input, closing connection");
        public static readonly SmtpReply TooManySessions = new SmtpReply(421, "4.7.0", "Too many connections, try again later");
        public static readonly SmtpReply TooManySessionsFromYou = new SmtpReply(421, "4.7.0", "Too many connections from your address, try again later");
        public static readonly SmtpReply TooManyErrors = new SmtpReply(421, "4.7.0", "Too many errors, closing connection");
        public static readonly SmtpReply DenyClosing = new SmtpReply(421, "4.7.1", "Closing connection");
        public static readonly SmtpReply LocalError = new SmtpReply(451, "4.3.0", "Local error in processing, try again later");
        public static readonly SmtpReply LocalErrorClosing = new SmtpReply(421, "4.3.0", "Local error, closing connection");
        public static readonly SmtpReply InsufficientStorage = new SmtpReply(452, "4.3.1", "Insufficient system storage, try again later");
        public static readonly SmtpReply TooManyRecipients = new SmtpReply(452, "4.5.3", "Too many recipients");
        public static readonly SmtpReply RulesUnavailable = new SmtpReply(451, "4.3.0", "Recipient check unavailable, try again later");
        public static readonly SmtpReply TlsNotAvailable = new SmtpReply(454, "4.7.0", "TLS not available");

        public static readonly SmtpReply UnknownCommand = new SmtpReply(500, "5.5.1", "Command unrecognized");
        public static readonly SmtpReply LineTooLong = new SmtpReply(500, "5.5.2", "Line too long");
        public static readonly SmtpReply TextLineTooLong = new SmtpReply(500, "5.5.2", "Message has a line that is too long");
        public static readonly SmtpReply SyntaxError = new SmtpReply(501, "5.5.4", "Syntax error in parameters or arguments");
        public static readonly SmtpReply BadSenderSyntax = new SmtpReply(501, "5.1.7", "Bad sender address syntax");
        public static readonly SmtpReply BadRecipientSyntax = new SmtpReply(501, "5.1.3", "Bad recipient address syntax");
        public static readonly SmtpReply HeloRequiresDomain = new SmtpReply(501, "5.5.4", "HELO/EHLO requires a domain or address literal");
        public static readonly SmtpReply BadSequence = new SmtpReply(503, "5.5.1", "Bad sequence of commands");
        public static readonly SmtpReply BadSequenceNeedHelo = new SmtpReply(503, "5.5.1", "Send HELO or EHLO first");
        public static readonly SmtpReply BadSequenceNeedMail = new SmtpReply(503, "5.5.1", "Need MAIL before RCPT");
        public static readonly SmtpReply BadSequenceNestedMail = new SmtpReply(503, "5.5.1", "Sender already given");
        public static readonly SmtpReply StartTlsNotOffered = new SmtpReply(502, "5.5.1", "STARTTLS not offered");
        public static readonly SmtpReply TlsAlreadyActive = new SmtpReply(503, "5.5.1", "TLS already active");
        public static readonly SmtpReply NoValidRecipients = new SmtpReply(554, "5.5.1", "No valid recipients");
        public static readonly SmtpReply MessageTooBig = new SmtpReply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        public static readonly SmtpReply DeclaredSizeTooBig = new SmtpReply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        public static readonly SmtpReply RoutedAddress = new SmtpReply(553, "5.1.3", "Source routes, %-hacks, bang paths and quoted '@' are not accepted");
        public static readonly SmtpReply NeedsSmtpUtf8 = new SmtpReply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
        public static readonly SmtpReply BadParameter = new SmtpReply(555, "5.5.4", "MAIL/RCPT parameter not recognized or not implemented");
        public static readonly SmtpReply HeloNotUtf8 = new SmtpReply(501, "5.5.4", "HELO/EHLO argument is not well-formed UTF-8");
        public static readonly SmtpReply SenderNotUtf8 = new SmtpReply(501, "5.1.7", "Sender address is not well-formed UTF-8");
        public static readonly SmtpReply RecipientNotUtf8 = new SmtpReply(501, "5.1.3", "Recipient address is not well-formed UTF-8");
        // As Postfix's smtpd_forbid_bare_newline=reject: a line syntax error of the transaction (RFC 3463 X.5.2).
        public static readonly SmtpReply BareLineEnding = new SmtpReply(550, "5.5.2", "Message text has a bare CR or LF; lines must end with CRLF");
        public static readonly SmtpReply NullRecipient = new SmtpReply(501, "5.1.3", "The null path is not a recipient");
    }
}
