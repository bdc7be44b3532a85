using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SmtpdModule.Bench
{
    /// <summary>
    /// One short job (a whole <c>--filter '*'</c> run takes a few minutes on 2 cores), allocations
    /// per operation, the ratio to each group's baseline, and decisions per second.
    /// </summary>
    public sealed class BenchConfig : ManualConfig
    {
        public BenchConfig()
        {
            AddJob(Job.Default
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithId("Short"));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(BaselineRatioColumn.RatioMean, BaselineRatioColumn.RatioStdDev);
            AddColumn(new DecisionsPerSecondColumn());
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
            // "57.12x faster" reads better than "0.02" when the baseline is the slow one.
            WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
        }
    }

    /// <summary>1 / mean: decisions per second on one core (each operation is one decision).</summary>
    public sealed class DecisionsPerSecondColumn : IColumn
    {
        public string Id => nameof(DecisionsPerSecondColumn);
        public string ColumnName => "Decisions/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Decisions per second on one core: 1 / Mean (decision benchmarks only)";

        public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(DecisionBenchmarks));
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            if (benchmarkCase.Descriptor.Type != typeof(DecisionBenchmarks)) return "-";
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats == null || stats.Mean <= 0) return "NA";
            double perSecond = 1e9 / stats.Mean;   // Mean is in nanoseconds per operation
            return perSecond >= 100
                ? perSecond.ToString("N0", CultureInfo.InvariantCulture)
                : perSecond.ToString("N2", CultureInfo.InvariantCulture);
        }

        public override string ToString() => ColumnName;
    }
}
