using System;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>One recipient of a spooled message and how far its delivery has come.</summary>
    public sealed class SpoolRecipient
    {
        internal SpoolRecipient(int index, string address, RecipientProgress progress)
        {
            Index = index;
            Address = address;
            Status = progress?.Status ?? RecipientStatus.Pending;
            StatusCode = progress?.StatusCode;
            Diagnostic = progress?.Diagnostic;
            Time = progress?.Time;
        }

        /// <summary>The recipient's position in the envelope.</summary>
        public int Index { get; }

        /// <summary>The address without angle brackets.</summary>
        public string Address { get; }

        public RecipientStatus Status { get; }

        /// <summary>The RFC 3463 code of the last answer for this recipient, if any.</summary>
        public string StatusCode { get; }

        /// <summary>The last answer for this recipient, if any.</summary>
        public string Diagnostic { get; }

        public DateTimeOffset? Time { get; }

        public override string ToString() => Address;
    }
}
