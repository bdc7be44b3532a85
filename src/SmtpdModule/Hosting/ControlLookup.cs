using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// What the Get- and Stop- cmdlets do with -SpoolPath: find the control endpoints of a kind in
    /// the spool's <c>control/</c> folder (any process on this machine, this one included), ask
    /// each, and hand back the answers. Stale endpoints (the process is gone) are removed by
    /// <see cref="ControlClient"/> and never reported as running.
    /// </summary>
    internal static class ControlLookup
    {
        public static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(10);

        /// <summary>The endpoints in <paramref name="spool"/> of <paramref name="kind"/>, optionally
        /// only those with one of <paramref name="ids"/> or of <paramref name="processId"/>.</summary>
        public static List<ControlLocation> Find(string spool, string kind, int[] ids, int processId)
        {
            var list = new List<ControlLocation>();
            foreach (var location in ControlClient.Find(spool, kind))
            {
                if (ids != null && Array.IndexOf(ids, location.Id) < 0) continue;
                if (processId != 0 && location.ProcessId != processId) continue;
                list.Add(location);
            }
            return list;
        }

        /// <summary>The request and its answer; a stale endpoint gives null (it is not running).</summary>
        /// <exception cref="ControlException">No answer, or an error answer.</exception>
        public static async Task<ControlFields> AskAsync(ControlLocation location, string request, TimeSpan timeout)
        {
            try
            {
                return await ControlClient.RequestAsync(location, request, timeout).ConfigureAwait(false);
            }
            catch (ControlException ex) when (ex.Failure == ControlFailure.NotRunning)
            {
                return null;
            }
        }
    }
}
