using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>One live key of a state store as a listing shows it.</summary>
    public sealed class StateEntry
    {
        public StateEntry(string key, string value, TimeSpan? timeToLive)
        {
            Key = key ?? throw new ArgumentNullException(nameof(key));
            Value = value ?? throw new ArgumentNullException(nameof(value));
            TimeToLive = timeToLive;
        }

        public string Key { get; }
        public string Value { get; }
        /// <summary>How long the key has left; null when it does not expire.</summary>
        public TimeSpan? TimeToLive { get; }

        public override string ToString() => Key + " = " + Value + (TimeToLive == null ? "" : " (" + TimeToLive + ")");
    }
}
