namespace SmtpdModule.Engine.Spool
{
    /// <summary>Envelope paths as the spool stores them (<c>&lt;a@b&gt;</c>, as the client sent
    /// them) and as transports need them (<c>a@b</c>).</summary>
    public static class EnvelopeAddress
    {
        /// <summary>The path without its one pair of enclosing angle brackets; <c>""</c> for the
        /// null path <c>&lt;&gt;</c>. Text without brackets is returned as it is.</summary>
        public static string Bare(string path)
        {
            if (path == null) return "";
            return path.Length >= 2 && path[0] == '<' && path[path.Length - 1] == '>'
                ? path.Substring(1, path.Length - 2)
                : path;
        }
    }
}
