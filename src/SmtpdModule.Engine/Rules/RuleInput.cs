using System;
using System.Net;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// One RCPT check as the rules see it (reference §1.7): the peer address, its verified
    /// reverse name (null = UNKNOWN), the sender and the recipient as sent. The HELO name is
    /// carried for logs and replies but no rule looks at it. Everything derived is computed once
    /// here, so evaluating allocates nothing.
    /// </summary>
    public sealed class RuleInput
    {
        /// <param name="clientAddress">The peer's IP address.</param>
        /// <param name="clientName">The peer's verified reverse name; null for UNKNOWN.</param>
        /// <param name="from">The sender as given in MAIL FROM.</param>
        /// <param name="to">The recipient as given in RCPT TO.</param>
        /// <param name="helo">The HELO name, for logs and replies only.</param>
        /// <param name="reverseLookupNote">How <paramref name="clientName"/> was found (or why there is none), for the decision's reader.</param>
        /// <param name="reverseLookupFailed">The reverse lookup could not complete (timeout, SERVFAIL): whether the
        /// client has a name is unknown, so every rule test of the name is uncertain.</param>
        public RuleInput(IPAddress clientAddress, string clientName, string from, string to, string helo = null, string reverseLookupNote = null,
                         bool reverseLookupFailed = false)
            : this(new PeerAddress(clientAddress ?? throw new ArgumentNullException(nameof(clientAddress))),
                   clientName, new MailboxText(from), new MailboxText(to), helo, reverseLookupNote, reverseLookupFailed)
        {
            // Now, unless the caller says when; a session's checks set their clock's time (no clock read here).
            Time = DateTimeOffset.UtcNow;
        }

        /// <summary>A session's check: its peer is already in the compared form, not made again for every recipient.</summary>
        internal static RuleInput OfSession(PeerAddress client, string clientName, string from, string to, string helo, string reverseLookupNote, bool reverseLookupFailed) =>
            new RuleInput(client ?? throw new ArgumentNullException(nameof(client)), clientName, new MailboxText(from), new MailboxText(to), helo, reverseLookupNote, reverseLookupFailed);

        /// <summary>A session's check of addresses it has parsed (<see cref="MailboxText.Of"/>).</summary>
        internal static RuleInput OfSession(PeerAddress client, string clientName, MailboxText from, MailboxText to, string helo, string reverseLookupNote, bool reverseLookupFailed) =>
            new RuleInput(client ?? throw new ArgumentNullException(nameof(client)), clientName, from, to, helo, reverseLookupNote, reverseLookupFailed);

        RuleInput(PeerAddress client, string clientName, MailboxText from, MailboxText to, string helo, string note, bool reverseFailed)
        {
            ReverseLookupFailed = reverseFailed && string.IsNullOrEmpty(clientName);
            ReverseLookupNote = note;
            Client = client;
            ClientName = string.IsNullOrEmpty(clientName) ? null : PeerText.CleanName(clientName);
            NameLooksLikeAddress = PeerText.LooksLikeIPAddress(ClientName);
            From = from;
            To = to;
            Helo = helo == null ? null : PeerText.CleanName(helo);
        }

        string _reverseZoneName;

        public PeerAddress Client { get; }
        /// <summary>When the check runs: greylisting measures a retry's wait by it, and a replay sets the
        /// time the record was made.</summary>
        public DateTimeOffset Time { get; internal set; }
        /// <summary>The cleaned, verified reverse name; null when the peer has none (UNKNOWN).</summary>
        public string ClientName { get; }
        /// <summary>The reverse name parses as an IP address: only the IP matcher applies (reference §2.2 b1).</summary>
        public bool NameLooksLikeAddress { get; }
        public MailboxText From { get; }
        public MailboxText To { get; }
        public string Helo { get; }
        /// <summary>What NS= on a peer without a name asks: its in-addr.arpa./ip6.arpa. name (trailing dot: the
        /// walk may reach arpa.). Made when a line asks for it, which few do.</summary>
        internal string ReverseZoneName => _reverseZoneName ?? (_reverseZoneName = ReverseNames.ReverseName(Client.Address) + ".");
        /// <summary>The reverse lookup failed, so the client's name (or its absence) is not known.</summary>
        public bool ReverseLookupFailed { get; }
        /// <summary>How the reverse name was found, or why there is none; null when it was given.</summary>
        public string ReverseLookupNote { get; }

        /// <summary>The protocol tests the client failed in this session (<c>FAILED=</c> tokens test them).</summary>
        public ProtocolTests FailedTests { get; internal set; }

        /// <summary>The same transaction for another recipient.</summary>
        public RuleInput WithRecipient(string to) =>
            new RuleInput(Client, ClientName, From, new MailboxText(to), Helo, ReverseLookupNote, ReverseLookupFailed) { FailedTests = FailedTests, Time = Time };

        /// <summary>The same transaction of a client that failed <paramref name="tests"/>.</summary>
        public RuleInput WithFailedTests(ProtocolTests tests) =>
            new RuleInput(Client, ClientName, From, To, Helo, ReverseLookupNote, ReverseLookupFailed) { FailedTests = tests, Time = Time };

        /// <summary>The same check, run at <paramref name="time"/>.</summary>
        public RuleInput WithTime(DateTimeOffset time) =>
            new RuleInput(Client, ClientName, From, To, Helo, ReverseLookupNote, ReverseLookupFailed) { FailedTests = FailedTests, Time = time };
    }
}
