using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using SmtpdModule.Engine.Policy;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>
    /// The fast decision log reader against the reference (JsonReader, then DecisionRecordReader's
    /// FromData, over a text reader's lines): the same records field by field, the same errors with
    /// the same messages on the same line numbers, for logs the proxy writes and for lines it never would.
    /// </summary>
    public class DecisionLogReaderTests
    {
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        /// <summary>What the replay read before: a text reader's lines, each read by the reference.</summary>
        static List<(long Line, DecisionRecord Record, string Error)> Reference(byte[] log)
        {
            var entries = new List<(long, DecisionRecord, string)>();
            using (var reader = new StreamReader(new MemoryStream(log), Utf8, true))
            {
                string line;
                long number = 0;
                while ((line = reader.ReadLine()) != null)
                {
                    number++;
                    if (line.Length == 0) continue;
                    try
                    {
                        var record = DecisionRecordReader.FromJsonText(line);
                        if (record != null) entries.Add((number, record, null));
                    }
                    catch (FormatException ex) { entries.Add((number, null, ex.Message)); }
                }
            }
            return entries;
        }

        static List<(long Line, DecisionRecord Record, string Error)> Fast(Stream stream, int maxLineLength = DecisionLogReader.DefaultMaxLineLength)
        {
            using (var reader = new DecisionLogReader(stream, maxLineLength))
            {
                var entries = reader.ReadAll().Select(e => (e.LineNumber, e.Record, e.Error?.Message)).ToList();
                if (stream.CanSeek) Assert.Equal(stream.Length, reader.Position);
                return entries;
            }
        }

        static void AssertSame(List<(long Line, DecisionRecord Record, string Error)> expected, List<(long Line, DecisionRecord Record, string Error)> actual)
        {
            for (int i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            {
                Assert.Equal(expected[i].Line, actual[i].Line);
                Assert.Equal(expected[i].Error, actual[i].Error);
                DecisionRecordComparer.Equal(expected[i].Record, actual[i].Record, "line " + expected[i].Line);
            }
            Assert.Equal(expected.Count, actual.Count);
        }

        /// <summary>One line through the fast parser and the reference: same record, same null, or same message.</summary>
        static void AssertLineSame(byte[] line)
        {
            DecisionRecord expected = null, actual = null;
            string expectedError = null, actualError = null;
            try { expected = DecisionRecordReader.FromJsonText(Utf8.GetString(line)); }
            catch (FormatException ex) { expectedError = ex.Message; }
            try { actual = new DecisionLineParser().Parse(line, 0, line.Length); }
            catch (FormatException ex) { actualError = ex.Message; }
            var shown = Encoding.UTF8.GetString(line);
            Assert.True(expectedError == actualError, shown + "\nreference: " + expectedError + "\nfast: " + actualError);
            DecisionRecordComparer.Equal(expected, actual, shown);
        }

        static void AssertLineSame(string line)
        {
            AssertLineSame(Utf8.GetBytes(line));
            // FromLine, the public way in, gives the reference's answer too.
            DecisionRecord expected = null, actual = null;
            string expectedError = null, actualError = null;
            try { expected = DecisionRecordReader.FromJsonText(line); }
            catch (FormatException ex) { expectedError = ex.Message; }
            try { actual = DecisionRecordReader.FromLine(line); }
            catch (FormatException ex) { actualError = ex.Message; }
            Assert.Equal(expectedError, actualError);
            DecisionRecordComparer.Equal(expected, actual, line);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        public void Every_generated_record_reads_as_the_reference_reads_it(int seed)
        {
            var log = Utf8.GetBytes(DecisionLogSample.Lines(1500, seed));
            var expected = Reference(log);
            Assert.True(expected.Count(e => e.Record != null) == 1500, "decisions: " + expected.Count(e => e.Record != null));
            AssertSame(expected, Fast(new MemoryStream(log)));
            foreach (var line in Utf8.GetString(log).Split('\n').Where(l => l.Length > 0).Take(300)) AssertLineSame(line);
            // ... and each of them on the fast path, not handed back to the reference.
            var parser = new DecisionLineParser();
            foreach (var line in Utf8.GetString(log).Split('\n').Where(l => l.Length > 0))
            {
                var bytes = Utf8.GetBytes(line);
                parser.Parse(bytes, 0, bytes.Length);
            }
            Assert.Equal(0, parser.Declines);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(7)]
        [InlineData(4093)]
        public void Reads_of_any_size_and_a_buffer_just_long_enough_give_the_same_entries(int chunk)
        {
            var text = DecisionLogSample.Lines(400, 11).Replace("\n", chunk == 7 ? "\r\n" : "\n");
            var log = Utf8.GetBytes(text);
            int longest = text.Split('\n').Max(l => Utf8.GetByteCount(l));
            AssertSame(Reference(log), Fast(new TrickleStream(log, chunk), longest + 1));
        }

        public static IEnumerable<object[]> HostileLines()
        {
            const string ok = "\"event\":\"decision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\"";
            var lines = new List<string>
            {
                "{" + ok + "}", " \t{ \"event\" : \"decision\" , \"v\" : 1 , \"stage\" : \"Rcpt\" , \"verdict\" : \"Reject\" } \t", "{" + ok + "} x", "{" + ok + ",}",
                "{}", " ", "[]", "\"decision\"", "1", "null", "{\"event\":1}", "{\"event\":null,\"v\":1}", "{\"event\":\"connect\",\"size\":\"x\",\"v\":99}",
                "{\"event\":\"Decision\"," + ok.Substring(19) + "}", "{\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\",\"event\":\"decision\"}",
                // version
                "{\"event\":\"decision\",\"stage\":\"Rcpt\",\"verdict\":\"Continue\"}", "{" + ok.Replace("\"v\":1", "\"v\":2") + "}",
                "{" + ok.Replace("\"v\":1", "\"v\":0") + "}", "{" + ok.Replace("\"v\":1", "\"v\":1.0") + "}", "{" + ok.Replace("\"v\":1", "\"v\":1e0") + "}",
                "{" + ok.Replace("\"v\":1", "\"v\":\"1\"") + "}", "{" + ok.Replace("\"v\":1", "\"v\":1.9") + "}", "{" + ok.Replace("\"v\":1", "\"v\":-0") + "}",
                "{" + ok.Replace("\"v\":1", "\"v\":01") + "}", "{" + ok.Replace("\"v\":1", "\"v\":4294967297") + "}",
                // huge and odd numbers
                "{" + ok + ",\"line\":99999999999999999999}", "{" + ok + ",\"line\":2147483648}", "{" + ok + ",\"line\":-2147483649}", "{" + ok + ",\"size\":1e400}",
                "{" + ok + ",\"size\":-1e400}", "{" + ok + ",\"size\":9007199254740993}", "{" + ok + ",\"size\":-9223372036854775809}", "{" + ok + ",\"delay\":1e-400}",
                "{" + ok + ",\"delay\":-0.0}", "{" + ok + ",\"delay\":1.5E+3}", "{" + ok + ",\"delay\":1.}", "{" + ok + ",\"delay\":.5}", "{" + ok + ",\"delay\":-}",
                "{" + ok + ",\"delay\":1e}", "{" + ok + ",\"delay\":123456789012345678901234567890}", "{" + ok + ",\"score\":1.5}", "{" + ok + ",\"delay\":true}",
                "{" + ok + ",\"x\":1e99999}", "{" + ok + ",\"x\":-01.50e-3}",
                // duplicates
                "{" + ok + ",\"v\":1}", "{" + ok + ",\"v\":2}", "{" + ok + ",\"stage\":\"Mail\"}", "{" + ok + ",\"event\":\"connect\"}", "{\"event\":\"connect\"," + ok + "}",
                "{" + ok + ",\"results\":{\"a\":\"1\",\"A\":\"2\"}}", "{" + ok + ",\"results\":{\"a\":\"1\",\"a\":\"2\"}}", "{" + ok + ",\"x\":1,\"x\":[1]}",
                "{" + ok + ",\"facts\":[{\"kind\":\"Dns\",\"kind\":\"State\",\"status\":\"Ok\"}]}", "{" + ok + ",\"client\":\"a\",\"client\":\"b\"}",
                "{" + ok + ",\"downstream\":{\"size\":1,\"size\":2}}",
                // escapes
                "{" + ok + ",\"reason\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u001f \\u00e9 \\u00E9 \\uD83D\\uDE00 \\uD800 \\uDC00x \\u20AC\"}",
                "{" + ok + ",\"reason\":\"\\u12\"}", "{" + ok + ",\"reason\":\"\\u12g4\"}", "{" + ok + ",\"reason\":\"\\x\"}", "{" + ok + ",\"reason\":\"\\\"}",
                "{" + ok + ",\"reason\":\"tab\there\"}", "{" + ok + ",\"reason\":\"\u007f\u0080é日本\U0001F600\"}", "{\"\\u0076\":1,\"event\":\"decision\",\"stage\":\"Rcpt\",\"verdict\":\"Continue\"}",
                "{" + ok + ",\"results\":{\"k\\u00e9\\n\":\"v\\t\",\"\":\"\"}}", "{" + ok + ",\"x\":{\"\\u0041\":[\"\\n\",{\"\\/\":null}]}}", "{" + ok + ",\"x\":\"\\u0000\"}",
                "{\"ev\\u0065nt\":\"decision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\"}", "{\"event\":\"d\\u0065cision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\"}",
                // fields of the wrong shape
                "{" + ok + ",\"replies\":\"x\"}", "{" + ok + ",\"replies\":[null]}", "{" + ok + ",\"replies\":[1]}", "{" + ok + ",\"replies\":null}",
                "{" + ok + ",\"failed\":[\"a\",\"b\"]}", "{" + ok + ",\"tls\":\"yes\",\"esmtp\":1,\"smtputf8\":{\"a\":[]},\"reverseFailed\":null}",
                "{" + ok + ",\"facts\":{}}", "{" + ok + ",\"facts\":[1]}", "{" + ok + ",\"facts\":[null]}", "{" + ok + ",\"facts\":[{}]}", "{" + ok + ",\"facts\":null}",
                "{" + ok + ",\"facts\":[{\"kind\":\"Dns\",\"status\":\"Ok\",\"type\":\"SPF\"}]}", "{" + ok + ",\"facts\":[{\"kind\":\"Dns\",\"status\":\"Ok\",\"type\":\"1\"}]}",
                "{" + ok + ",\"facts\":[{\"kind\":\"dns\",\"status\":\"Ok\"}]}", "{" + ok + ",\"facts\":[{\"kind\":\"Ident\",\"status\":null}]}",
                "{" + ok + ",\"facts\":[{\"kind\":\"Count\",\"status\":\"Found\",\"values\":[\"1\"],\"ttl\":1e20,\"extra\":{\"deep\":[[[]]]}}]}",
                "{" + ok + ",\"results\":[]}", "{" + ok + ",\"results\":{\"a\":1}}", "{" + ok + ",\"results\":{\"a\":null}}", "{" + ok + ",\"results\":null}",
                "{" + ok + ",\"downstream\":[]}", "{" + ok + ",\"downstream\":{}}", "{" + ok + ",\"downstream\":{\"size\":-1}}", "{" + ok + ",\"downstream\":{\"size\":1.5}}",
                "{" + ok + ",\"downstream\":{\"size\":10,\"smtputf8\":true,\"8bitmime\":\"x\",\"learned\":\"2026-11-29T10:00:00.0000000Z\",\"from\":\"h:25\",\"new\":1}}",
                "{" + ok + ",\"downstream\":{\"learned\":\"yesterday\"}}", "{" + ok + ",\"stage\":\"Nope\"}".Replace("\"stage\":\"Rcpt\",", ""),
                "{" + ok.Replace("Rcpt", "1") + "}", "{" + ok.Replace("Rcpt", " Rcpt") + "}", "{" + ok.Replace("Rcpt", "rcpt") + "}", "{" + ok.Replace("Rcpt", "Rcpt,Mail") + "}",
                "{" + ok.Replace("\"stage\":\"Rcpt\"", "\"stage\":null") + "}", "{" + ok + ",\"session\":7}",
                // times
                "{\"time\":\"2026-11-30T00:00:00.4600000Z\"," + ok + "}", "{\"time\":\"2026-11-30T00:00:00Z\"," + ok + "}", "{\"time\":\"2026-11-30T02:00:00.4600000+02:00\"," + ok + "}",
                "{\"time\":\"2026-02-30T00:00:00.0000000Z\"," + ok + "}", "{\"time\":\"2026-11-30T24:00:00.0000000Z\"," + ok + "}", "{\"time\":\"2024-02-29T23:59:59.9999999Z\"," + ok + "}",
                "{\"time\":\"0001-01-01T00:00:00.0000000Z\"," + ok + "}", "{\"time\":\"9999-12-31T23:59:59.9999999Z\"," + ok + "}", "{\"time\":\"2026-11-30T00:00:60.0000000Z\"," + ok + "}",
                "{\"time\":\"2026-11-30T00:00:00.46000-0Z\"," + ok + "}", "{\"time\":\"2026-11-30 00:00:00.4600000Z\"," + ok + "}", "{\"time\":null," + ok + "}", "{\"time\":5," + ok + "}",
                "{\"time\":\"2026-11-30T00:00:00.4600000Z\",\"event\":\"connect\"}", "{\"time\":\"garbage\",\"event\":\"connect\"}",
            };
            // nesting around JsonReader.MaxDepth, in a field nobody reads and in an event nobody reads
            foreach (var depth in new[] { 30, 31, 32, 33, 100 })
            {
                lines.Add("{" + ok + ",\"x\":" + new string('[', depth) + new string(']', depth) + "}");
                lines.Add("{" + ok + ",\"x\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}");
                lines.Add("{\"event\":\"connect\",\"x\":" + new string('[', depth) + new string(']', depth) + "}");
            }
            return lines.Select(l => new object[] { l });
        }

        [Theory]
        [MemberData(nameof(HostileLines))]
        public void A_hostile_line_reads_as_the_reference_reads_it(string line) => AssertLineSame(line);

        [Fact]
        public void A_string_read_eight_bytes_at_a_time_stops_at_each_position()
        {
            const string ok = "{\"event\":\"decision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\",\"reason\":\"";
            foreach (var stop in new[] { "", "\\n", "\\u00e9", "é", "\U0001F600", "\t", "\u001f", "\u007f" })
                for (int before = 0; before < 20; before++)
                    for (int after = 0; after < 10; after += 3)
                        AssertLineSame(ok + new string('a', before) + stop + new string('b', after) + "\"}");
        }

        [Fact]
        public void Every_cut_of_a_line_reads_as_the_reference_reads_it()
        {
            var line = Utf8.GetBytes(DecisionLogSample.Lines(40, 5).Split('\n').OrderByDescending(l => l.Count(c => c > 0x7F) * 10 + l.Length).First());
            for (int n = 0; n <= line.Length; n++) AssertLineSame(line.Take(n).ToArray());
        }

        [Fact]
        public void Invalid_UTF8_reads_as_the_reference_decodes_it()
        {
            var ok = Utf8.GetBytes("{\"event\":\"decision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\",\"helo\":\"#\",\"rule\":\"#\",\"results\":{\"#\":\"#\"}}");
            var bad = new[]
            {
                new byte[] { 0xFF }, new byte[] { 0xC3 }, new byte[] { 0xC0, 0xAF }, new byte[] { 0xED, 0xA0, 0x80 }, new byte[] { 0xF0, 0x9F, 0x98 },
                new byte[] { 0xE2, 0x82 }, new byte[] { 0x80, 0x80 }, new byte[] { 0xF4, 0x90, 0x80, 0x80 }, new byte[] { 0xC3, 0xA9, 0xFE, 0x41 },
                new byte[] { 0xEF, 0xBB, 0xBF },
            };
            foreach (var b in bad)
            {
                var line = new List<byte>();
                foreach (var c in ok) if (c == '#') line.AddRange(b); else line.Add(c);
                AssertLineSame(line.ToArray());
                AssertLineSame(b.Concat(ok).ToArray());                                       // before the object
                AssertLineSame(ok.Take(ok.Length - 1).Concat(b).Concat(new[] { (byte)'}' }).ToArray());   // between tokens
            }
            // The same through the stream, where the text reader decodes the whole file.
            var log = bad.SelectMany(b => ok.SelectMany(c => c == '#' ? b : new[] { c }).Concat(new[] { (byte)'\n' })).ToArray();
            AssertSame(Reference(log), Fast(new MemoryStream(log)));
        }

        [Theory]
        [InlineData(1)]
        [InlineData(3)]
        [InlineData(65536)]
        public void Lines_end_as_a_text_reader_ends_them(int chunk)
        {
            var record = DecisionLogSample.Lines(3, 2).Split('\n').Where(l => l.Contains("\"event\":\"decision\"")).ToArray();
            var text = record[0] + "\r\n" + record[1] + "\r" + record[2] + "\n\n\r\n\r\r" + "not json\r\n" + record[0] + "\n" + " \n" + record[1];   // no end on the last line
            var log = Utf8.GetBytes(text);
            var expected = Reference(log);
            Assert.Equal(new long[] { 1, 2, 3, 8, 9, 10, 11 }, expected.Select(e => e.Line));
            AssertSame(expected, Fast(new TrickleStream(log, chunk)));
        }

        [Fact]
        public void An_empty_log_and_one_of_blank_lines_have_no_entries()
        {
            Assert.Empty(Fast(new MemoryStream(new byte[0])));
            Assert.Empty(Fast(new MemoryStream(Utf8.GetBytes("\n\r\n\r"))));
            Assert.Empty(Fast(new MemoryStream(new byte[] { 0xEF, 0xBB, 0xBF })));
        }

        [Fact]
        public void A_byte_order_mark_at_the_start_is_passed_over()
        {
            var line = DecisionLogSample.Lines(1, 3).Split('\n').First(l => l.Contains("\"event\":\"decision\""));
            var log = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Utf8.GetBytes(line + "\n")).ToArray();
            var entries = Fast(new TrickleStream(log, 1));
            Assert.Single(entries);
            AssertSame(Reference(log), entries);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(1000)]
        [InlineData(1 << 20)]
        public void A_line_longer_than_the_maximum_is_reported_and_the_read_goes_on(int chunk)
        {
            const int max = 4000;
            var ok = "{\"event\":\"decision\",\"v\":1,\"stage\":\"Rcpt\",\"verdict\":\"Continue\",\"pad\":\"";
            string Padded(int length) => ok + new string('x', length - ok.Length - 2) + "\"}";
            var text = Padded(max) + "\n" + Padded(max + 1) + "\r\n" + Padded(max * 5) + "\r" + Padded(100) + "\n" + Padded(max + 1);
            var log = Utf8.GetBytes(text);
            var entries = Fast(new TrickleStream(log, chunk), max);
            Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, entries.Select(e => e.Line));
            Assert.NotNull(entries[0].Record);
            Assert.Equal("The line is longer than 4000 bytes; it was skipped.", entries[1].Error);
            Assert.NotNull(entries[2].Error);
            Assert.NotNull(entries[3].Record);
            Assert.NotNull(entries[4].Error);
        }

        [Fact]
        public void ReadFile_names_the_file_and_line_of_a_record_from_a_newer_schema()
        {
            var path = Path.Combine(Path.GetTempPath(), "decisionlog-" + Guid.NewGuid().ToString("n") + ".jsonl");
            try
            {
                var lines = DecisionLogSample.Lines(2, 4).Split('\n').Where(l => l.Contains("\"event\":\"decision\"")).ToArray();
                File.WriteAllBytes(path, Utf8.GetBytes("{\"event\":\"connect\"}\n" + lines[0] + "\n" + lines[1].Replace("\"v\":1,", "\"v\":2,") + "\n"));
                var read = new List<DecisionRecord>();
                var ex = Assert.Throws<FormatException>(() => { foreach (var r in DecisionRecordReader.ReadFile(path)) read.Add(r); });
                Assert.Single(read);
                Assert.Equal(path + ":3: Decision record version 2 is not one this module reads (1 to 1).", ex.Message);
            }
            finally { File.Delete(path); }
        }

        /// <summary>A stream that gives at most a few bytes per read, as a pipe or a growing file may.</summary>
        sealed class TrickleStream : MemoryStream
        {
            readonly int _chunk;
            public TrickleStream(byte[] data, int chunk) : base(data, false) { _chunk = chunk; }
            public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, _chunk));
        }
    }
}
