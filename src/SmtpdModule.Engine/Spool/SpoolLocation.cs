namespace SmtpdModule.Engine.Spool
{
    /// <summary>Where a message file is: its state, its path, and for <c>active</c> the forwarder
    /// that holds it.</summary>
    internal sealed class SpoolLocation
    {
        public SpoolLocation(string id, string state, string path, string owner = null)
        {
            Id = id;
            State = state;
            Path = path;
            Owner = owner;
        }

        public string Id { get; }
        public string State { get; }
        public string Path { get; }
        public string Owner { get; }
    }
}
