using System;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>
    /// The Redis store against the shared contract, on the collection's redis-server. Each test has a
    /// key prefix of its own, with glob characters in it, so every listing also shows the store's
    /// own prefix is escaped; the peer is a second connection, as a second proxy would have.
    /// </summary>
    [Collection("redis")]
    public sealed class RedisStateStoreContractTests : StateStoreContract
    {
        readonly TestRedisServer _redis;
        readonly string _prefix = "contract[" + Guid.NewGuid().ToString("N") + "]*?:";

        public RedisStateStoreContractTests(TestRedisServer redis)
        {
            _redis = redis;
        }

        protected override Task<IStateStore> CreateStoreAsync() => OpenAsync();

        protected override Task<IStateStore> CreatePeerAsync() => OpenAsync();

        async Task<IStateStore> OpenAsync()
        {
            var options = RedisStateStoreOptions.FromUri(_redis.Uri);
            options.Password = _redis.Password;
            options.KeyPrefix = _prefix;
            // The contract is about meaning, not speed: a generous bound keeps a busy machine from
            // turning a slow answer into a failure. RedisStateStoreTests tests the bound itself.
            options.OperationTimeout = TimeSpan.FromSeconds(10);
            var store = new RedisStateStore(options);
            Assert.True(await store.WaitUntilConnectedAsync(TimeSpan.FromSeconds(15)), "not connected to " + store.Name + "\n" + _redis.Log);
            return store;
        }
    }
}
