using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>Where the ident user comes from (reference §2.5). Asked only when a rule needs it.</summary>
    public interface IIdentSource
    {
        /// <summary>The user the client's identd names, or null for no answer.</summary>
        /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<string> QueryAsync(CancellationToken cancellationToken = default);
    }

    /// <summary>A fixed answer (Test-SmtpdRule's -Ident): never touches the network.</summary>
    public sealed class FixedIdentSource : IIdentSource
    {
        public static readonly FixedIdentSource None = new FixedIdentSource(null);
        readonly string _user;
        public FixedIdentSource(string user) { _user = user; }
        public Task<string> QueryAsync(CancellationToken cancellationToken = default) => Task.FromResult(_user);
    }
}
