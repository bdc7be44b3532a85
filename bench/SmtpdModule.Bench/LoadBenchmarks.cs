using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench
{
    /// <summary>How long <see cref="RuleSet.Load"/> takes for the 100,000-line file: read, parse, validate, index.</summary>
    [Config(typeof(BenchConfig))]
    [CategoriesColumn]
    public class LoadBenchmarks
    {
        public const string Category = "Load";

        string _directory;
        string _path;

        [Params(100_000)]
        public int Lines { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            var workload = RulesWorkload.Create(Lines);
            _directory = RulesWorkload.NewTempDirectory();
            _path = workload.WriteTo(_directory);
            var set = RuleSet.Load(_path);
            if (set.Rules.Count < Lines - Lines / 500 - 2)
                throw new InvalidOperationException("only " + set.Rules.Count + " rules loaded from " + Lines + " lines");
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        [Benchmark]
        [BenchmarkCategory(Category)]
        public RuleSet Load() => RuleSet.Load(_path);
    }
}
