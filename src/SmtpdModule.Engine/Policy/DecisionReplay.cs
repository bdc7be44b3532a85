using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Decides a recorded RCPT (or a refused MAIL) again: the session the record describes is rebuilt stage by stage
    /// through the same <see cref="PolicyPipeline"/> the proxy runs, every fact is answered from the
    /// record, and the new verdict is set beside the old. Under the rules and options the proxy had,
    /// the verdict is the same; under new ones, it is what the proxy would now answer.
    /// </summary>
    public static class DecisionReplay
    {
        /// <summary>Decides <paramref name="record"/>'s command again under <paramref name="pipeline"/>.</summary>
        /// <param name="record">A logged decision (<see cref="DecisionRecordReader"/>).</param>
        /// <param name="pipeline">The policy to decide with: the proxy's, or a candidate.</param>
        /// <param name="fallback">Asked for what the record does not hold (a new rule's RBL, say);
        /// null answers those as failed lookups. Either way they are listed in the outcome.</param>
        /// <param name="cancellationToken">Stops a fallback lookup.</param>
        public static Task<ReplayOutcome> RunAsync(DecisionRecord record, PolicyPipeline pipeline, IFacts fallback = null, CancellationToken cancellationToken = default) =>
            RunAsync(record, pipeline, fallback, false, cancellationToken);

        /// <summary>Decides <paramref name="record"/>'s command again under <paramref name="pipeline"/>.</summary>
        /// <param name="record">A logged decision (<see cref="DecisionRecordReader"/>).</param>
        /// <param name="pipeline">The policy to decide with: the proxy's, or a candidate.</param>
        /// <param name="fallback">Asked for what the record does not hold; null answers those as failed lookups.</param>
        /// <param name="askDnsLive">Ask <paramref name="fallback"/> every DNS question, recorded or not.</param>
        /// <param name="cancellationToken">Stops a fallback lookup.</param>
        /// <exception cref="NotSupportedException">The record is of a stage other than MAIL or RCPT.</exception>
        /// <exception cref="FormatException">The record's client address or a failed test is not one this engine reads.</exception>
        public static async Task<ReplayOutcome> RunAsync(DecisionRecord record, PolicyPipeline pipeline, IFacts fallback, bool askDnsLive,
                                                         CancellationToken cancellationToken = default)
        {
            if (record == null) throw new ArgumentNullException(nameof(record));
            if (pipeline == null) throw new ArgumentNullException(nameof(pipeline));
            if (record.Stage != PolicyStage.Rcpt && record.Stage != PolicyStage.Mail)
                throw new NotSupportedException("Only MAIL and RCPT decisions are replayed; this record is of " + record.Stage + ".");
            if (!IPAddress.TryParse(record.ClientAddress ?? "", out var client))
                throw new FormatException("The record's client address '" + record.ClientAddress + "' is not an IP address.");

            var facts = new RecordedFacts(record.Facts, fallback, askDnsLive);
            // The check runs at the record's time: a greylisted retry's wait is measured as it was.
            // The session is handed the record's facts; it has no need to record them again.
            var session = new PolicySession(client, facts, recordFacts: false) { Clock = new State.FixedClock(record.Time) };
            // The downstream's limits as the session had them: a SIZE or SMTPUTF8 refusal decides again the same way.
            session.UseDownstream(record.Downstream);
            // The protocol tests the client had failed: FAILED= lines and enforced tests decide again the same way.
            foreach (var name in record.FailedTests)
                if (Rules.ProtocolTestNames.TryParse(name, out var test)) session.Failed(test);
                else throw new FormatException("The record's failed protocol test '" + name + "' is not one this engine knows.");
            // Each stage as the session ran it; one that no longer lets the transaction through is the answer.
            var verdict = await pipeline.ConnectAsync(session, cancellationToken).ConfigureAwait(false);
            if (!verdict.TakesEffect) return new ReplayOutcome(record, verdict, facts.Unrecorded);
            if (record.Tls) session.Secured();
            if (record.Helo != null)
            {
                verdict = pipeline.Helo(session, record.Helo, record.Esmtp);
                if (!verdict.TakesEffect) return new ReplayOutcome(record, verdict, facts.Unrecorded);
                session.Greeted(record.Helo, record.Esmtp);
            }
            verdict = pipeline.Mail(session, record.From ?? "<>", record.SmtpUtf8, record.Size);
            if (!verdict.TakesEffect || record.Stage == PolicyStage.Mail) return new ReplayOutcome(record, verdict, facts.Unrecorded);
            pipeline.BeginTransaction(session, verdict.Path, record.SmtpUtf8, record.Size, cancellationToken);
            verdict = await pipeline.RcptAsync(session, record.To, false, cancellationToken).ConfigureAwait(false);
            return new ReplayOutcome(record, verdict, facts.Unrecorded);
        }
    }
}
