namespace SmtpdModule.Engine.Smtp
{
    public enum SmtpVerb { Helo, Ehlo, Mail, Rcpt, Data, Rset, Noop, Quit, Vrfy, Help, StartTls, Unknown }

    public enum BodyType { SevenBit, EightBitMime }

    /// <summary>One parsed command line.</summary>
    public sealed class SmtpCommand
    {
        internal SmtpCommand(SmtpVerb verb, string argument)
        {
            Verb = verb;
            Argument = argument;
        }

        public SmtpVerb Verb { get; }
        /// <summary>The text after the verb, blanks trimmed.</summary>
        public string Argument { get; }
        /// <summary>MAIL/RCPT: the path as sent (brackets included).</summary>
        public string PathText { get; internal set; }
        /// <summary>MAIL: the SIZE= parameter, if given.</summary>
        public long? DeclaredSize { get; internal set; }
        public BodyType Body { get; internal set; }
        public bool SmtpUtf8 { get; internal set; }
    }
}
