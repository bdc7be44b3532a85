using System;
using System.Management.Automation;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Hosting
{
    internal static partial class ErrorMapping
    {
        public const string RecipientListSyntax = "RecipientListSyntax";
        public const string RecipientListUnreadable = "RecipientListUnreadable";
        public const string InvalidCallaheadHost = "InvalidCallaheadHost";

        /// <summary>A recipient list that cannot be used: its message names the file, line and column.</summary>
        public static ErrorRecord From(RecipientListException ex)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            return ex.IsUnreadable
                ? new ErrorRecord(ex, RecipientListUnreadable, ErrorCategory.ReadError, ex.Path)
                : new ErrorRecord(ex, RecipientListSyntax, ErrorCategory.ParserError, ex.Path);
        }

        public static ErrorRecord BadCallaheadHost(string value, string reason) =>
            new ErrorRecord(new ArgumentException("'" + value + "' is not a callahead host (host[:port]): " + reason + "."),
                InvalidCallaheadHost, ErrorCategory.InvalidArgument, value);
    }
}
