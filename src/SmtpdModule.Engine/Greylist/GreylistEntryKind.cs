namespace SmtpdModule.Engine.Greylist
{
    /// <summary>Which of greylisting's three kinds of state store key an entry is.</summary>
    public enum GreylistEntryKind
    {
        /// <summary>A client network (or SPF domain), sender and recipient that tried: <c>grey:t:&lt;hash&gt;</c>.</summary>
        Triplet,
        /// <summary>A client's count of proven retries, which auto-allows it: <c>grey:a:&lt;identity&gt;</c>.</summary>
        AutoAllow,
        /// <summary>A client address that wrote to a greytrap: <c>grey:trap:&lt;address&gt;</c>.</summary>
        Trap,
    }
}
