using System.Threading.Tasks;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>The embedded store against the shared contract, on the machine's clock.</summary>
    public sealed class MemoryStateStoreContractTests : StateStoreContract
    {
        MemoryStateStore _store;

        protected override Task<IStateStore> CreateStoreAsync() => Task.FromResult<IStateStore>(_store = new MemoryStateStore());

        // One process, one store: a second proxy thread holds the same instance.
        protected override Task<IStateStore> CreatePeerAsync() => Task.FromResult<IStateStore>(_store);
    }
}
