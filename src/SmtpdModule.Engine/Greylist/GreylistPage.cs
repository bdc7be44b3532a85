using System.Collections.Generic;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>One page of a greylist listing, in key order.</summary>
    public sealed class GreylistPage
    {
        public GreylistPage(IReadOnlyList<GreylistEntry> entries, int offset, int total, bool incomplete)
        {
            Entries = entries;
            Offset = offset;
            Total = total;
            Incomplete = incomplete;
        }

        public IReadOnlyList<GreylistEntry> Entries { get; }
        /// <summary>Where in the whole listing the page starts.</summary>
        public int Offset { get; }
        /// <summary>How many entries matched the filter in all.</summary>
        public int Total { get; }
        /// <summary>The store held more greylist keys than one listing reads (<see cref="GreylistReader.ScanLimit"/>): entries past them are missing.</summary>
        public bool Incomplete { get; }
        /// <summary>Entries that matched follow this page.</summary>
        public bool HasMore => Offset + Entries.Count < Total;
    }
}
