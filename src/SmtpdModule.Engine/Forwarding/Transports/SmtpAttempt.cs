using System;
using System.Collections.Generic;
using MimeKit;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// What one SMTP transaction has learnt so far, recipient by recipient: filled in by
    /// <see cref="RecordingSmtpClient"/> as replies arrive and closed by
    /// <see cref="SmtpTransport"/> once the transaction ends, however it ends.
    /// </summary>
    /// <remarks>
    /// MailKit sends one RCPT per distinct address (compared without regard to case), so
    /// duplicate recipients of the envelope share the RCPT of the first and get its result.
    /// </remarks>
    internal sealed class SmtpAttempt
    {
        readonly OutgoingMessage _message;
        readonly RecipientResult[] _results;
        readonly List<MailboxAddress> _mailboxes = new List<MailboxAddress>();
        readonly List<List<int>> _owners = new List<List<int>>();
        readonly bool[] _accepted;
        readonly bool[] _local;

        public SmtpAttempt(OutgoingMessage message)
        {
            _message = message;
            _results = new RecipientResult[message.Recipients.Count];
            _accepted = new bool[message.Recipients.Count];
            _local = new bool[message.Recipients.Count];
        }

        /// <summary>The distinct recipients to send RCPT for, in envelope order.</summary>
        public IReadOnlyList<MailboxAddress> Mailboxes => _mailboxes;

        /// <summary>A reply from the server has been read in this transaction (so the connection
        /// was alive when it started).</summary>
        public bool AnyReply { get; private set; }

        /// <summary>The server said 421: it is closing the connection.</summary>
        public bool ServerClosing { get; private set; }

        public int AcceptedCount { get; private set; }

        /// <summary>Adds a recipient that MailKit will send a RCPT for, or joins it to an earlier
        /// one with the same address.</summary>
        public void AddRecipient(int position, MailboxAddress mailbox)
        {
            for (var i = 0; i < _mailboxes.Count; i++)
                if (string.Equals(_mailboxes[i].Address, mailbox.Address, StringComparison.OrdinalIgnoreCase))
                {
                    _owners[i].Add(position);
                    return;
                }
            _mailboxes.Add(mailbox);
            _owners.Add(new List<int> { position });
        }

        /// <summary>A recipient that never reaches the wire (an address we cannot send).</summary>
        public void Resolve(int position, DeliveryOutcome outcome, string status, string diagnostic, string type)
        {
            _local[position] = true;
            _results[position] = new RecipientResult(_message.Recipients[position], outcome, status, diagnostic, type);
        }

        public void Replied(int code)
        {
            AnyReply = true;
            if (code == 421) ServerClosing = true;
        }

        public void RecipientReplied(MailboxAddress mailbox, int code, string text)
        {
            Replied(code);
            var index = IndexOf(mailbox);
            if (index < 0) return;
            var outcome = SmtpReply.OutcomeOf(code);
            foreach (var position in _owners[index])
            {
                if (outcome == DeliveryOutcome.Delivered)
                {
                    // Not delivered yet: only DATA's reply says that. Remember it was accepted.
                    _accepted[position] = true;
                    continue;
                }
                _results[position] = new RecipientResult(_message.Recipients[position], outcome,
                    SmtpReply.StatusOf(code, text), SmtpReply.Diagnostic(code, text));
            }
            if (outcome == DeliveryOutcome.Delivered) AcceptedCount++;
        }

        /// <summary>Every recipient sent gets this reply (MAIL FROM refused: nothing else counts).</summary>
        public void AllReplied(int code, string text)
        {
            Replied(code);
            for (var i = 0; i < _results.Length; i++)
                if (!_local[i])
                    _results[i] = new RecipientResult(_message.Recipients[i], SmtpReply.OutcomeOf(code),
                    SmtpReply.StatusOf(code, text), SmtpReply.Diagnostic(code, text));
        }

        /// <summary>The reply to DATA or to the final dot applies to the accepted recipients.</summary>
        public void AcceptedReplied(int code, string text)
        {
            Replied(code);
            for (var i = 0; i < _results.Length; i++)
                if (_accepted[i] && _results[i] == null)
                    _results[i] = new RecipientResult(_message.Recipients[i], SmtpReply.OutcomeOf(code),
                        SmtpReply.StatusOf(code, text), SmtpReply.Diagnostic(code, text));
        }

        /// <summary>Whoever has no final result yet (accepted but not delivered, or not answered)
        /// gets this one: the transaction ended without a word about them.</summary>
        public void ResolveRest(DeliveryOutcome outcome, string status, string diagnostic, string type)
        {
            for (var i = 0; i < _results.Length; i++)
                if (_results[i] == null)
                    _results[i] = new RecipientResult(_message.Recipients[i], outcome, status, diagnostic, type);
        }

        public RecipientResult[] Results() => (RecipientResult[])_results.Clone();

        int IndexOf(MailboxAddress mailbox)
        {
            for (var i = 0; i < _mailboxes.Count; i++)
                if (ReferenceEquals(_mailboxes[i], mailbox)) return i;
            for (var i = 0; i < _mailboxes.Count; i++)
                if (string.Equals(_mailboxes[i].Address, mailbox.Address, StringComparison.OrdinalIgnoreCase)) return i;
            return -1;
        }
    }
}
