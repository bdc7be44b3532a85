using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding.Bounces
{
    /// <summary>
    /// Whether a permanent failure is reported to the sender. One rule only: a message whose
    /// reverse path is the null path <c>&lt;&gt;</c> is never bounced (RFC 5321 §4.5.5 and §6.1,
    /// RFC 3464 §1): such mail is itself a notification, and answering it is how two servers end
    /// up bouncing bounces at each other. The failure is still logged and the recipient marked
    /// failed; it is only the notification that is dropped.
    /// </summary>
    /// <remarks>
    /// Guessing from the sender's name (<c>MAILER-DAEMON@</c>, <c>postmaster@</c>) is left out on
    /// purpose: the null path is the signal the RFCs define, a real person may own such a mailbox,
    /// and our own bounces already travel with <c>&lt;&gt;</c>, which is what closes the loop.
    /// </remarks>
    public static class BouncePolicy
    {
        /// <summary>Whether a failure of mail sent with reverse path <paramref name="reversePath"/>
        /// gets a bounce.</summary>
        /// <param name="reversePath">The reverse path as spooled (<c>&lt;a@b&gt;</c>, <c>&lt;&gt;</c>)
        /// or bare (<c>a@b</c>).</param>
        /// <returns>False for the null path, and for a missing or blank one (there is nobody to
        /// send to); true otherwise.</returns>
        public static bool ShouldBounce(string reversePath) =>
            EnvelopeAddress.Bare(reversePath).Trim().Length != 0;

        /// <summary>Whether a failure of the message with envelope <paramref name="envelope"/>
        /// gets a bounce; see <see cref="ShouldBounce(string)"/>.</summary>
        /// <returns>False when <paramref name="envelope"/> is null or its sender is the null path.</returns>
        public static bool ShouldBounce(Envelope envelope) =>
            envelope != null && ShouldBounce(envelope.From);
    }
}
