using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The one way a check learns anything from outside the session: DNS answers (with their TTLs),
    /// the client's ident answer, and reads from the state store. The proxy hands its checks the
    /// network (<see cref="LiveFacts"/>, usually behind a <see cref="FactRecorder"/>); a test or a
    /// replay hands them recorded answers (<see cref="RecordedFacts"/>) and gets the same verdicts.
    /// </summary>
    public interface IFacts : IDnsResolver, IIdentSource
    {
        /// <summary>The value stored under <paramref name="key"/>, or null when there is none.</summary>
        Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default);

        /// <summary>Adds <paramref name="delta"/> to the counter under <paramref name="key"/> (created to
        /// expire after <paramref name="window"/>) and returns its new value: a rate limit's count, which
        /// a record keeps as a fact so a replay counts the same.</summary>
        Task<long> CountAsync(string key, long delta, System.TimeSpan window, CancellationToken cancellationToken = default);
    }
}
