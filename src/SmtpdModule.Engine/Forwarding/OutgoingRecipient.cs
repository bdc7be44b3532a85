namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>One recipient of an <see cref="OutgoingMessage"/>.</summary>
    public sealed class OutgoingRecipient
    {
        public OutgoingRecipient(int index, string address)
        {
            Index = index;
            Address = address;
        }

        /// <summary>The recipient's position in the envelope (duplicates are distinct recipients).</summary>
        public int Index { get; }

        /// <summary>The forward path without angle brackets, e.g. <c>b@example.com</c>.</summary>
        public string Address { get; }

        public override string ToString() => Address;
    }
}
