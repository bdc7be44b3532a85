using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The envelope header of a message file, pure text in and out (no files, no clock):
    /// <code>
    /// smtpd-envelope 1
    /// id: 20250102T030405-abcdefghijklmnopqrstuvwx
    /// received: 2025-01-02T03:04:05.1234567Z
    /// client-address: 192.0.2.10
    /// client-name: mail.example.org      (absent: unknown)
    /// helo: mail.example.org             (absent: none given)
    /// from: &lt;a@example.org&gt;
    /// rcpt: &lt;b@example.com&gt;
    /// rcpt: &lt;c@example.com&gt;
    /// protocol: ESMTP
    /// body: 8BITMIME
    /// smtputf8: false
    /// (an empty line)
    /// </code>
    /// Lines end in LF and the text is UTF-8 without a byte order mark. The empty line ends the
    /// header; in a message file the message bytes follow it (<see cref="MessageFile"/>), so the
    /// header has no size: the reader derives it from the file's length. A value is everything after
    /// <c>key:</c> and one space. Values are escaped so that any text stays on its line:
    /// <c>%</c>, C0 controls (CR and LF among them), DEL and a trailing space become <c>%XX</c>
    /// (upper-case hex of the character, always below 0x80); inside a <c>rcpt</c> line <c>;</c>
    /// also becomes <c>%3B</c>, because there it separates the forward path from the
    /// recipient's parameters.
    /// <para>A recipient's parameters: <c>status=</c> (absent: pending), then its
    /// <see cref="RecipientProvenance"/>: <c>rules-sha256=</c> (64 lower-case hex digits),
    /// <c>rule-line=</c> (a decimal line number), <c>rule=</c> (the line's text, escaped as any value:
    /// a rule may hold <c>;</c>, <c>%</c> and spaces), <c>basis=</c> (a word, when no line decided)
    /// and <c>check-&lt;name&gt;=</c> per check; then the unknown ones. A value runs from the first
    /// <c>=</c> to the next raw <c>;</c>, so it may hold <c>=</c> and leading spaces.</para>
    /// </summary>
    /// <remarks>
    /// Reading is strict: any deviation throws <see cref="SpoolException"/> with reason
    /// <see cref="SpoolErrorReason.Corrupt"/>, so a damaged file is set aside rather than half
    /// delivered (reference §9: never silently drop); a header without its empty line is truncated
    /// and corrupt too. The one leniency is forward compatibility: unknown keys, and unknown
    /// recipient parameters, are kept in <see cref="Envelope.ExtraFields"/> and
    /// <see cref="EnvelopeRecipient.ExtraParameters"/> and written back after the known ones.
    /// </remarks>
    public static class EnvelopeSerializer
    {
        /// <summary>The first line of every envelope header; the number is the format version.</summary>
        public const string Header = "smtpd-envelope 1";

        const string ReceivedFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";
        const int MaxKeyLength = 64;
        const int MaxProtocolLength = 32;

        const string KeyId = "id", KeyReceived = "received", KeyClientAddress = "client-address",
            KeyClientName = "client-name", KeyHelo = "helo", KeyFrom = "from", KeyRcpt = "rcpt",
            KeyProtocol = "protocol", KeySize = "size", KeyBody = "body", KeySmtpUtf8 = "smtputf8",
            KeySeal = "seal";
        const string ParamStatus = "status";

        // "size" is known only to be refused: it was part of the format while envelope and body were
        // separate files, and must not come back as an extra field either.
        static readonly string[] KnownKeys =
        {
            KeyId, KeyReceived, KeyClientAddress, KeyClientName, KeyHelo, KeyFrom, KeyRcpt,
            KeyProtocol, KeySize, KeyBody, KeySmtpUtf8, KeySeal,
        };

        // Present in every envelope this version writes; a header without one of them is refused.
        static readonly string[] RequiredKeys =
        {
            KeyId, KeyReceived, KeyClientAddress, KeyFrom, KeyProtocol, KeyBody, KeySmtpUtf8,
        };

        /// <summary>Writes <paramref name="envelope"/> as a header, its closing empty line
        /// included. <see cref="Envelope.Size"/> is not written.</summary>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">The envelope cannot be written: no valid
        /// <see cref="Envelope.Id"/>, no <see cref="Envelope.From"/> or client address, no
        /// recipients, a protocol that is not a token, or an extra key or parameter that is
        /// malformed or collides with a known one.</exception>
        /// <exception cref="IOException">The writer failed.</exception>
        public static void Write(TextWriter writer, Envelope envelope)
        {
            if (writer == null) throw new ArgumentNullException(nameof(writer));
            Validate(envelope);

            // LF explicitly: TextWriter.NewLine is CRLF on Windows, and the file must not depend on
            // where it was written.
            writer.Write(Header);
            writer.Write('\n');
            Line(writer, KeyId, envelope.Id);
            Line(writer, KeyReceived, envelope.Received.UtcDateTime.ToString(ReceivedFormat, CultureInfo.InvariantCulture));
            Line(writer, KeyClientAddress, envelope.ClientAddress);
            if (envelope.ClientName != null) Line(writer, KeyClientName, envelope.ClientName);
            if (envelope.Helo != null) Line(writer, KeyHelo, envelope.Helo);
            Line(writer, KeyFrom, envelope.From);
            foreach (var r in envelope.Recipients)
            {
                writer.Write(KeyRcpt);
                writer.Write(": ");
                writer.Write(Escape(r.Address, inRecipient: true));
                if (r.Status != RecipientStatus.Pending)
                {
                    writer.Write("; " + ParamStatus + "=");
                    writer.Write(r.Status == RecipientStatus.Delivered ? "delivered" : "failed");
                }
                if (r.Provenance != null) ProvenanceParameters.Write(writer, r.Provenance);
                foreach (var p in r.ExtraParameters) Parameter(writer, p.Key, p.Value);
                writer.Write('\n');
            }
            Line(writer, KeyProtocol, envelope.Protocol);
            Line(writer, KeyBody, envelope.Body == EnvelopeBodyType.EightBitMime ? "8BITMIME" : "7BIT");
            Line(writer, KeySmtpUtf8, envelope.SmtpUtf8 ? "true" : "false");
            foreach (var f in envelope.ExtraFields)
                Line(writer, f.Key, f.Value ?? "");
            writer.Write('\n');
        }

        /// <summary>Reads one envelope header, up to and including its empty line; the reader is
        /// left just after that line (in a message file, at the message bytes). Does not check that
        /// the id matches any file name; the spool reader does. <see cref="Envelope.Size"/> stays 0.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
        /// <exception cref="SpoolException">The text is not a well-formed envelope
        /// (<see cref="SpoolErrorReason.Corrupt"/>, with <see cref="SpoolException.Line"/> and
        /// <see cref="SpoolException.Key"/>).</exception>
        /// <exception cref="IOException">The reader failed.</exception>
        public static Envelope Read(TextReader reader)
        {
            if (reader == null) throw new ArgumentNullException(nameof(reader));

            var header = reader.ReadLine();
            if (header != Header) throw Corrupt(1, null);

            var envelope = new Envelope();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var lineNumber = 1;
            while (true)
            {
                var line = reader.ReadLine();
                lineNumber++;
                // No empty line: the header was cut short (a message file always has one).
                if (line == null) throw Corrupt(lineNumber, null);
                if (line.Length == 0) break;
                var colon = line.IndexOf(':');
                if (colon <= 0) throw Corrupt(lineNumber, null);
                var key = line.Substring(0, colon);
                if (!IsKey(key)) throw Corrupt(lineNumber, null);
                var raw = line.Substring(colon + 1);
                if (raw.Length > 0 && raw[0] == ' ') raw = raw.Substring(1);

                if (key == KeyRcpt)
                {
                    envelope.Recipients.Add(ParseRecipient(raw, lineNumber));
                    continue;
                }
                if (Array.IndexOf(KnownKeys, key) < 0)
                {
                    envelope.ExtraFields.Add(new KeyValuePair<string, string>(key, Unescape(raw, lineNumber, key)));
                    continue;
                }
                if (!seen.Add(key)) throw Corrupt(lineNumber, key);   // a known key twice: which one wins?

                var value = Unescape(raw, lineNumber, key);
                switch (key)
                {
                    case KeyId:
                        if (!SpoolId.IsValid(value)) throw Corrupt(lineNumber, key);
                        envelope.Id = value;
                        break;
                    case KeyReceived:
                        if (!DateTimeOffset.TryParseExact(value, ReceivedFormat, CultureInfo.InvariantCulture,
                                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var received))
                            throw Corrupt(lineNumber, key);
                        envelope.Received = received;
                        break;
                    case KeyClientAddress: envelope.ClientAddress = value; break;
                    case KeyClientName: envelope.ClientName = value; break;
                    case KeyHelo: envelope.Helo = value; break;
                    case KeyFrom: envelope.From = value; break;
                    case KeyProtocol:
                        if (!IsProtocol(value)) throw Corrupt(lineNumber, key);
                        envelope.Protocol = value;
                        break;
                    case KeySeal:
                        // The writer's mark of a complete file (MessageSeal), checked only when a
                        // crash leaves the file in incoming/, and where the message ends.
                        if (!MessageSeal.IsWellFormed(value)) throw Corrupt(lineNumber, key);
                        envelope.SealedLength = MessageSeal.StatedLength(value);
                        break;
                    case KeySize:
                        // The size is the file's length minus the header's; a stated one could only
                        // disagree with it.
                        throw Corrupt(lineNumber, key);
                    case KeyBody:
                        if (value == "7BIT") envelope.Body = EnvelopeBodyType.SevenBit;
                        else if (value == "8BITMIME") envelope.Body = EnvelopeBodyType.EightBitMime;
                        else throw Corrupt(lineNumber, key);
                        break;
                    case KeySmtpUtf8:
                        if (value == "true") envelope.SmtpUtf8 = true;
                        else if (value == "false") envelope.SmtpUtf8 = false;
                        else throw Corrupt(lineNumber, key);
                        break;
                }
            }

            foreach (var key in RequiredKeys)
                if (!seen.Contains(key)) throw Corrupt(0, key);
            if (envelope.Recipients.Count == 0) throw Corrupt(0, KeyRcpt);
            return envelope;
        }

        /// <summary>The checks <see cref="Write"/> makes, for callers that want them before
        /// touching any file.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="envelope"/> is null.</exception>
        /// <exception cref="ArgumentException">See <see cref="Write"/>.</exception>
        internal static void Validate(Envelope envelope)
        {
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            if (!SpoolId.IsValid(envelope.Id)) throw new ArgumentException("The envelope has no valid id.", nameof(envelope));
            if (envelope.ClientAddress == null) throw new ArgumentException("The envelope has no client address.", nameof(envelope));
            if (envelope.From == null) throw new ArgumentException("The envelope has no reverse path.", nameof(envelope));
            if (envelope.Recipients.Count == 0) throw new ArgumentException("The envelope has no recipients.", nameof(envelope));
            if (!IsProtocol(envelope.Protocol)) throw new ArgumentException("The envelope's protocol is not a token.", nameof(envelope));
            foreach (var r in envelope.Recipients)
            {
                if (r == null) throw new ArgumentException("The envelope has a null recipient.", nameof(envelope));
                foreach (var p in r.ExtraParameters)
                    if (!IsKey(p.Key) || p.Key == ParamStatus || ProvenanceParameters.Owns(p.Key))
                        throw new ArgumentException("Bad recipient parameter name: " + p.Key, nameof(envelope));
            }
            foreach (var f in envelope.ExtraFields)
                if (!IsKey(f.Key) || Array.IndexOf(KnownKeys, f.Key) >= 0)
                    throw new ArgumentException("Bad extra key: " + f.Key, nameof(envelope));
        }

        /// <summary>Keys and parameter names: a lower-case letter, then lower-case letters, digits
        /// and <c>-</c>, at most 64 characters.</summary>
        internal static bool IsKey(string key)
        {
            if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength || key[0] < 'a' || key[0] > 'z') return false;
            foreach (var c in key)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
            return true;
        }

        internal static void Parameter(TextWriter writer, string name, string value)
        {
            writer.Write("; ");
            writer.Write(name);
            writer.Write('=');
            writer.Write(Escape(value ?? "", inRecipient: true));
        }

        static bool IsProtocol(string value)
        {
            if (string.IsNullOrEmpty(value) || value.Length > MaxProtocolLength) return false;
            foreach (var c in value)
                if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
            return true;
        }

        static EnvelopeRecipient ParseRecipient(string raw, int lineNumber)
        {
            // Split before unescaping: a ';' inside the path was written as %3B, so every raw ';'
            // is a separator.
            var parts = raw.Split(';');
            var recipient = new EnvelopeRecipient(Unescape(parts[0], lineNumber, KeyRcpt));
            var statusSeen = false;
            ProvenanceParameters.Reader why = null;
            for (var i = 1; i < parts.Length; i++)
            {
                var part = parts[i].TrimStart(' ');
                var eq = part.IndexOf('=');
                if (eq <= 0) throw Corrupt(lineNumber, KeyRcpt);
                var name = part.Substring(0, eq);
                if (!IsKey(name)) throw Corrupt(lineNumber, KeyRcpt);
                var value = Unescape(part.Substring(eq + 1), lineNumber, KeyRcpt);
                if (ProvenanceParameters.Owns(name))
                {
                    if (why == null) why = new ProvenanceParameters.Reader();
                    if (!why.Take(name, value)) throw Corrupt(lineNumber, KeyRcpt);
                    continue;
                }
                if (name != ParamStatus)
                {
                    recipient.ExtraParameters.Add(new KeyValuePair<string, string>(name, value));
                    continue;
                }
                if (statusSeen) throw Corrupt(lineNumber, KeyRcpt);
                statusSeen = true;
                switch (value)
                {
                    case "pending": recipient.Status = RecipientStatus.Pending; break;
                    case "delivered": recipient.Status = RecipientStatus.Delivered; break;
                    case "failed": recipient.Status = RecipientStatus.Failed; break;
                    default: throw Corrupt(lineNumber, KeyRcpt);
                }
            }
            if (why != null) recipient.Provenance = why.ToProvenance();
            return recipient;
        }

        static void Line(TextWriter writer, string key, string value)
        {
            writer.Write(key);
            writer.Write(": ");
            writer.Write(Escape(value, inRecipient: false));
            writer.Write('\n');
        }

        internal static string Escape(string value, bool inRecipient)
        {
            StringBuilder sb = null;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                // A trailing space is escaped so that an editor trimming lines cannot change a value.
                var escape = c < 0x20 || c == 0x7F || c == '%' || (inRecipient && c == ';')
                             || (c == ' ' && i == value.Length - 1);
                if (!escape)
                {
                    sb?.Append(c);
                    continue;
                }
                if (sb == null) sb = new StringBuilder(value, 0, i, value.Length + 8);
                sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            return sb == null ? value : sb.ToString();
        }

        internal static string Unescape(string raw, int lineNumber, string key)
        {
            StringBuilder sb = null;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                // We never write raw controls; finding one means the file is not ours, or damaged.
                if (c < 0x20 || c == 0x7F) throw Corrupt(lineNumber, key);
                if (c != '%')
                {
                    sb?.Append(c);
                    continue;
                }
                if (i + 2 >= raw.Length) throw Corrupt(lineNumber, key);
                var hi = Hex(raw[i + 1]);
                var lo = Hex(raw[i + 2]);
                // Only ASCII is ever escaped, so a %XX above 7F is not something we wrote (and would
                // be ambiguous: a character, or a UTF-8 byte?).
                if (hi < 0 || lo < 0 || hi > 7) throw Corrupt(lineNumber, key);
                if (sb == null) sb = new StringBuilder(raw, 0, i, raw.Length);
                sb.Append((char)(hi * 16 + lo));
                i += 2;
            }
            return sb == null ? raw : sb.ToString();
        }

        static int Hex(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        }

        static SpoolException Corrupt(int line, string key) =>
            new SpoolException(null, SpoolErrorReason.Corrupt, line, key);
    }
}
