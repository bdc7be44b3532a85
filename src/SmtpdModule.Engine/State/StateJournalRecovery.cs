namespace SmtpdModule.Engine.State
{
    /// <summary>How a journal's end looked when a <see cref="FileStateStore"/> opened it.</summary>
    public enum StateJournalDamage
    {
        /// <summary>Every byte was a valid record.</summary>
        None,
        /// <summary>The last record was cut short: a crash or power loss in the middle of a write,
        /// the one kind of damage an append-only file expects. That write was never acknowledged.</summary>
        TornTail,
        /// <summary>A complete record failed its checksum: bytes were changed on disk (a failing
        /// medium, another program). The records from there on are lost.</summary>
        Corrupt,
    }

    /// <summary>What replaying the journal found: the store keeps what came before the first bad
    /// record and cuts the file there, so new records never follow unreadable bytes.</summary>
    public sealed class StateJournalRecovery
    {
        internal StateJournalRecovery(string path, StateJournalDamage damage, long validLength, long discardedLength, int records)
        {
            Path = path;
            Damage = damage;
            ValidLength = validLength;
            DiscardedLength = discardedLength;
            Records = records;
        }

        /// <summary>The journal file.</summary>
        public string Path { get; }

        public StateJournalDamage Damage { get; }

        /// <summary>Bytes kept, header included: where the first bad record began.</summary>
        public long ValidLength { get; }

        /// <summary>Bytes cut off from <see cref="ValidLength"/> to the end.</summary>
        public long DiscardedLength { get; }

        /// <summary>Records replayed.</summary>
        public int Records { get; }

        public override string ToString() => Damage == StateJournalDamage.None
            ? Path + ": " + Records + " records"
            : Path + ": " + Records + " records, " + Damage + " at byte " + ValidLength + ", " + DiscardedLength + " bytes discarded";
    }
}
