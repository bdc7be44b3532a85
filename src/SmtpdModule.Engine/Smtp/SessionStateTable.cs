using System;
using System.Linq;
using static SmtpdModule.Engine.Smtp.SessionState;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// The receiver's sequencing rules in one place (RFC 5321 §4.1.4, §3.3; RFC 3207 §4.2): for
    /// every state and command, whether the command is accepted, the state it leads to when it
    /// takes effect, and otherwise the exact reply. Pure data and a lookup; the session asks once
    /// before it dispatches, so no handler checks sequence or picks a 503 of its own.
    /// </summary>
    internal sealed class SessionStateTable
    {
        // A cell of the plain half: Stay keeps the state, Go moves, No refuses with a reply.
        readonly struct Cell
        {
            public Cell(SessionState? next, SmtpReply refusal) { Next = next; Refusal = refusal; }
            public readonly SessionState? Next;
            public readonly SmtpReply Refusal;
        }

        static readonly Cell Stay = new Cell(null, null);
        static Cell Go(SessionState next) => new Cell(next, null);
        static Cell No(SmtpReply reply) => new Cell(null, reply);

        // The plain states, one column each: Connected, Greeted, MailGiven, RecipientsGiven. The
        // secured twins repeat them (see Build). Refusal texts are the ones clients have always had.
        static readonly (SmtpVerb Verb, Cell Connected, Cell Greeted, Cell Mail, Cell Rcpt)[] Rows =
        {
            // A (re)greeting ends any transaction, as RSET does (RFC 5321 §4.1.4).
            (SmtpVerb.Helo, Go(Greeted), Go(Greeted), Go(Greeted), Go(Greeted)),
            (SmtpVerb.Ehlo, Go(Greeted), Go(Greeted), Go(Greeted), Go(Greeted)),
            (SmtpVerb.Mail, No(Replies.BadSequenceNeedHelo), Go(MailGiven), No(Replies.BadSequenceNestedMail), No(Replies.BadSequenceNestedMail)),
            (SmtpVerb.Rcpt, No(Replies.BadSequenceNeedHelo), No(Replies.BadSequenceNeedMail), Go(RecipientsGiven), Go(RecipientsGiven)),
            // DATA with no accepted recipient: RFC 5321 §3.3 allows 503 or 554; 554 says why.
            (SmtpVerb.Data, No(Replies.BadSequenceNeedHelo), No(Replies.BadSequenceNeedMail), No(Replies.NoValidRecipients), Go(Greeted)),
            // Allowed in any state (RFC 5321 §4.1.4); RSET ends the transaction, not the greeting.
            (SmtpVerb.Rset, Stay, Stay, Go(Greeted), Go(Greeted)),
            (SmtpVerb.Noop, Stay, Stay, Stay, Stay),
            (SmtpVerb.Vrfy, Stay, Stay, Stay, Stay),
            (SmtpVerb.Help, Stay, Stay, Stay, Stay),
            (SmtpVerb.Quit, Stay, Stay, Stay, Stay),
            // Mid-transaction too: the handshake then discards the transaction (RFC 3207 §4.2).
            (SmtpVerb.StartTls, No(Replies.BadSequenceNeedHelo), Go(SecureConnected), Go(SecureConnected), Go(SecureConnected)),
            (SmtpVerb.Unknown, No(Replies.UnknownCommand), No(Replies.UnknownCommand), No(Replies.UnknownCommand), No(Replies.UnknownCommand)),
        };

        static readonly int StateCount = Enum.GetValues(typeof(SessionState)).Length;
        static readonly int VerbCount = Enum.GetValues(typeof(SmtpVerb)).Length;

        // After the rows and counts: static fields are set in the order they are written.
        /// <summary>The table of a proxy that offers STARTTLS.</summary>
        public static readonly SessionStateTable WithTls = new SessionStateTable(tlsOffered: true);

        /// <summary>The table of a proxy without a certificate: STARTTLS is refused everywhere.</summary>
        public static readonly SessionStateTable WithoutTls = new SessionStateTable(tlsOffered: false);

        public static SessionStateTable For(bool tlsOffered) => tlsOffered ? WithTls : WithoutTls;

        readonly SessionStep[,] _steps = new SessionStep[StateCount, VerbCount];

        SessionStateTable(bool tlsOffered)
        {
            // A verb without a row would read as accepted (a default step): refuse to start.
            if (Rows.Length != VerbCount || Rows.Select(r => r.Verb).Distinct().Count() != VerbCount)
                throw new InvalidOperationException("the session state table needs one row per SMTP verb");
            foreach (var row in Rows)
            {
                var cells = new[] { row.Connected, row.Greeted, row.Mail, row.Rcpt };
                for (int i = 0; i < cells.Length; i++)
                {
                    var plain = (SessionState)i;
                    Set(plain, row.Verb, cells[i], plain);
                    Set(Secured(plain), row.Verb, cells[i], Secured(plain));
                }
            }
            foreach (SessionState state in Enum.GetValues(typeof(SessionState)))
            {
                // Without a certificate there is nothing to start, whatever the state; once
                // secured, a second handshake is out of sequence.
                if (!tlsOffered) _steps[(int)state, (int)SmtpVerb.StartTls] = SessionStep.Refuse(state, Replies.StartTlsNotOffered);
                else if (IsSecure(state)) _steps[(int)state, (int)SmtpVerb.StartTls] = SessionStep.Refuse(state, Replies.TlsAlreadyActive);
            }
        }

        void Set(SessionState state, SmtpVerb verb, Cell cell, SessionState stay)
        {
            SessionState next = cell.Next ?? stay;
            if (IsSecure(state)) next = Secured(next);
            _steps[(int)state, (int)verb] = cell.Refusal != null ? SessionStep.Refuse(state, cell.Refusal) : SessionStep.To(next);
        }

        /// <summary>What <paramref name="verb"/> gets in <paramref name="state"/>.</summary>
        public SessionStep Lookup(SessionState state, SmtpVerb verb) => _steps[(int)state, (int)verb];

        public static bool IsSecure(SessionState state) => state >= SecureConnected;

        /// <summary>True when a sender is known: the transaction's envelope must be kept.</summary>
        public static bool InTransaction(SessionState state) => Plain(state) >= MailGiven;

        /// <summary>True when HELO or EHLO has been accepted since the session (re)started.</summary>
        public static bool IsGreeted(SessionState state) => Plain(state) != Connected;

        static SessionState Plain(SessionState state) => IsSecure(state) ? (SessionState)(state - SecureConnected) : state;

        static SessionState Secured(SessionState state) => IsSecure(state) ? state : state + (int)SecureConnected;
    }
}
