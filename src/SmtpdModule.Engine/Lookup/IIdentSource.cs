using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>Where the ident user comes from (reference §2.5). Asked only when a rule needs it.</summary>
    public interface IIdentSource
    {
        /// <summary>What the client's identd says: a user, no answer, or a failure to tell.</summary>
        /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default);
    }

    /// <summary>A fixed answer (Test-SmtpdRule's -Ident): never touches the network.</summary>
    public sealed class FixedIdentSource : IIdentSource
    {
        public static readonly FixedIdentSource None = new FixedIdentSource(IdentAnswer.None);
        readonly IdentAnswer _answer;
        public FixedIdentSource(string user) { _answer = IdentAnswer.Of(user); }
        public FixedIdentSource(IdentAnswer answer) { _answer = answer ?? IdentAnswer.None; }
        public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default) => Task.FromResult(_answer);
    }
}
