using System;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>Ends check_host() at once with PermError or TempError, from however deep the
    /// include/redirect recursion is (RFC 7208 §4.6.4, §5.2: both propagate unchanged).</summary>
    sealed class SpfAbort : Exception
    {
        public SpfAbort(SpfResult result, string problem) : base(problem)
        {
            Result = result;
        }

        public SpfResult Result { get; }

        public static SpfAbort Perm(string problem) => new SpfAbort(SpfResult.PermError, problem);
        public static SpfAbort Temp(string problem) => new SpfAbort(SpfResult.TempError, problem);
    }
}
