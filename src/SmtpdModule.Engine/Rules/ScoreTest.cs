namespace SmtpdModule.Engine.Rules
{
    /// <summary>What a <c>SCORE.name&gt;=N</c> source token tests: the named score reaches the threshold.</summary>
    public sealed class ScoreTest
    {
        internal ScoreTest(string name, int threshold, int offset)
        {
            Name = name;
            Threshold = threshold;
            Offset = offset;
        }

        /// <summary>The keyword that starts a score token.</summary>
        public const string Prefix = "SCORE.";

        public string Name { get; }
        public int Threshold { get; }
        /// <summary>The definition, bound when the line using it is loaded (the definition comes first).</summary>
        public ScoreDefinition Definition { get; internal set; }
        /// <summary>Where the token starts in its list field (for the load error of an undefined name).</summary>
        internal int Offset { get; }
    }
}
