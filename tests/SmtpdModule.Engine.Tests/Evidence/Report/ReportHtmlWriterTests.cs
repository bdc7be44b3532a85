using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SmtpdModule.Engine.Evidence.Report;
using SmtpdModule.Engine.Policy;
using Xunit;
using static SmtpdModule.Engine.Tests.Evidence.Report.ReportEvents;

namespace SmtpdModule.Engine.Tests.Evidence.Report
{
    /// <summary>The page stands alone, shows what came off the network as text, and has one chart
    /// point per interval and series. (Rendering in a browser: tests/Module/ExportSmtpdReport.Tests.ps1.)</summary>
    public sealed class ReportHtmlWriterTests : IDisposable
    {
        readonly string _dir = Path.Combine(Path.GetTempPath(), "smtpd-report-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
        }

        static TrafficReport Hostile()
        {
            var b = new TrafficReportBuilder(new TrafficReportOptions(T0, T0.AddHours(6), TimeSpan.FromHours(1)) { Title = "<b>Mail</b> & more" });
            var d = Decision(TimeSpan.FromMinutes(30), "s1", "192.0.2.1", VerdictKind.Reject, "550 no", 1, "noto:ALL:ALL:ALL:550 <i>%F</i>",
                             from: "<\"<script>alert('x')</script>\"@evil.test>");
            b.Add(d);
            return b.Build();
        }

        [Fact]
        public void Escapes_every_string_from_the_log()
        {
            var html = ReportHtmlWriter.Render(Hostile());
            Assert.DoesNotContain("<script", html);
            Assert.DoesNotContain("<i>", html);
            Assert.DoesNotContain("<b>Mail", html);
            Assert.Contains("&lt;&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;@evil.test&gt;", html);
            Assert.Contains("&lt;b&gt;Mail&lt;/b&gt; &amp; more", html);
        }

        [Fact]
        public void Forbids_every_load_and_draws_one_point_per_interval_and_series()
        {
            var html = ReportHtmlWriter.Render(Hostile());
            Assert.Contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">", html);
            Assert.DoesNotMatch(new Regex(@"\b(src|href)\s*=", RegexOptions.IgnoreCase), html);
            Assert.Equal(36, Regex.Matches(html, "<circle class=\"point\"").Count);   // two charts, three series, six hours
            Assert.Equal(6, Regex.Matches(html, "<circle class=\"point\" data-series=\"refused\"").Count);
            Assert.Contains("<circle class=\"point\" data-series=\"refused\" data-value=\"1\"", html);
        }

        [Theory]
        [InlineData("a\u0001b", "a\uFFFDb")]
        [InlineData("tab\tand\nnewline", "tab\tand\nnewline")]
        [InlineData("\u0085", "\uFFFD")]
        public void Replaces_what_html_may_not_hold(string text, string expected) => Assert.Equal(expected, HtmlText.Escape(text));

        [Fact]
        public void Replaces_a_lone_surrogate_and_keeps_a_pair()
        {
            // Not InlineData: a lone surrogate does not survive the test runner's serialization.
            Assert.Equal("a\uFFFDb", HtmlText.Escape("a" + (char)0xD800 + "b"));
            Assert.Equal("a\uFFFD", HtmlText.Escape("a" + (char)0xDC00));
            Assert.Equal("a\uD83D\uDE00b", HtmlText.Escape("a\uD83D\uDE00b"));
            Assert.Equal("&lt;\uD83D\uDE00", HtmlText.Escape("<\uD83D\uDE00"));
        }

        [Fact]
        public void Writes_the_file_whole_and_replaces_an_old_one()
        {
            Directory.CreateDirectory(_dir);
            var path = Path.Combine(_dir, "report.html");
            File.WriteAllText(path, "old");
            var report = Hostile();
            ReportHtmlWriter.Write(report, path);
            Assert.Equal(path, report.Path);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(path));
            Assert.Equal(new[] { "report.html" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
        }

        [Fact]
        public void Leaves_nothing_behind_when_the_folder_is_missing()
        {
            var path = Path.Combine(_dir, "missing", "report.html");
            Assert.Throws<DirectoryNotFoundException>(() => ReportHtmlWriter.Write(Hostile(), path));
            Assert.False(Directory.Exists(Path.Combine(_dir, "missing")));
        }
    }
}
