using System;
using System.IO;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// What <see cref="SmtpTransport"/> reports for the recipients still open when something other
    /// than a reply to the transaction ends it: no answer (4.4.1), a broken connection (4.4.2), a
    /// name that does not resolve (4.4.3), TLS or AUTH trouble (4.7.0), a refused greeting (the
    /// server's code, made temporary), our own spool (4.3.0). Always deferred: none of these says
    /// the message is unwanted.
    /// </summary>
    internal sealed class SmtpFailure
    {
        const string Local = "x-local";

        public SmtpFailure(DeliveryOutcome outcome, string status, string diagnostic, string type, bool answered = false)
        {
            Outcome = outcome;
            Status = status;
            Diagnostic = diagnostic;
            Type = type;
            Answered = answered;
        }

        public DeliveryOutcome Outcome { get; }
        public string Status { get; }
        public string Diagnostic { get; }
        public string Type { get; }

        /// <summary>The server said something (for the DSN's Remote-MTA).</summary>
        public bool Answered { get; set; }

        /// <summary>What a failure other than a reply to the transaction means for the recipients
        /// still open: always deferred, since nothing says the message is unwanted.</summary>
        public static SmtpFailure Classify(Exception ex, string where, bool connecting)
        {
            switch (ex)
            {
                case SpoolReadException _:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.3.0", ex.Message, Local);
                case SmtpCommandException command:
                    // A refusal of the greeting, EHLO, STARTTLS or AUTH: the server we are told to
                    // use says no to the session, not to the message, so it is retried.
                    var code = (int)command.StatusCode;
                    var status = SmtpReply.AsTemporary(SmtpReply.StatusOf(code, command.Message));
                    if (command.ErrorCode == SmtpErrorCode.UnexpectedStatusCode && code == 530) status = "4.7.0";
                    return new SmtpFailure(DeliveryOutcome.Deferred, status, SmtpReply.Diagnostic(code, command.Message), "smtp");
                case SslHandshakeException _:
                case System.Security.Authentication.AuthenticationException _:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.7.0", "TLS handshake with " + where + " failed: " + FirstLine(ex.Message), Local);
                case AuthenticationException _:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.7.0", "authentication with " + where + " failed: " + FirstLine(ex.Message), Local);
                case ServiceNotAuthenticatedException _:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.7.0", "530 " + FirstLine(ex.Message), "smtp");
                case NotSupportedException _:
                    // STARTTLS required but not offered, or no AUTH mechanism in common.
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.7.0", where + ": " + FirstLine(ex.Message), Local);
                case SocketException socket:
                    return SocketFailure(socket, where, connecting);
                case IOException io when io.InnerException is SocketException inner:
                    return SocketFailure(inner, where, connecting);
                case IOException _:
                case SmtpProtocolException _:
                case TimeoutException _:
                case ServiceNotConnectedException _:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.4.2", "connection to " + where + " broken: " + FirstLine(ex.Message), Local);
                default:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.3.0", "internal error talking to " + where + ": " + ex.GetType().Name + ": " + FirstLine(ex.Message), Local);
            }
        }

        static SmtpFailure SocketFailure(SocketException ex, string where, bool connecting)
        {
            switch (ex.SocketErrorCode)
            {
                case SocketError.HostNotFound:
                case SocketError.TryAgain:
                case SocketError.NoData:
                case SocketError.NoRecovery:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.4.3", "cannot resolve " + where + ": " + FirstLine(ex.Message), Local);
                case SocketError.ConnectionRefused:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.4.1", "connection to " + where + " refused", Local);
                case SocketError.ConnectionReset:
                case SocketError.ConnectionAborted:
                case SocketError.Shutdown:
                    return new SmtpFailure(DeliveryOutcome.Deferred, "4.4.2", "connection to " + where + " broken: " + FirstLine(ex.Message), Local);
                default:
                    return new SmtpFailure(DeliveryOutcome.Deferred, connecting ? "4.4.1" : "4.4.2", "connection to " + where + ": " + FirstLine(ex.Message), Local);
            }
        }

        static string FirstLine(string text) => SmtpReply.OneLine((text ?? "").Split('\n')[0]);
    }
}
