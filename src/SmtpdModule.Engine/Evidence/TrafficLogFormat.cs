namespace SmtpdModule.Engine.Evidence
{
    /// <summary>The logs <see cref="TrafficLog.Read(string, TrafficLogFormat?, TrafficLogOptions)"/> imports.</summary>
    public enum TrafficLogFormat
    {
        /// <summary>This proxy's own JSON Lines log: its decision records, facts and all.</summary>
        Smtpd,
        /// <summary>Postfix's syslog lines (smtpd, qmgr and the delivery agents), as in /var/log/maillog.</summary>
        Postfix,
        /// <summary>Exchange's message tracking log (MSGTRK*.LOG): W3C header lines, then CSV rows.</summary>
        ExchangeTracking,
    }
}
