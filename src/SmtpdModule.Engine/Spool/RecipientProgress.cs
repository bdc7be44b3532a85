using System;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>One recipient's line in a <see cref="DeliveryStatus"/>.</summary>
    public sealed class RecipientProgress
    {
        public RecipientProgress(RecipientStatus status) => Status = status;

        public RecipientStatus Status { get; set; }

        /// <summary>When <see cref="Status"/> or <see cref="Diagnostic"/> last changed.</summary>
        public DateTimeOffset? Time { get; set; }

        /// <summary>The RFC 3463 status of the last answer (<c>2.0.0</c>, <c>4.2.2</c>, <c>5.1.1</c>).</summary>
        public string StatusCode { get; set; }

        /// <summary>What the next hop said, one line.</summary>
        public string Diagnostic { get; set; }
    }
}
