using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text.RegularExpressions;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Reads the MAIL and RCPT verdicts of Postfix's smtpd out of its syslog lines. A refusal is one
    /// line ("NOQUEUE: reject: RCPT from name[ip]: 554 5.7.1 ...; from=&lt;a&gt; to=&lt;b&gt; proto=ESMTP
    /// helo=&lt;h&gt;"). An accepted message is pieced together by queue id: smtpd's "client=name[ip]",
    /// qmgr's "from=&lt;sender&gt;", then a delivery agent's "to=&lt;x&gt;, orig_to=&lt;y&gt;, ... status=" for
    /// each recipient; the original recipient (orig_to, before aliases and rewriting) is what the
    /// client sent, and it is counted once however often its delivery is deferred and retried.
    /// </summary>
    /// <remarks>
    /// postscreen's RCPT refusals (action enforce) are imported too. Only mail smtpd received is
    /// imported: pickup (local sendmail) has no client= line, and mail a content filter hands back
    /// (client= with orig_queue_id= or orig_client=) was counted on its first pass. Postfix logs a client's name only when it is forward-confirmed, "unknown" otherwise.
    /// Postfix does not log the HELO of accepted mail, nor recipients a cleanup or milter refused after
    /// RCPT; recipients added by always_bcc or recipient_bcc_maps look like any other. A line that
    /// cannot be parsed is counted and passed over (<see cref="TrafficLogStats"/>).
    /// </remarks>
    public static class PostfixLogReader
    {
        const string Origin = "postfix";

        static readonly Regex QueueLine = new Regex(@"^(?<qid>NOQUEUE|[0-9A-Za-z]{5,20}): (?<rest>.*)$", RegexOptions.CultureInvariant | RegexOptions.Compiled);
        static readonly Regex Peer = new Regex(@"^(?<name>[^\s\[\]]*)\[(?:ipv6:)?(?<ip>[0-9A-Fa-f:.]+)\](?::\d+)?", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Compiled);
        static readonly Regex Reject = new Regex(@"^reject: (?<stage>RCPT|MAIL) from (?<peer>\S+): (?<rest>.*)$", RegexOptions.CultureInvariant | RegexOptions.Compiled);
        // smtpd separates the fields with spaces, postscreen with ", ".
        static readonly Regex Envelope = new Regex(@"^; from=<(?<from>.*?)>,?(?: to=<(?<to>.*?)>,?)?(?: proto=(?<proto>[^\s,]+),?)?(?: helo=<(?<helo>.*)>)?$", RegexOptions.CultureInvariant | RegexOptions.Compiled);
        static readonly Regex Reply = new Regex(@"^(?<code>[245]\d\d)[ -]", RegexOptions.CultureInvariant | RegexOptions.Compiled);
        static readonly Regex Sender = new Regex(@"^from=<(?<from>.*?)>, (?:size|nrcpt)=", RegexOptions.CultureInvariant | RegexOptions.Compiled);
        static readonly Regex Delivery = new Regex(@"^to=<(?<to>.*?)>, (?:orig_to=<(?<orig>.*?)>, )?", RegexOptions.CultureInvariant | RegexOptions.Compiled);

        /// <summary>The decision records in a Postfix log, read line by line as they are enumerated.</summary>
        /// <param name="reader">The log; read to its end, not disposed.</param>
        /// <param name="options">Year and zone of traditional stamps, bounds, statistics; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
        /// <exception cref="IOException">Reading failed.</exception>
        public static IEnumerable<DecisionRecord> Read(TextReader reader, TrafficLogOptions options = null)
        {
            if (reader == null) throw new ArgumentNullException(nameof(reader));
            return Read(TrafficLog.Lines(reader), options ?? new TrafficLogOptions());
        }

        internal static IEnumerable<DecisionRecord> Read(IEnumerable<string> lines, TrafficLogOptions options)
        {
            var stats = options.Stats ?? new TrafficLogStats();
            var clock = new SyslogClock(options.Year, options.TimeZone, options.Now ?? DateTimeOffset.UtcNow);
            var pending = new PendingMessages(options.MaxPendingMessages);
            var records = new List<DecisionRecord>();
            long number = 0;
            foreach (var line in lines)
            {
                number++;
                stats.Lines++;
                if (line.Length == 0) continue;
                string problem;
                if (!SyslogLine.TryParse(line, clock, out var syslog)) problem = "not a syslog line with a time stamp";
                else if (syslog.Tag.IndexOf('/') < 0) continue;   // another program's line (dovecot, the kernel)
                else problem = Take(syslog, pending, stats, records);
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

        /// <summary>Takes one Postfix line: adds its records, or says why it could not be read (null when fine or not of interest).</summary>
        static string Take(SyslogLine line, PendingMessages pending, TrafficLogStats stats, List<DecisionRecord> records)
        {
            var q = QueueLine.Match(line.Message);
            if (!q.Success) return null;   // connect from, disconnect from, warnings, statistics
            var qid = q.Groups["qid"].Value;
            var rest = q.Groups["rest"].Value;
            var key = line.Host + " " + line.Instance + " " + qid;
            var program = line.Program;

            // postscreen refuses RCPT itself when a client failed its tests and the action is "enforce".
            if ((program == "smtpd" || program == "postscreen") && rest.StartsWith("reject: ", StringComparison.Ordinal))
                return Refusal(line, qid == "NOQUEUE" ? null : qid, rest, records);
            if (qid == "NOQUEUE") return null;

            if (program == "smtpd" && rest.StartsWith("client=", StringComparison.Ordinal))
            {
                // A content filter's return trip: the message was counted on its way in.
                if (rest.IndexOf("orig_queue_id=", StringComparison.Ordinal) >= 0 || rest.IndexOf("orig_client=", StringComparison.Ordinal) >= 0) return null;
                if (!TryPeer(rest.Substring("client=".Length), out var client, out var name)) return "client= names no address";
                stats.Evicted += pending.Add(new PendingMessages.Entry(key, qid, line.Time, client, name));
                return null;
            }
            var entry = pending.Find(key);
            if (entry == null) return null;   // pickup, a bounce, or a message that came in before the log began
            if (program == "qmgr" && rest.StartsWith("from=<", StringComparison.Ordinal))
            {
                var s = Sender.Match(rest);
                if (!s.Success) return "qmgr's from= line is cut short";
                entry.From = ImportedRecord.Path(s.Groups["from"].Value);
                return null;
            }
            if (rest.StartsWith("to=<", StringComparison.Ordinal))
            {
                var d = Delivery.Match(rest);
                if (!d.Success) return "a delivery line without a recipient";
                if (entry.From == null) return null;   // qmgr's line was lost: the sender is unknown
                var original = d.Groups["orig"].Success ? d.Groups["orig"].Value : d.Groups["to"].Value;
                if (!entry.Seen.Add(original)) return null;
                records.Add(ImportedRecord.Make(Origin, entry.Time, entry.QueueId, PolicyStage.Rcpt, VerdictKind.Continue,
                    new[] { ImportedRecord.Accepted }, entry.Client, entry.Name, Evidence(entry.Name), null, false,
                    entry.From, ImportedRecord.Path(original)));
                return null;
            }
            if (program == "qmgr" && rest == "removed") pending.Remove(key);
            // cleanup or a milter refused the message after RCPT: it never reaches qmgr.
            else if (program == "cleanup" && (rest.StartsWith("reject: ", StringComparison.Ordinal) || rest.StartsWith("milter-reject: ", StringComparison.Ordinal)
                                              || rest.StartsWith("discard: ", StringComparison.Ordinal)))
                pending.Remove(key);
            return null;
        }

        /// <summary>smtpd's "reject: RCPT from name[ip]: reply; from=&lt;a&gt; to=&lt;b&gt; proto=P helo=&lt;h&gt;".</summary>
        static string Refusal(SyslogLine line, string qid, string text, List<DecisionRecord> records)
        {
            var m = Reject.Match(text);
            if (!m.Success) return null;   // CONNECT, HELO, DATA, VRFY, ETRN refusals: not a MAIL or RCPT verdict
            if (!TryPeer(m.Groups["peer"].Value.TrimEnd(':'), out var client, out var name)) return "reject names no client address";
            var rest = m.Groups["rest"].Value;
            // The reply may itself hold "; from=<" (a map's text, an address): the envelope is the first split that parses.
            Match envelope = null;
            int split = -1;
            for (int at = rest.IndexOf("; from=<", StringComparison.Ordinal); at >= 0; at = rest.IndexOf("; from=<", at + 1, StringComparison.Ordinal))
            {
                var e = Envelope.Match(rest.Substring(at));
                if (e.Success) { envelope = e; split = at; break; }
            }
            if (envelope == null) return "reject without from=<...>";
            var reply = rest.Substring(0, split);
            var code = Reply.Match(reply + " ");
            if (!code.Success) return "reject without an SMTP reply code";
            var kind = reply[0] == '4' ? VerdictKind.TempFail : reply[0] == '5' ? VerdictKind.Reject : (VerdictKind?)null;
            if (kind == null) return "reject with a reply that is not a refusal";
            var stage = m.Groups["stage"].Value == "MAIL" ? PolicyStage.Mail : PolicyStage.Rcpt;
            var to = envelope.Groups["to"].Success ? ImportedRecord.Path(envelope.Groups["to"].Value) : null;
            if (stage == PolicyStage.Rcpt && to == null) return "RCPT reject without to=<...>";
            var proto = envelope.Groups["proto"].Value;
            var helo = envelope.Groups["helo"].Success ? envelope.Groups["helo"].Value : null;
            // postscreen logs "[ip]:port" and looks up no name: whether the client had one is not in the log.
            var evidence = m.Groups["peer"].Value.StartsWith("[", StringComparison.Ordinal) ? ImportedRecord.NameEvidence.NotLogged : Evidence(name);
            records.Add(ImportedRecord.Make(Origin, line.Time, qid, stage, kind.Value, new[] { reply }, client, name, evidence,
                helo, string.Equals(proto, "ESMTP", StringComparison.OrdinalIgnoreCase), ImportedRecord.Path(envelope.Groups["from"].Value),
                stage == PolicyStage.Mail ? null : to));
            return null;
        }

        static ImportedRecord.NameEvidence Evidence(string name) => name == null ? ImportedRecord.NameEvidence.None : ImportedRecord.NameEvidence.Verified;

        /// <summary>"name[ip]": the address, and the name unless Postfix said "unknown".</summary>
        static bool TryPeer(string text, out IPAddress client, out string name)
        {
            client = null;
            name = null;
            var m = Peer.Match(text);
            if (!m.Success || !IPAddress.TryParse(m.Groups["ip"].Value, out client)) return false;
            var n = m.Groups["name"].Value;
            name = n.Length == 0 || string.Equals(n, "unknown", StringComparison.OrdinalIgnoreCase) ? null : n;
            return true;
        }
    }
}
