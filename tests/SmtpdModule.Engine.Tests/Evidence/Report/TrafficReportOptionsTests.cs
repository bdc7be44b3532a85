using System;
using SmtpdModule.Engine.Evidence.Report;
using Xunit;

namespace SmtpdModule.Engine.Tests.Evidence.Report
{
    public sealed class TrafficReportOptionsTests
    {
        static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

        [Theory]
        [InlineData(60, 1, 60)]            // an hour: one-minute steps
        [InlineData(360, 5, 72)]           // six hours: five minutes
        [InlineData(1440, 15, 96)]         // a day: fifteen minutes, exactly 96 points
        [InlineData(1441, 30, 49)]         // a minute more: thirty
        [InlineData(10080, 120, 84)]       // a week: two hours
        public void Chooses_the_shortest_step_of_at_most_96_points(int windowMinutes, int stepMinutes, int points)
        {
            var o = new TrafficReportOptions(T0, T0.AddMinutes(windowMinutes));
            Assert.Equal(TimeSpan.FromMinutes(stepMinutes), o.Interval);
            Assert.Equal(points, o.BucketCount);
        }

        [Fact]
        public void Refuses_an_empty_window_a_step_of_nothing_and_too_many_points()
        {
            Assert.Equal("end", Assert.Throws<ArgumentException>(() => new TrafficReportOptions(T0, T0)).ParamName);
            Assert.Equal("interval", Assert.Throws<ArgumentException>(() => new TrafficReportOptions(T0, T0.AddHours(1), TimeSpan.Zero)).ParamName);
            Assert.Equal("interval", Assert.Throws<ArgumentException>(() => new TrafficReportOptions(T0, T0.AddDays(1), TimeSpan.FromSeconds(1))).ParamName);
            Assert.Equal(2000, new TrafficReportOptions(T0, T0.AddSeconds(2000), TimeSpan.FromSeconds(1)).BucketCount);
        }
    }
}
