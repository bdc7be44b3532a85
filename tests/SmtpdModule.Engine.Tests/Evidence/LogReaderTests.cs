using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Policy;
using Xunit;

namespace SmtpdModule.Engine.Tests.Evidence
{
    /// <summary>The reader gives back what the log wrote, as typed events, and each filter keeps
    /// exactly the events it names, whether the line is skipped early or parsed whole.</summary>
    public sealed class LogReaderTests : IDisposable
    {
        readonly string _dir = Path.Combine(Path.GetTempPath(), "smtpd-logread-" + Guid.NewGuid().ToString("N"));
        static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

        string LogPath => Path.Combine(_dir, "smtpd.log");

        static string Decision(int minute, string client, string from, string to, VerdictKind kind, int? line, string reply = null)
        {
            var record = new DecisionRecord
            {
                Time = T0.AddMinutes(minute), Session = "s" + minute, Stage = PolicyStage.Rcpt, Kind = kind,
                Replies = reply == null ? new string[0] : new[] { reply }, Reason = "because", ClientAddress = client, ClientName = "mx.example.org",
                Helo = "mx.example.org", From = from, To = to, Action = kind == VerdictKind.Continue ? "Allow" : "Noto", Basis = "Rule",
                Line = line, Rule = line == null ? null : "rule " + line, RulesPath = "/etc/smtpd/rules", RulesSha256 = "ab12",
            };
            var line1 = JsonLinesLog.Format(new ProxyEvent("decision", record.Session, client, "decided", record.ToData()));
            // The writer stamps the event's own time; the test wants the record's.
            return line1.Substring(0, 9) + record.Time.UtcDateTime.ToString("o") + line1.Substring(9 + 28);
        }

        static string Event(int minute, string kind, string session, string client, string message) =>
            JsonLinesLog.Format(new ProxyEvent(kind, session, client, message, new[] { new KeyValuePair<string, object>("n", minute) }))
                .Substring(0, 9) + T0.AddMinutes(minute).UtcDateTime.ToString("o") + JsonLinesLog.Format(new ProxyEvent(kind, session, client, message,
                new[] { new KeyValuePair<string, object>("n", minute) })).Substring(9 + 28);

        void Write(string path, params string[] lines)
        {
            Directory.CreateDirectory(_dir);
            File.WriteAllText(path, string.Join("\n", lines) + "\n");
        }

        List<LogEvent> Read(LogFilter filter, List<LogLineError> errors = null) =>
            new LogReader(filter).FilesOf(LogPath).SelectMany(f => new LogReader(filter).Read(f, e => errors?.Add(e))).ToList();

        void WriteSample() => Write(LogPath,
            Event(0, "connect", "s0", "192.0.2.10", "connected"),
            Decision(1, "192.0.2.10", "<a@example.org>", "<b@example.test>", VerdictKind.Continue, 3),
            Decision(2, "198.51.100.7", "<spam@bad.test>", "<b@example.test>", VerdictKind.Reject, 7, "550 5.7.1 no"),
            Decision(3, "198.51.100.8", "<x@bad.test>", "<c@example.test>", VerdictKind.TempFail, null, "451 4.7.1 later"),
            Decision(4, "2001:db8::5", "<>", "<postmaster@example.test>", VerdictKind.Close, 9, "421 4.3.2 closing"),
            Event(5, "forwarded", "20261207T100500-abc", null, null),
            Event(6, "limit", null, "203.0.113.9:40000", "too many"));

        [Fact]
        public void Reads_decisions_as_typed_objects_and_other_events_as_events()
        {
            WriteSample();
            var all = Read(LogFilter.Create());
            Assert.Equal(7, all.Count);
            var d = Assert.IsType<LogDecision>(all[2]);
            Assert.Equal(T0.AddMinutes(2), d.Time);
            Assert.Equal("198.51.100.7", d.Client);
            Assert.Equal("<spam@bad.test>", d.From);
            Assert.Equal(VerdictKind.Reject, d.Verdict);
            Assert.Equal(DecisionOutcome.Refused, d.Outcome);
            Assert.Equal("550 5.7.1 no", d.Reply);
            Assert.Equal(7, d.Line);
            Assert.Equal("ab12", d.RulesSha256);
            Assert.Equal(3, d.LineNumber);
            Assert.Equal(LogPath, d.Path);
            var fwd = all[5];
            Assert.IsNotType<LogDecision>(fwd);
            Assert.Equal("forwarded", fwd.Kind);
            Assert.Equal("20261207T100500-abc", fwd.Session);
            Assert.Equal(5L, fwd.Data["n"]);
        }

        [Theory]
        [InlineData("198.51.100.0/24", "s2,s3")]
        [InlineData("192.0.2.10", "s0,s1")]
        [InlineData("2001:db8::/32", "s4")]
        [InlineData("203.0.113.0/24", "")]   // a limit event names an end point; its session is null
        public void Client_takes_an_address_or_a_network(string client, string sessions)
        {
            WriteSample();
            var found = Read(LogFilter.Create(clients: new[] { client }));
            Assert.Equal(sessions, string.Join(",", found.Where(e => e.Session != null).Select(e => e.Session)));
            if (client.StartsWith("203.")) Assert.Equal("limit", Assert.Single(found).Kind);
        }

        [Theory]
        [InlineData("Refused", "s2")]
        [InlineData("Deferred", "s3,s4")]
        [InlineData("Accepted", "s1")]
        [InlineData("Close", "s4")]
        [InlineData("reject", "s2")]
        public void Verdict_takes_the_pipelines_words_or_the_outcome(string verdict, string sessions)
        {
            WriteSample();
            Assert.Equal(sessions, string.Join(",", Read(LogFilter.Create(verdicts: new[] { verdict })).Select(e => e.Session)));
        }

        [Fact]
        public void Sender_recipient_line_event_and_time_filters_combine()
        {
            WriteSample();
            Assert.Equal("s2,s3", string.Join(",", Read(LogFilter.Create(from: new[] { "*@bad.test" })).Select(e => e.Session)));
            Assert.Equal("s4", string.Join(",", Read(LogFilter.Create(from: new[] { "<>" })).Select(e => e.Session)));
            Assert.Equal("s1,s2", string.Join(",", Read(LogFilter.Create(to: new[] { "B@EXAMPLE.TEST" })).Select(e => e.Session)));
            Assert.Equal("s2,s4", string.Join(",", Read(LogFilter.Create(lines: new[] { 7, 9 })).Select(e => e.Session)));
            Assert.Equal("s0,20261207T100500-abc", string.Join(",", Read(LogFilter.Create(events: new[] { "connect", "FORWARDED" })).Select(e => e.Session)));
            Assert.Equal("s2,s3", string.Join(",", Read(LogFilter.Create(after: T0.AddMinutes(2), before: T0.AddMinutes(4))).Select(e => e.Session)));
            Assert.Equal("s2", string.Join(",", Read(LogFilter.Create(after: T0.AddMinutes(2), from: new[] { "*@bad.test" }, verdicts: new[] { "Refused" })).Select(e => e.Session)));
        }

        [Fact]
        public void A_time_in_another_offset_means_the_same_instant()
        {
            WriteSample();
            var after = T0.AddMinutes(5).ToOffset(TimeSpan.FromHours(-5));
            Assert.Equal(new[] { "forwarded", "limit" }, Read(LogFilter.Create(after: after)).Select(e => e.Kind));
        }

        [Fact]
        public void A_line_that_is_not_json_is_reported_with_its_number_and_the_read_goes_on()
        {
            Write(LogPath, Event(0, "connect", "s0", "192.0.2.1", "x"), "{\"time\":\"2026-12-07T10:01:00.0000000Z\",\"event\":\"decision\",\"v\":",
                  "not json", Event(3, "disconnect", "s0", "192.0.2.1", "bye"));
            var errors = new List<LogLineError>();
            var found = Read(LogFilter.Create(), errors);
            Assert.Equal(new[] { "connect", "disconnect" }, found.Select(e => e.Kind));
            Assert.Equal(new long[] { 2, 3 }, errors.Select(e => e.LineNumber));
            Assert.Equal(LogPath + ":2", errors[0].Where);
        }

        [Fact]
        public void A_filter_that_skips_a_broken_line_early_does_not_report_it()
        {
            // The head shows a connect event; a query for decisions never parses the rest.
            Write(LogPath, "{\"time\":\"2026-12-07T10:01:00.0000000Z\",\"event\":\"connect\",broken");
            var errors = new List<LogLineError>();
            Assert.Empty(Read(LogFilter.Create(verdicts: new[] { "Refused" }), errors));
            Assert.Empty(errors);
        }

        [Fact]
        public void Reads_rotated_files_oldest_first_then_the_current_one_and_skips_files_outside_the_time()
        {
            Directory.CreateDirectory(_dir);
            var set = new LogFileSet(LogPath);
            Write(set.RotatedPath(T0.AddMinutes(5)), Event(0, "connect", "a", "192.0.2.1", null), Event(1, "connect", "b", "192.0.2.1", null));
            Write(set.RotatedPath(T0.AddMinutes(10).AddSeconds(1)), Event(5, "connect", "c", "192.0.2.1", null), Event(10, "connect", "d", "192.0.2.1", null));
            Write(LogPath, Event(20, "connect", "e", "192.0.2.1", null));
            Assert.Equal("a,b,c,d,e", string.Join(",", Read(LogFilter.Create()).Select(e => e.Session)));
            var late = new LogReader(LogFilter.Create(after: T0.AddMinutes(15)));
            Assert.Equal(new[] { LogPath }, late.FilesOf(LogPath));
            var early = new LogReader(LogFilter.Create(before: T0.AddMinutes(1)));
            Assert.Equal(new[] { set.RotatedFiles()[0].Path }, early.FilesOf(LogPath));
            Assert.Equal("a", string.Join(",", early.FilesOf(LogPath).SelectMany(f => early.Read(f)).Select(e => e.Session)));
            // A rotated file named on its own is just itself.
            Assert.Equal(new[] { set.RotatedFiles()[1].Path }, new LogReader(null).FilesOf(set.RotatedFiles()[1].Path));
        }

        [Fact]
        public void A_missing_file_fails_when_read_is_called()
        {
            Directory.CreateDirectory(_dir);
            Assert.Throws<FileNotFoundException>(() => new LogReader(null).Read(Path.Combine(_dir, "none.log")));
        }

        [Fact]
        public void A_bad_client_or_verdict_is_refused_with_the_parameter()
        {
            Assert.Equal("clients", Assert.Throws<ArgumentException>(() => LogFilter.Create(clients: new[] { "not-an-ip" })).ParamName);
            Assert.Equal("verdicts", Assert.Throws<ArgumentException>(() => LogFilter.Create(verdicts: new[] { "Maybe" })).ParamName);
        }

        [Fact]
        public void Reads_back_what_a_real_log_writer_wrote_across_rotations()
        {
            using (var log = new JsonLinesLog(LogPath, new LogRotationOptions { MaxSize = 2000, MaxAge = TimeSpan.Zero, MaxFiles = 1000 }))
                for (int i = 0; i < 200; i++)
                    log.Write(new ProxyEvent("rcpt", "s" + i, "192.0.2." + (i % 4), "to " + i));
            var found = Read(LogFilter.Create(clients: new[] { "192.0.2.3" }));
            Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 4 == 3).Select(i => "s" + i), found.Select(e => e.Session));
            Assert.True(new LogFileSet(LogPath).RotatedFiles().Count > 5, string.Join("\n", Directory.GetFiles(_dir)));
        }

        [Fact]
        public void Reads_crlf_lines_a_byte_order_mark_and_a_last_line_without_newline()
        {
            Directory.CreateDirectory(_dir);
            var text = "\uFEFF" + Event(0, "connect", "a", "192.0.2.1", null) + "\r\n" + Event(1, "connect", "b", "192.0.2.1", null) + "\r\n\r\n"
                       + Event(2, "connect", "c", "192.0.2.1", "last, ünïcode");
            File.WriteAllText(LogPath, text, new System.Text.UTF8Encoding(false));
            var found = Read(LogFilter.Create(clients: new[] { "192.0.2.0/24" }));
            Assert.Equal("a,b,c", string.Join(",", found.Select(e => e.Session)));
            Assert.Equal("last, ünïcode", found[2].Message);
        }

        [Fact]
        public void Reads_lines_longer_than_the_read_buffer_and_passes_over_one_past_the_bound()
        {
            var big = Event(1, "connect", "big", "192.0.2.1", new string('x', 3 * 1024 * 1024));
            var huge = new string('y', 17 * 1024 * 1024);
            Write(LogPath, Event(0, "connect", "a", "192.0.2.1", null), big, huge, Event(2, "connect", "b", "192.0.2.1", null));
            var errors = new List<LogLineError>();
            var found = Read(LogFilter.Create(), errors);
            Assert.Equal("a,big,b", string.Join(",", found.Select(e => e.Session)));
            Assert.Equal(3 * 1024 * 1024, found[1].Message.Length);
            Assert.Equal(3, Assert.Single(errors).LineNumber);
        }

        public void Dispose()
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
