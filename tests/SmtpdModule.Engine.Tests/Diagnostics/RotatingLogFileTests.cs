using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using Xunit;

namespace SmtpdModule.Engine.Tests.Diagnostics
{
    /// <summary>The log rotates by size and by age (on a clock the test moves), keeps only what
    /// the retention allows, and never loses or splits a line, however many threads write.</summary>
    public sealed class RotatingLogFileTests : IDisposable
    {
        readonly string _dir = Path.Combine(Path.GetTempPath(), "smtpd-rotate-" + Guid.NewGuid().ToString("N"));
        DateTimeOffset _now = new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.Zero);

        string LogPath => Path.Combine(_dir, "smtpd.log");

        static byte[] Line(string text) => Encoding.UTF8.GetBytes(text + "\n");

        static byte[] EventLine(int n, DateTimeOffset t) =>
            Line(JsonLinesLog.Format(new ProxyEvent("decision", "s" + n, "192.0.2.1", "line " + n)).Replace(
                "\"time\":\"", "\"time\":\"" + t.UtcDateTime.ToString("o") + "\",\"x\":\""));

        RotatingLogFile Open(LogRotationOptions options) => new RotatingLogFile(LogPath, options, () => _now);

        [Fact]
        public void Rotates_before_a_line_would_pass_the_size_and_names_the_file_by_the_time()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 100, MaxAge = TimeSpan.Zero }))
            {
                var line = Line(new string('a', 39));   // 40 bytes: two fit in 100, the third does not
                log.Append(line);
                log.Append(line);
                Assert.Equal(0, log.Rotations);
                _now = _now.AddSeconds(1);
                log.Append(line);
                Assert.Equal(1, log.Rotations);
                var rotated = Assert.Single(log.Files.RotatedFiles());
                Assert.Equal(Path.Combine(_dir, "smtpd.20261207T010204.000Z.log"), rotated.Path);
                Assert.Equal(80, new FileInfo(rotated.Path).Length);
                Assert.Equal(40, new FileInfo(LogPath).Length);
            }
        }

        [Fact]
        public void A_line_longer_than_the_size_gets_a_file_of_its_own()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 10, MaxAge = TimeSpan.Zero }))
            {
                log.Append(Line(new string('b', 50)));
                log.Append(Line(new string('c', 50)));
                Assert.Equal(1, log.Rotations);
                Assert.Equal(51, new FileInfo(LogPath).Length);
                Assert.Equal(0, log.Failures);
            }
        }

        [Fact]
        public void Rotates_once_the_first_line_is_older_than_the_age()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 0, MaxAge = TimeSpan.FromHours(1) }))
            {
                log.Append(Line("first"));
                _now = _now.AddMinutes(59);
                log.Append(Line("second"));
                Assert.Equal(0, log.Rotations);
                _now = _now.AddMinutes(1);
                log.Append(Line("third"));
                Assert.Equal(1, log.Rotations);
                Assert.Equal(new[] { "first", "second" }, File.ReadAllLines(log.Files.RotatedFiles()[0].Path));
                Assert.Equal(new[] { "third" }, File.ReadAllLines(LogPath));
            }
        }

        [Fact]
        public void A_restarted_writer_ages_the_file_by_its_first_line()
        {
            Directory.CreateDirectory(_dir);
            File.WriteAllBytes(LogPath, EventLine(1, _now.AddHours(-2)));
            using (var log = Open(new LogRotationOptions { MaxSize = 0, MaxAge = TimeSpan.FromHours(1) }))
            {
                log.Append(EventLine(2, _now));
                Assert.Equal(1, log.Rotations);
                Assert.Single(File.ReadAllLines(LogPath));
            }
        }

        [Fact]
        public void Keeps_at_most_the_number_of_files_deleting_the_oldest()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 1, MaxAge = TimeSpan.Zero, MaxFiles = 3, Retention = TimeSpan.Zero }))
            {
                for (int i = 0; i < 10; i++)
                {
                    log.Append(Line("line " + i));
                    _now = _now.AddSeconds(1);
                }
                var kept = log.Files.RotatedFiles();
                Assert.Equal(3, kept.Count);
                Assert.Equal(new[] { "line 6", "line 7", "line 8" }, kept.Select(k => File.ReadAllText(k.Path).TrimEnd('\n')));
                Assert.Equal("line 9\n", File.ReadAllText(LogPath));
            }
        }

        [Fact]
        public void Deletes_rotated_files_older_than_the_retention()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 1, MaxAge = TimeSpan.Zero, MaxFiles = 100, Retention = TimeSpan.FromDays(2) }))
            {
                for (int i = 0; i < 6; i++)
                {
                    log.Append(Line("day " + i));
                    _now = _now.AddDays(1);
                }
                // Rotated on days 1 to 5 (day 5's line is current); on day 5 the files rotated on days 1 and 2 are past two days.
                Assert.Equal(new[] { "day 2", "day 3", "day 4" }, log.Files.RotatedFiles().Select(k => File.ReadAllText(k.Path).TrimEnd('\n')));
            }
        }

        [Fact]
        public void Names_still_sort_by_time_when_rotations_share_a_millisecond_or_the_clock_steps_back()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 1, MaxAge = TimeSpan.Zero, MaxFiles = 100 }))
            {
                for (int i = 0; i < 5; i++) log.Append(Line("same " + i));
                _now = _now.AddHours(-1);
                log.Append(Line("earlier"));
                var names = log.Files.RotatedFiles().Select(r => File.ReadAllText(r.Path).TrimEnd('\n')).ToList();
                Assert.Equal(new[] { "same 0", "same 1", "same 2", "same 3", "same 4" }, names);
                Assert.Equal(log.Files.AllFiles().Count, names.Count + 1);
            }
        }

        [Fact]
        public void A_reader_holding_the_file_open_reads_it_whole_after_the_rotation()
        {
            using (var log = Open(new LogRotationOptions { MaxSize = 20, MaxAge = TimeSpan.Zero }))
            {
                log.Append(Line("one"));
                using (var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)))
                {
                    Assert.Equal("one", reader.ReadLine());
                    log.Append(Line("two"));
                    log.Append(Line(new string('x', 30)));   // rotates
                    Assert.Equal(1, log.Rotations);
                    Assert.Equal("two", reader.ReadLine());
                    Assert.Null(reader.ReadLine());
                }
            }
        }

        [Fact]
        public void No_line_is_lost_or_split_across_rotations_under_concurrent_writers()
        {
            const int writers = 8, perWriter = 2000;
            var log = new JsonLinesLog(LogPath, new LogRotationOptions { MaxSize = 16 * 1024, MaxAge = TimeSpan.Zero, MaxFiles = 100000, Retention = TimeSpan.Zero });
            using (log)
                Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
                {
                    for (int i = 0; i < perWriter; i++)
                        log.Write(new ProxyEvent("decision", w + "-" + i, "192.0.2." + w, new string('m', i % 97)));
                });
            Assert.Equal(0, log.Failures);
            Assert.True(log.File.Rotations > 10, "rotated " + log.File.Rotations + " times");
            var seen = new HashSet<string>();
            foreach (var file in new LogFileSet(LogPath).AllFiles())
            {
                var text = File.ReadAllText(file);
                Assert.EndsWith("\n", text);
                Assert.True(new FileInfo(file).Length <= 16 * 1024 || text.Count(c => c == '\n') == 1, file + " is over the size");
                foreach (var line in text.TrimEnd('\n').Split('\n'))
                {
                    var data = Assert.IsType<Dictionary<string, object>>(JsonReader.Parse(line));
                    Assert.True(seen.Add((string)data["session"]), "twice: " + line);
                }
            }
            Assert.Equal(writers * perWriter, seen.Count);
        }

        [Fact]
        public void Never_rotates_when_size_and_age_are_off()
        {
            using (var log = Open(LogRotationOptions.Never()))
            {
                for (int i = 0; i < 100; i++) { log.Append(Line("x")); _now = _now.AddDays(1); }
                Assert.Equal(0, log.Rotations);
                Assert.Empty(log.Files.RotatedFiles());
            }
        }

        [Fact]
        public void A_write_after_dispose_is_counted_not_thrown()
        {
            var log = Open(new LogRotationOptions());
            log.Dispose();
            log.Append(Line("late"));
            Assert.Equal(1, log.Failures);
        }

        [Fact]
        public void Finds_rotated_files_by_name_and_only_the_logs_own()
        {
            Directory.CreateDirectory(_dir);
            foreach (var name in new[] { "smtpd.log", "smtpd.20261207T010203.000Z.log", "smtpd.20261206T010203.000Z.log",
                                          "smtpfwd.20261207T010203.000Z.log", "smtpd.20261207T0102.log", "smtpd.log.bak" })
                File.WriteAllText(Path.Combine(_dir, name), "");
            var files = new LogFileSet(LogPath).AllFiles().Select(Path.GetFileName);
            Assert.Equal(new[] { "smtpd.20261206T010203.000Z.log", "smtpd.20261207T010203.000Z.log", "smtpd.log" }, files);
            Assert.True(LogFileSet.TryParse(Path.Combine(_dir, "smtpd.20261207T010203.000Z.log"), out var basePath, out var time));
            Assert.Equal(LogPath, basePath);
            Assert.Equal(new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.Zero), time);
        }

        [Fact]
        public void Two_rotations_within_one_millisecond_both_rename()
        {
            // Before the fix the second rotation compared the clock's ticks with the name's
            // milliseconds, chose the same name, and failed to rename.
            _now = _now.AddTicks(4000);
            using (var log = Open(new LogRotationOptions { MaxSize = 1, MaxAge = TimeSpan.Zero, MaxFiles = 100 }))
            {
                log.Append(Line("a"));
                log.Append(Line("b"));
                _now = _now.AddTicks(3000);
                log.Append(Line("c"));
                Assert.Equal(0, log.RotationFailures);
                Assert.Equal(2, log.Files.RotatedFiles().Count);
            }
        }

        public void Dispose()
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
