using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What every session of one proxy shares: options, rules, DNS, spool, counters, events, the stop signal.</summary>
    internal sealed class ProxyRuntime
    {
        readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        RuleEvaluator _evaluator;

        public ProxyRuntime(SmtpProxyOptions options, RulesFile rules, RuleLookups lookups, SpoolWriter spool, IEventSink events)
        {
            Options = options;
            RulesFile = rules;
            Lookups = lookups;
            Spool = spool;
            Events = events;
            _evaluator = new RuleEvaluator(rules.Current, options.Rules);
            RemoveHeaders = new HeaderNameMatcher(options.RemoveHeaders);
        }

        /// <summary>The header fields removed from incoming mail (the options' list as it was at start).</summary>
        public HeaderNameMatcher RemoveHeaders { get; }

        public SmtpProxyOptions Options { get; }
        public RulesFile RulesFile { get; }
        public RuleLookups Lookups { get; }
        public SpoolWriter Spool { get; }
        public IEventSink Events { get; }
        public ProxyCounters Counters { get; } = new ProxyCounters();

        /// <summary>Cancelled when the proxy starts stopping: idle sessions answer 421 and close.</summary>
        public CancellationToken Stopping => _stopping.Token;
        public bool IsStopping => _stopping.IsCancellationRequested;
        public void SignalStop() => _stopping.Cancel();

        /// <summary>The evaluator of the rules in force: the file is re-checked at most once a second.</summary>
        public RuleEvaluator Rules
        {
            get
            {
                var current = RulesFile.Current;
                var e = Volatile.Read(ref _evaluator);
                if (!ReferenceEquals(e.Rules, current))
                {
                    e = new RuleEvaluator(current, Options.Rules);
                    Volatile.Write(ref _evaluator, e);
                }
                return e;
            }
        }
    }
}
