namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// What a sendmail-compatible program's exit status means (sysexits.h), after the reference's
    /// §5.2 table with its §9 fixes: the temporary codes are retried as smtpfwdd did, EX_CONFIG is
    /// retried too instead of stopping the forwarder, and a signal is retried instead of losing
    /// the message.
    /// </summary>
    internal static class SendmailExitStatus
    {
        public const int Ok = 0;

        /// <summary>The sysexits.h name of <paramref name="code"/>, or null.</summary>
        public static string Name(int code)
        {
            switch (code)
            {
                case 0: return "EX_OK";
                case 64: return "EX_USAGE";
                case 65: return "EX_DATAERR";
                case 66: return "EX_NOINPUT";
                case 67: return "EX_NOUSER";
                case 68: return "EX_NOHOST";
                case 69: return "EX_UNAVAILABLE";
                case 70: return "EX_SOFTWARE";
                case 71: return "EX_OSERR";
                case 72: return "EX_OSFILE";
                case 73: return "EX_CANTCREAT";
                case 74: return "EX_IOERR";
                case 75: return "EX_TEMPFAIL";
                case 76: return "EX_PROTOCOL";
                case 77: return "EX_NOPERM";
                case 78: return "EX_CONFIG";
                default: return null;
            }
        }

        /// <summary>The outcome and RFC 3463 status for an exit code.</summary>
        public static (DeliveryOutcome Outcome, string Status) Meaning(int code)
        {
            switch (code)
            {
                case 0: return (DeliveryOutcome.Delivered, "2.0.0");
                case 67: return (DeliveryOutcome.Failed, "5.1.1");
                case 69:
                case 71:
                case 72:
                case 74:
                case 75: return (DeliveryOutcome.Deferred, "4.3.0");
                // reference §5.2: smtpfwdd stopped altogether; the message is kept and retried.
                case 78: return (DeliveryOutcome.Deferred, "4.3.5");
                default: return (DeliveryOutcome.Failed, "5.3.0");
            }
        }
    }
}
