namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A match in three values plus "pending". Unknown (a lookup failed somewhere below) carries
    /// the original's reading beside it: UnknownNo is what a failed token gives, UnknownYes can
    /// only come out of an EXCEPT whose exclusion failed.
    /// </summary>
    internal enum Tri { No, Yes, Pending, UnknownNo, UnknownYes }

    /// <summary>Kleene's connectives over <see cref="Tri"/>, as <see cref="RuleScan"/> combines lists and tokens.</summary>
    internal static class TriLogic
    {
        public static bool IsUnknown(Tri t) => t == Tri.UnknownNo || t == Tri.UnknownYes;

        /// <summary>Kleene's not: unknown stays unknown, the original's reading flips.</summary>
        public static Tri Not(Tri t) =>
            t == Tri.Yes ? Tri.No : t == Tri.No ? Tri.Yes : t == Tri.UnknownNo ? Tri.UnknownYes : t == Tri.UnknownYes ? Tri.UnknownNo : t;

        /// <summary>Kleene's and of two settled values (neither pending).</summary>
        public static Tri And(Tri a, Tri b)
        {
            if (a == Tri.No || b == Tri.No) return Tri.No;
            if (a == Tri.Yes && b == Tri.Yes) return Tri.Yes;
            bool lenient = (a == Tri.Yes || a == Tri.UnknownYes) && (b == Tri.Yes || b == Tri.UnknownYes);
            return lenient ? Tri.UnknownYes : Tri.UnknownNo;
        }
    }
}
