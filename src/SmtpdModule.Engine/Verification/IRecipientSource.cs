using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Says whether an address has a mailbox downstream (a list, a directory, a callahead). Thread-safe;
    /// never throws for a source that cannot answer: that is <see cref="MailboxStatus.Unavailable"/>.
    /// </summary>
    public interface IRecipientSource
    {
        /// <summary>"list", "callahead", "ldap": the name the log, the cache and -Explain use.</summary>
        string Name { get; }

        /// <param name="mailbox">The recipient as <c>local@domain</c> (no angle brackets), as the address check parsed it.</param>
        /// <param name="cancellationToken">The session ends: stop asking.</param>
        Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default);
    }
}
