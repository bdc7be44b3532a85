using System.Management.Automation;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// -SmartHost of Start-SmtpdProxy and Test-SmtpdRule: the real mail server, written as for
    /// Start-SmtpFwd (host[:port]) and parsed by the same code, whose limits the proxy learns from
    /// its EHLO. A value that is not one is the forwarder's InvalidSmartHost error.
    /// </summary>
    internal static class SmartHostProbe
    {
        /// <returns>The probe; null with <paramref name="error"/> when <paramref name="smartHost"/> is not host[:port].</returns>
        public static DownstreamLimitsProbe From(string smartHost, string heloName, out ErrorRecord error)
        {
            if (!Engine.Forwarding.SmartHost.TryParse(smartHost, out var host, out var port, out var why))
            {
                error = ErrorMapping.BadSmartHost(smartHost, why);
                return null;
            }
            error = null;
            return DownstreamLimitsProbe.ForSmartHost(host, port, heloName);
        }
    }
}
