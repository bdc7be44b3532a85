using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Everything about a spooled message except its bytes: who sent it, from where, to whom, and
    /// how. Stored as the header of the message file <c>&lt;id&gt;.msg</c>, in the text form of
    /// <see cref="EnvelopeSerializer"/>, ahead of the body, so the forwarder and the cmdlets never
    /// read a body to list the queue.
    /// </summary>
    public sealed class Envelope
    {
        /// <summary>The spool id; <see cref="SpoolWriter.BeginMessage"/> fills it in.</summary>
        public string Id { get; set; }

        /// <summary>When the message was accepted; written in UTC with seven fractional digits.</summary>
        public DateTimeOffset Received { get; set; }

        /// <summary>The client's IP address as text.</summary>
        public string ClientAddress { get; set; }

        /// <summary>The client's verified host name; null when unknown (the rules' <c>UNKNOWN</c>).</summary>
        public string ClientName { get; set; }

        /// <summary>The HELO/EHLO argument; null when the client gave none.</summary>
        public string Helo { get; set; }

        /// <summary>The reverse path as received, angle brackets included: <c>&lt;a@b&gt;</c>, or
        /// <c>&lt;&gt;</c> for the null sender.</summary>
        public string From { get; set; }

        /// <summary>Accepted recipients in the order accepted, duplicates included (reference §5.1).</summary>
        public IList<EnvelopeRecipient> Recipients { get; } = new List<EnvelopeRecipient>();

        /// <summary>The <c>with</c> protocol of the Received header: <c>SMTP</c>, <c>ESMTP</c>,
        /// <c>ESMTPS</c>, <c>ESMTPSA</c> (RFC 3848), or another upper-case token.</summary>
        public string Protocol { get; set; } = "SMTP";

        /// <summary>The length of the message bytes (the body of the message file, after the
        /// header). Not stored: <see cref="SpoolWriter.CommitAsync"/> and <see cref="SpoolReader"/>
        /// fill it in.</summary>
        public long Size { get; set; }

        /// <summary>The message file's length its seal states (<see cref="MessageSeal"/>); 0 when it
        /// has none. The file may be longer after a crash: a slot's zeros the cut did not remove.</summary>
        internal long SealedLength { get; set; }

        public EnvelopeBodyType Body { get; set; } = EnvelopeBodyType.SevenBit;

        /// <summary>The client asked for SMTPUTF8 (RFC 6531).</summary>
        public bool SmtpUtf8 { get; set; }

        /// <summary>Keys this version does not know, in file order, kept so that a file written by a
        /// later version survives being read and written here.</summary>
        public IList<KeyValuePair<string, string>> ExtraFields { get; } = new List<KeyValuePair<string, string>>();

        public override string ToString() => Id ?? "(uncommitted)";
    }
}
