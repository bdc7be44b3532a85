using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Evidence for a rules change: the MAIL and RCPT verdicts a mail server logged, as
    /// <see cref="DecisionRecord"/>s that <see cref="DecisionReplay"/> decides again under candidate
    /// rules. Reads this proxy's own log, or imports Postfix's maillog or Exchange's message tracking
    /// log, so an administrator moving from either can replay their own traffic. Reading streams:
    /// records come as the file is read, and a log of gigabytes is never held whole.
    /// </summary>
    /// <remarks>
    /// Imported records carry what the other server logged and no more: their <see cref="DecisionRecord.Basis"/>
    /// is "Imported", their Reason "imported from postfix" or "imported from exchange", and their
    /// facts are only those the log implies (a client's confirmed name as its PTR and A/AAAA answers).
    /// </remarks>
    public static class TrafficLog
    {
        /// <summary>How many non-empty lines format detection reads before it gives up.</summary>
        public const int DetectionLines = 200;

        /// <summary>The records in the log at <paramref name="path"/>, read as they are enumerated.</summary>
        /// <param name="path">The log file; it may be growing (opened with read, write and delete sharing).</param>
        /// <param name="format">The log's format; null to tell it from the first lines (<see cref="Detect(string)"/>).</param>
        /// <param name="options">Year and zone of Postfix stamps, bounds, statistics; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
        /// <exception cref="FormatException">While enumerating: the format cannot be told, or (this proxy's
        /// log) a line is not a record, or (Exchange) the file is another Exchange log.</exception>
        /// <exception cref="IOException">While enumerating: the file cannot be opened or read.</exception>
        public static IEnumerable<DecisionRecord> Read(string path, TrafficLogFormat? format = null, TrafficLogOptions options = null)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            return ReadFile(path, format, options ?? new TrafficLogOptions());
        }

        /// <summary>The records in a log read from <paramref name="reader"/> (not disposed).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
        /// <exception cref="FormatException">As for <see cref="Read(string, TrafficLogFormat?, TrafficLogOptions)"/>.</exception>
        public static IEnumerable<DecisionRecord> Read(TextReader reader, TrafficLogFormat? format = null, TrafficLogOptions options = null)
        {
            if (reader == null) throw new ArgumentNullException(nameof(reader));
            return ReadLines(Lines(reader), format, options ?? new TrafficLogOptions(), "the log");
        }

        /// <summary>The format of the log at <paramref name="path"/>, told from its first lines.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
        /// <exception cref="FormatException">The first lines are none of the formats read here.</exception>
        /// <exception cref="IOException">The file cannot be opened or read.</exception>
        public static TrafficLogFormat Detect(string path)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            using (var reader = Open(path))
            using (var lines = Lines(reader).GetEnumerator())
                return Detect(lines, new List<string>(), path);
        }

        static IEnumerable<DecisionRecord> ReadFile(string path, TrafficLogFormat? format, TrafficLogOptions options)
        {
            if (format == null) format = Detect(path);
            if (format == TrafficLogFormat.Smtpd)
            {
                foreach (var r in DecisionRecordReader.ReadFile(path)) yield return Counted(options, r);
                yield break;
            }
            using (var reader = Open(path))
                foreach (var r in ReadLines(Lines(reader), format, options, path))
                    yield return r;
        }

        static IEnumerable<DecisionRecord> ReadLines(IEnumerable<string> source, TrafficLogFormat? format, TrafficLogOptions options, string name)
        {
            using (var lines = source.GetEnumerator())
            {
                var seen = new List<string>();
                var f = format ?? Detect(lines, seen, name);
                var all = Replay(seen, lines);
                switch (f)
                {
                    case TrafficLogFormat.Postfix:
                        foreach (var r in PostfixLogReader.Read(all, options)) yield return r;
                        break;
                    case TrafficLogFormat.ExchangeTracking:
                        foreach (var r in ExchangeTrackingLogReader.Read(all, options)) yield return r;
                        break;
                    case TrafficLogFormat.Smtpd:
                        long number = 0;
                        foreach (var line in all)
                        {
                            number++;
                            if (options.Stats != null) options.Stats.Lines++;
                            if (line.Length == 0) continue;
                            DecisionRecord record;
                            try { record = DecisionRecordReader.FromLine(line); }
                            catch (FormatException ex) { throw new FormatException(name + ":" + number + ": " + ex.Message, ex); }
                            if (record != null) yield return Counted(options, record);
                        }
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(format), f, "Not a traffic log format.");
                }
            }
        }

        static DecisionRecord Counted(TrafficLogOptions options, DecisionRecord record)
        {
            if (options.Stats != null) options.Stats.Records++;
            return record;
        }

        /// <summary>Reads lines until one tells the format; keeps them in <paramref name="seen"/> for the reader.</summary>
        static TrafficLogFormat Detect(IEnumerator<string> lines, List<string> seen, string name)
        {
            int looked = 0;
            while (looked < DetectionLines && lines.MoveNext())
            {
                var line = lines.Current;
                seen.Add(line);
                var t = (seen.Count == 1 ? line.TrimStart('\uFEFF') : line).Trim();
                if (t.Length == 0) continue;
                looked++;
                if (t[0] == '{') return TrafficLogFormat.Smtpd;
                if (t.StartsWith("#Software: Microsoft Exchange", StringComparison.OrdinalIgnoreCase) || t.StartsWith("#Fields:", StringComparison.OrdinalIgnoreCase)
                    || t.StartsWith("#Log-type:", StringComparison.OrdinalIgnoreCase))
                    return TrafficLogFormat.ExchangeTracking;
                if (SyslogLine.IsPostfix(t)) return TrafficLogFormat.Postfix;
            }
            throw new FormatException("Cannot tell the format of " + name + ": " + (looked == 0 ? "it holds no lines" : "its first " + looked + " non-empty lines")
                + " are neither this proxy's JSON log, an Exchange message tracking log (#Software, #Fields headers) nor Postfix syslog lines"
                + " (a 'postfix/' program tag). Name the format if it is one of these.");
        }

        static IEnumerable<string> Replay(List<string> seen, IEnumerator<string> rest)
        {
            foreach (var line in seen) yield return line;
            while (rest.MoveNext()) yield return rest.Current;
        }

        /// <summary>The proxy may still be appending, and a rotation may rename or delete the file while it is read.</summary>
        static StreamReader Open(string path) =>
            new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 65536, FileOptions.SequentialScan),
                             new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);

        internal static IEnumerable<string> Lines(TextReader reader)
        {
            string line;
            while ((line = reader.ReadLine()) != null) yield return line;
        }
    }
}
