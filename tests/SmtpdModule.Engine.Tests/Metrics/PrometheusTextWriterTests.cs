using System;
using System.Globalization;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Metrics;
using Xunit;

namespace SmtpdModule.Engine.Tests.Metrics
{
    /// <summary>The exposition format 0.0.4 as the writer produces it, byte for byte.</summary>
    public sealed class PrometheusTextWriterTests
    {
        [Fact]
        public void A_counter_with_labels_escapes_backslash_quote_and_newline_in_values()
        {
            var w = new PrometheusTextWriter();
            w.Counter("smtpd_x_total", "Line one\nback\\slash \"quoted\"");
            w.Sample("smtpd_x_total", 3, "rule", "a\\b \"c\"\nd", "line", "7");
            Assert.Equal(
                "# HELP smtpd_x_total Line one\\nback\\\\slash \"quoted\"\n" +
                "# TYPE smtpd_x_total counter\n" +
                "smtpd_x_total{rule=\"a\\\\b \\\"c\\\"\\nd\",line=\"7\"} 3\n",
                w.ToString());
        }

        [Fact]
        public void Numbers_are_invariant_and_infinities_and_NaN_have_the_formats_spelling()
        {
            var saved = CultureInfo.CurrentCulture;
            try
            {
                CultureInfo.CurrentCulture = new CultureInfo("de-DE");   // a decimal comma would break every scrape
                var w = new PrometheusTextWriter();
                w.Gauge("g", "h");
                w.Sample("g", 0.25);
                w.Sample("g", double.PositiveInfinity);
                w.Sample("g", double.NegativeInfinity);
                w.Sample("g", double.NaN);
                w.Sample("g", 1234567);
                Assert.Equal("# HELP g h\n# TYPE g gauge\ng 0.25\ng +Inf\ng -Inf\ng NaN\ng 1234567\n", w.ToString());
            }
            finally { CultureInfo.CurrentCulture = saved; }
        }

        [Fact]
        public void A_histogram_writes_cumulative_buckets_ending_at_plus_Inf_then_sum_and_count()
        {
            var h = new Histogram(0.5, 1, 2.5);
            foreach (var v in new[] { 0.25, 0.5, 1, 3, 10 }) h.Observe(v);
            var w = new PrometheusTextWriter();
            w.Histogram("x_seconds", "Durations.", h.Snapshot());
            Assert.Equal(
                "# HELP x_seconds Durations.\n# TYPE x_seconds histogram\n" +
                "x_seconds_bucket{le=\"0.5\"} 2\n" +
                "x_seconds_bucket{le=\"1\"} 3\n" +
                "x_seconds_bucket{le=\"2.5\"} 3\n" +
                "x_seconds_bucket{le=\"+Inf\"} 5\n" +
                "x_seconds_sum 14.75\n" +
                "x_seconds_count 5\n",
                w.ToString());
        }

        [Theory]
        [InlineData("smtpd_sessions")]      // a counter without _total
        [InlineData("9lives_total")]        // a digit first
        [InlineData("smtpd-x_total")]       // a character the grammar does not have
        public void Names_the_format_does_not_allow_are_refused_for_a_counter(string name)
        {
            Assert.Throws<ArgumentException>(() => new PrometheusTextWriter().Counter(name, "h"));
        }

        [Fact]
        public void A_gauge_may_not_end_in_total_and_label_names_follow_the_grammar()
        {
            var w = new PrometheusTextWriter();
            Assert.Throws<ArgumentException>(() => w.Gauge("x_total", "h"));
            Assert.Throws<ArgumentException>(() => w.Sample("x", 1, "__reserved", "v"));
            Assert.Throws<ArgumentException>(() => w.Sample("x", 1, "bad-name", "v"));
            Assert.Throws<ArgumentException>(() => w.Sample("x", 1, "odd"));
        }
    }
}
