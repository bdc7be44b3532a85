using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Reads the recipients Exchange accepted over SMTP out of its message tracking log
    /// (MSGTRK*.LOG): '#' header lines (#Software, #Version, #Log-type, #Date, #Fields), then one
    /// CSV row per event. Columns are found by the names in the #Fields line, and a later #Fields
    /// line changes them. Each RECEIVE event whose source is SMTP gives one record per recipient;
    /// other events (STOREDRIVER submissions, DELIVER, SEND, AGENT ...) are not a client's RCPT.
    /// </summary>
    /// <remarks>
    /// The envelope sender is return-path (MAIL FROM; "&lt;&gt;" for the null sender); sender-address is
    /// the From:/Sender: header, used only when a file has no return-path. client-hostname is the
    /// name the client gave in EHLO/HELO, which Exchange neither looks up nor confirms: it becomes the
    /// record's HELO, never its client name, and the record holds no reverse-DNS facts (a replay asks
    /// its fallback, or lists the lookup as unrecorded). A RECEIVE from a private or loopback address
    /// (a front end passing mail on) uses original-client-ip when that is a public address.
    /// Exchange's tracking log holds accepted mail only: SMTP refusals are in the receive protocol
    /// log, and the agent log records only what transport agents acted on, so neither is imported.
    /// </remarks>
    public static class ExchangeTrackingLogReader
    {
        const string Origin = "exchange";

        /// <summary>The decision records in a message tracking log, read line by line as they are enumerated.</summary>
        /// <param name="reader">The log; read to its end, not disposed.</param>
        /// <param name="options">Statistics and the skipped-line callback; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
        /// <exception cref="FormatException">The header says the file is another Exchange log (agent, protocol).</exception>
        /// <exception cref="IOException">Reading failed.</exception>
        public static IEnumerable<DecisionRecord> Read(TextReader reader, TrafficLogOptions options = null)
        {
            if (reader == null) throw new ArgumentNullException(nameof(reader));
            return Read(TrafficLog.Lines(reader), options ?? new TrafficLogOptions());
        }

        internal static IEnumerable<DecisionRecord> Read(IEnumerable<string> lines, TrafficLogOptions options)
        {
            var stats = options.Stats ?? new TrafficLogStats();
            Dictionary<string, int> columns = null;
            var fields = new List<string>();
            var records = new List<DecisionRecord>();
            long number = 0;
            foreach (var raw in lines)
            {
                number++;
                stats.Lines++;
                // Every file starts with a BOM, so files joined end to end (type MSGTRK*.LOG) have one on each header.
                var line = raw.TrimStart('\uFEFF');
                if (line.Length == 0) continue;
                string problem;
                if (line[0] == '#')
                {
                    problem = null;
                    if (Header(line, "#Fields:", out var names)) columns = Columns(names);
                    else if (Header(line, "#Log-type:", out var type) && !type.Trim().Equals("Message Tracking Log", StringComparison.OrdinalIgnoreCase))
                        throw new FormatException("This is an Exchange '" + type.Trim() + "', not a message tracking log: "
                            + (type.IndexOf("Agent", StringComparison.OrdinalIgnoreCase) >= 0
                                ? "the agent log records only what transport agents acted on, not every recipient a client sent."
                                : "only the message tracking log (MSGTRK*.LOG) is imported."));
                }
                else if (columns == null) problem = "an event before any #Fields header";
                else if (!CsvLine.TrySplit(line, fields)) problem = "a quoted field is not closed";
                else problem = Take(fields, columns, records);
                if (problem != null)
                {
                    options.Skip(stats, number, line, problem);
                    continue;
                }
                foreach (var r in records)
                {
                    stats.Records++;
                    yield return r;
                }
                records.Clear();
            }
        }

        static bool Header(string line, string name, out string value)
        {
            value = null;
            if (!line.StartsWith(name, StringComparison.OrdinalIgnoreCase)) return false;
            value = line.Substring(name.Length);
            return true;
        }

        /// <summary>Exchange separates the names with commas; a W3C-style file with spaces is read too.</summary>
        static Dictionary<string, int> Columns(string names)
        {
            var list = names.IndexOf(',') >= 0 ? names.Split(',') : names.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < list.Length; i++)
            {
                var n = list[i].Trim();
                if (n.Length > 0 && !columns.ContainsKey(n)) columns[n] = i;
            }
            return columns;
        }

        static string Field(List<string> fields, Dictionary<string, int> columns, string name) =>
            columns.TryGetValue(name, out var i) && i < fields.Count ? fields[i].Trim() : null;

        /// <summary>One event: adds its records, or says why it could not be read (null when fine or not of interest).</summary>
        static string Take(List<string> fields, Dictionary<string, int> columns, List<DecisionRecord> records)
        {
            var eventId = Field(fields, columns, "event-id");
            var source = Field(fields, columns, "source");
            if (eventId == null || source == null) return "no event-id or source column";
            if (!eventId.Equals("RECEIVE", StringComparison.OrdinalIgnoreCase) || !source.Equals("SMTP", StringComparison.OrdinalIgnoreCase)) return null;

            var stamp = Field(fields, columns, "date-time");
            if (string.IsNullOrEmpty(stamp) || !DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                return "no date-time";
            if (!IPAddress.TryParse(Field(fields, columns, "client-ip") ?? "", out var client)) return "no client-ip";
            var helo = Field(fields, columns, "client-hostname");
            if (IsInternal(client) && IPAddress.TryParse(Field(fields, columns, "original-client-ip") ?? "", out var original) && !IsInternal(original))
            {
                // A front end's hop: the client that connected is the original one, and the EHLO name is the front end's.
                client = original;
                helo = null;
            }
            var returnPath = Field(fields, columns, "return-path");
            var from = ImportedRecord.Path(string.IsNullOrEmpty(returnPath) ? Field(fields, columns, "sender-address") : returnPath);
            var session = Field(fields, columns, "message-id");
            if (string.IsNullOrEmpty(session)) session = Field(fields, columns, "internal-message-id");
            var recipients = Field(fields, columns, "recipient-address");
            if (string.IsNullOrEmpty(recipients)) return "a RECEIVE without recipient-address";
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var part in recipients.Split(';'))
            {
                var to = part.Trim();
                if (to.Length == 0 || !seen.Add(to)) continue;
                records.Add(ImportedRecord.Make(Origin, time, session, PolicyStage.Rcpt, VerdictKind.Continue, new[] { ImportedRecord.Accepted },
                    client, null, ImportedRecord.NameEvidence.NotLogged, string.IsNullOrEmpty(helo) || helo.IndexOf(' ') >= 0 ? null : helo,
                    false, from, ImportedRecord.Path(to)));
            }
            return null;
        }

        /// <summary>Loopback, RFC 1918, link-local and unique local addresses: a hop inside the organisation.</summary>
        static bool IsInternal(IPAddress address)
        {
            var peer = new PeerAddress(address);
            if (IPAddress.IsLoopback(peer.Address)) return true;
            var b = peer.Address.GetAddressBytes();
            if (!peer.IsIPv6)
                return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
            return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
        }
    }
}
