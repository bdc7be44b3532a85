using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A message one forwarder has taken for delivery (<see cref="SpoolLease.TryClaim"/>): it sits
    /// in that forwarder's directory under <c>active/</c> until <see cref="SpoolLease.Finish"/>
    /// moves it on, and no other forwarder can take it meanwhile.
    /// </summary>
    public sealed class ClaimedMessage
    {
        internal ClaimedMessage(SpoolLease lease, string path, Envelope envelope, DeliveryStatus record, SpoolState claimedFrom)
        {
            Lease = lease;
            Path = path;
            Envelope = envelope;
            HasRecord = record != null;
            Status = record ?? new DeliveryStatus();
            ClaimedFrom = claimedFrom;
        }

        internal SpoolLease Lease { get; }
        internal string Path { get; }

        /// <summary>Whether a delivery record existed when the message was claimed: only the
        /// holder of a claim writes one, so without it there is none to delete when done.</summary>
        internal bool HasRecord { get; }

        public string Id => Envelope.Id;

        public Envelope Envelope { get; }

        /// <summary>The delivery record so far; a new, empty one for a message never tried. The
        /// forwarder updates it and hands it to <see cref="SpoolLease.Finish"/>.</summary>
        public DeliveryStatus Status { get; }

        /// <summary>The state the message was claimed from.</summary>
        public SpoolState ClaimedFrom { get; }

        /// <summary>Opens the message bytes from their first byte (our Received: header).</summary>
        /// <exception cref="SpoolException">The file cannot be read.</exception>
        public Stream OpenBody() =>
            SpoolReader.TryOpenBody(Path, Id) ?? throw new SpoolException(Id, SpoolErrorReason.NotFound);

        public override string ToString() => Id;
    }
}
