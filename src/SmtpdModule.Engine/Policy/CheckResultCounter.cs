using System;
using System.Collections.Generic;
using System.Threading;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// A running proxy's check results counted per check and result, for a metrics exporter: the
    /// SPF result in force when a recipient was decided, the state a grey line found, and what
    /// recipient verification answered. One counter serves a proxy for its whole life (it does not
    /// depend on the rules), so a reload loses nothing.
    /// </summary>
    /// <remarks>
    /// The results are a fixed vocabulary (the values of <see cref="Spf.SpfResult"/>,
    /// <see cref="GreylistState"/> and <see cref="MailboxStatus"/>), so the exporter's label sets are
    /// bounded whatever clients send. Counting is on the session's hot path: an array index and one
    /// <see cref="Interlocked.Increment(ref long)"/>, no lock and no allocation.
    /// </remarks>
    public sealed class CheckResultCounter
    {
        /// <summary>The check names <see cref="Read"/> reports.</summary>
        public const string SpfCheck = "spf", GreylistCheck = "greylist", VerificationCheck = "verification";

        static readonly string[] SpfNames = Enum.GetNames(typeof(Spf.SpfResult));
        static readonly string[] GreyNames = Enum.GetNames(typeof(GreylistState));
        static readonly string[] VerifyNames = Enum.GetNames(typeof(MailboxStatus));

        readonly long[] _spf = new long[SpfNames.Length];
        readonly long[] _grey = new long[GreyNames.Length];
        readonly long[] _verify = new long[VerifyNames.Length];

        /// <summary>Counts what lay behind one RCPT verdict: the session's SPF result if its check has
        /// ended, and the grey line's finding if one matched.</summary>
        internal void Count(Verdict verdict, PolicySession session)
        {
            var spf = session?.Spf;
            if (spf != null && spf.Status == System.Threading.Tasks.TaskStatus.RanToCompletion && spf.Result != null)
                Add(_spf, (int)spf.Result.Result);
            var grey = verdict?.Decision?.Greylist;
            if (grey != null) Add(_grey, (int)grey.State);
        }

        /// <summary>Counts one answer of recipient verification.</summary>
        internal void CountVerification(MailboxStatus status) => Add(_verify, (int)status);

        static void Add(long[] row, int i)
        {
            if ((uint)i < (uint)row.Length) Interlocked.Increment(ref row[i]);
        }

        /// <summary>Every check and result with its count now, zeros included, in a fixed order.</summary>
        public IEnumerable<(string Check, string Result, long Count)> Read()
        {
            for (var i = 0; i < _spf.Length; i++) yield return (SpfCheck, SpfNames[i], Interlocked.Read(ref _spf[i]));
            for (var i = 0; i < _grey.Length; i++) yield return (GreylistCheck, GreyNames[i], Interlocked.Read(ref _grey[i]));
            for (var i = 0; i < _verify.Length; i++) yield return (VerificationCheck, VerifyNames[i], Interlocked.Read(ref _verify[i]));
        }
    }
}
