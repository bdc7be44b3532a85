using System;
using System.IO;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench
{
    /// <summary>
    /// Decisions per second against generated rules files of 10, 1,000 and 100,000 lines, no DNS:
    /// the compiled, indexed <see cref="RuleSet"/> (<see cref="Engine"/>) against the original's
    /// approach of re-reading and re-parsing the file for every check (<see cref="Original"/>, the
    /// baseline of each size).
    /// </summary>
    /// <remarks>
    /// One benchmark invocation decides <see cref="RulesWorkload.CycleLength"/> consecutive checks
    /// of the rotating array of prebuilt inputs (OperationsPerInvoke), so every reported time and
    /// allocation is per decision and every invocation has the same mix of early, deep and
    /// fall-through checks however few invocations a slow case gets.
    /// </remarks>
    [Config(typeof(BenchConfig))]
    [GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
    [CategoriesColumn]
    public class DecisionBenchmarks
    {
        public const string Category = "Decide";

        RulesWorkload _workload;
        string _directory;
        string _path;
        RuleEvaluator _evaluator;
        RuleSession _session;
        RuleInput[] _inputs;
        int _next;

        [Params(10, 1_000, 100_000)]
        public int Lines { get; set; }

        void Prepare()
        {
            _workload = RulesWorkload.Create(Lines);
            _directory = RulesWorkload.NewTempDirectory();
            _path = _workload.WriteTo(_directory);
            _inputs = _workload.Inputs;
            _session = RuleSession.Offline();
            _next = 0;
        }

        [GlobalSetup(Target = nameof(Engine))]
        public void SetupEngine()
        {
            Prepare();
            _evaluator = new RuleEvaluator(RuleSet.Load(_path));
            // Every prepared check must decide offline, on the line it was built for.
            for (int i = 0; i < _inputs.Length; i++)
            {
                if (!_evaluator.TryEvaluate(_inputs[i], _session, out var d))
                    throw new InvalidOperationException("TryEvaluate returned false (a fact is pending) for input " + i + ": " + _inputs[i].To);
                Check(i, d, d.LineNumber);
            }
        }

        [GlobalSetup(Target = nameof(Original))]
        public void SetupOriginal()
        {
            Prepare();
            // The slow path at 100,000 lines takes seconds per cycle: check one cycle only.
            for (int i = 0; i < RulesWorkload.CycleLength; i++)
            {
                var d = OriginalDecide(_path, _inputs[i], _session, out int line);
                Check(i, d, line);
            }
        }

        void Check(int i, RuleDecision d, int? line)
        {
            if (d == null || d.Basis != DecisionBasis.Rule || d.Action != _workload.ExpectedActions[i] || line != _workload.ExpectedLines[i])
                throw new InvalidOperationException("input " + i + " (" + _inputs[i].ClientName + " " + _inputs[i].Client + " "
                    + _inputs[i].From + " -> " + _inputs[i].To + "): expected " + _workload.ExpectedActions[i] + " at line "
                    + _workload.ExpectedLines[i] + ", got " + (d == null ? "nothing" : d.Action + " " + d.Basis) + " at line " + line);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        /// <summary>The engine: the set compiled and indexed once, one <see cref="RuleEvaluator.TryEvaluate"/> per check.</summary>
        [Benchmark(OperationsPerInvoke = RulesWorkload.CycleLength)]
        [BenchmarkCategory(Category)]
        public RuleDecision Engine()
        {
            RuleDecision last = null;
            int next = _next;
            for (int k = 0; k < RulesWorkload.CycleLength; k++)
            {
                _evaluator.TryEvaluate(_inputs[next], _session, out last);
                next = (next + 1) & (RulesWorkload.InputCount - 1);
            }
            _next = next;
            return last;
        }

        /// <summary>The original's way: per check, read the file from the top and parse and try each line until one decides.</summary>
        [Benchmark(Baseline = true, OperationsPerInvoke = RulesWorkload.CycleLength)]
        [BenchmarkCategory(Category)]
        public RuleDecision Original()
        {
            RuleDecision last = null;
            int next = _next;
            for (int k = 0; k < RulesWorkload.CycleLength; k++)
            {
                last = OriginalDecide(_path, _inputs[next], _session, out _);
                next = (next + 1) & (RulesWorkload.InputCount - 1);
            }
            _next = next;
            return last;
        }

        /// <summary>
        /// smtpd's check_address approach (reference §1.1): open the file, and for each line that is
        /// not a comment compile that line alone and try it; the first matching non-debug line
        /// decides; at the end of the file the default applies.
        /// </summary>
        static RuleDecision OriginalDecide(string path, RuleInput input, RuleSession session, out int decidingLine)
        {
            RuleDecision last = null;
            int lineNumber = 0;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
            {
                string line;
                while ((line = reader.ReadLine()) != null)
                {
                    lineNumber++;
                    if (line.Length == 0 || line[0] == '#') continue;
                    var one = new RuleEvaluator(RuleSet.Parse(line + "\n", path));
                    if (!one.TryEvaluate(input, session, out last))
                        throw new InvalidOperationException("line " + lineNumber + " needs a lookup");
                    if (last.Basis == DecisionBasis.Rule)
                    {
                        decidingLine = lineNumber;
                        return last;
                    }
                    // A matching debug line, or no match: go on with the next line.
                }
            }
            decidingLine = 0;
            return last;
        }
    }
}
