using System;
using System.Globalization;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The text of a <c>status/&lt;id&gt;.status</c> file, pure text in and out, in the same style
    /// and with the same escaping as the envelope header (<see cref="EnvelopeSerializer"/>):
    /// <code>
    /// smtpd-status 1
    /// attempts: 2
    /// first-attempt: 2025-01-02T03:04:05.1234567Z
    /// last-attempt: 2025-01-02T03:09:05.1234567Z
    /// next-attempt: 2025-01-02T03:24:05.1234567Z
    /// last-error: 451 4.3.0 Try again later
    /// released: 2025-01-02T03:00:00.0000000Z      (only after Resume-SmtpdSpoolItem)
    /// rcpt: 0 delivered 2025-01-02T03:04:06.0000000Z 2.0.0 250 2.0.0 Ok
    /// rcpt: 1 pending 2025-01-02T03:09:05.0000000Z 4.2.2 452 4.2.2 Mailbox full
    /// </code>
    /// A <c>rcpt</c> line is: the recipient's index in the envelope, its status, the time, the
    /// RFC 3463 code (or <c>-</c>), and the rest of the line is the diagnostic. Reading is strict;
    /// anything else is <see cref="SpoolErrorReason.Corrupt"/>.
    /// </summary>
    public static class DeliveryStatusSerializer
    {
        /// <summary>The first line of every status file; the number is the format version.</summary>
        public const string Header = "smtpd-status 1";

        const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";
        const int MaxRecipientIndex = 1_000_000;

        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public static void Write(TextWriter writer, DeliveryStatus status)
        {
            if (writer == null) throw new ArgumentNullException(nameof(writer));
            if (status == null) throw new ArgumentNullException(nameof(status));
            writer.Write(Header);
            writer.Write('\n');
            Line(writer, "attempts", status.Attempts.ToString(CultureInfo.InvariantCulture));
            Time(writer, "first-attempt", status.FirstAttempt);
            Time(writer, "last-attempt", status.LastAttempt);
            Time(writer, "next-attempt", status.NextAttempt);
            if (status.LastError != null) Line(writer, "last-error", status.LastError);
            Time(writer, "released", status.Released);
            foreach (var entry in status.Recipients)
            {
                var p = entry.Value;
                var text = entry.Key.ToString(CultureInfo.InvariantCulture) + " " + StatusWord(p.Status) + " "
                           + (p.Time.HasValue ? Format(p.Time.Value) : "-") + " "
                           + (string.IsNullOrEmpty(p.StatusCode) ? "-" : p.StatusCode.Replace(' ', '_'))
                           + (p.Diagnostic != null ? " " + p.Diagnostic : "");
                Line(writer, "rcpt", text);
            }
        }

        /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
        /// <exception cref="SpoolException">The text is not a status file (<see cref="SpoolErrorReason.Corrupt"/>).</exception>
        public static DeliveryStatus Read(TextReader reader)
        {
            if (reader == null) throw new ArgumentNullException(nameof(reader));
            if (reader.ReadLine() != Header) throw Corrupt(1, null);
            var status = new DeliveryStatus();
            string line;
            var number = 1;
            var sawAttempts = false;
            while ((line = reader.ReadLine()) != null)
            {
                number++;
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (colon <= 0) throw Corrupt(number, null);
                var key = line.Substring(0, colon);
                var value = EnvelopeSerializer.Unescape(line.Substring(colon + 2), number, key);
                switch (key)
                {
                    case "attempts":
                        if (sawAttempts || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var attempts))
                            throw Corrupt(number, key);
                        status.Attempts = attempts;
                        sawAttempts = true;
                        break;
                    case "first-attempt": status.FirstAttempt = ParseTime(value, number, key); break;
                    case "last-attempt": status.LastAttempt = ParseTime(value, number, key); break;
                    case "next-attempt": status.NextAttempt = ParseTime(value, number, key); break;
                    case "released": status.Released = ParseTime(value, number, key); break;
                    case "last-error": status.LastError = value; break;
                    case "rcpt": ParseRecipient(status, value, number); break;
                    default: break;   // a later version's field: ignored, as the envelope keeps unknown keys
                }
            }
            if (!sawAttempts) throw Corrupt(number, "attempts");
            return status;
        }

        static void ParseRecipient(DeliveryStatus status, string value, int number)
        {
            var parts = value.Split(new[] { ' ' }, 5);
            if (parts.Length < 4
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || index > MaxRecipientIndex || status.Recipients.ContainsKey(index))
                throw Corrupt(number, "rcpt");
            var progress = new RecipientProgress(ParseStatus(parts[1], number))
            {
                Time = parts[2] == "-" ? (DateTimeOffset?)null : ParseTime(parts[2], number, "rcpt"),
                StatusCode = parts[3] == "-" ? null : parts[3],
                Diagnostic = parts.Length == 5 ? parts[4] : null,
            };
            status.Recipients[index] = progress;
        }

        static string StatusWord(RecipientStatus s) =>
            s == RecipientStatus.Delivered ? "delivered" : s == RecipientStatus.Failed ? "failed" : "pending";

        static RecipientStatus ParseStatus(string word, int number)
        {
            switch (word)
            {
                case "delivered": return RecipientStatus.Delivered;
                case "failed": return RecipientStatus.Failed;
                case "pending": return RecipientStatus.Pending;
                default: throw Corrupt(number, "rcpt");
            }
        }

        static void Line(TextWriter writer, string key, string value)
        {
            writer.Write(key);
            writer.Write(": ");
            writer.Write(EnvelopeSerializer.Escape(value, inRecipient: false));
            writer.Write('\n');
        }

        static void Time(TextWriter writer, string key, DateTimeOffset? value)
        {
            if (value.HasValue) Line(writer, key, Format(value.Value));
        }

        static string Format(DateTimeOffset t) => t.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

        static DateTimeOffset ParseTime(string value, int number, string key)
        {
            if (!DateTime.TryParseExact(value, TimeFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                throw Corrupt(number, key);
            return new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        }

        static SpoolException Corrupt(int line, string key) => new SpoolException(null, SpoolErrorReason.Corrupt, line, key);
    }
}
