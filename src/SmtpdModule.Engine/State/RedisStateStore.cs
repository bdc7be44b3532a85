using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The state store several proxies share: one Redis server (StackExchange.Redis), so a sender
    /// greylisted at one MX passes at another, limits hold across them and protocol-test passes
    /// count everywhere.
    /// </summary>
    /// <remarks>
    /// <para>Each method sends exactly the command <see cref="IStateStore"/> names: GET; SET key value
    /// [PX ms]; SET key value NX PX ms; MULTI, SET key 0 NX PX ms, INCRBY key delta, EXEC; DEL; and
    /// for a listing SCAN MATCH (the prefix glob-escaped) then GET and PTTL. Every key is put under
    /// <see cref="RedisStateStoreOptions.KeyPrefix"/>, which callers never see. TTLs are rounded up
    /// to whole milliseconds, Redis's unit, so a key never lives shorter than asked.</para>
    /// <para>Failing fast is the point. The connection is made and remade in the background
    /// (AbortOnConnectFail off), commands are never queued while it is down (BacklogPolicy.FailFast),
    /// and each call waits at most <see cref="RedisStateStoreOptions.OperationTimeout"/>, whatever the
    /// library's own timers do, before it throws <see cref="StateStoreUnavailableException"/>. What a
    /// decision does then is the caller's fail mode. A command abandoned at the bound may still be
    /// carried out by the server later: a SET or INCRBY is then done once, late, never twice.</para>
    /// <para>The library's tie-breaker key and configuration channel are switched off: the store
    /// touches no key outside its prefix and subscribes to nothing.</para>
    /// </remarks>
    public sealed class RedisStateStore : IStateStore, IDisposable
    {
        // SCAN's COUNT: how much of the keyspace one round trip walks. A listing is an admin's, so a
        // few hundred keys a page keeps each page well inside the bound.
        const int ScanPage = 250;

        readonly RedisStateStoreOptions _options;
        readonly string _name;
        readonly Task<ConnectionMultiplexer> _connecting;
        volatile bool _disposed;
        // The last connection failure the library reported, null once connected: a call that fails
        // for want of a connection often carries no cause, and this tells a refused credential or
        // certificate from a dead server.
        volatile Exception _lastFailure;

        /// <summary>Starts connecting in the background and returns at once; calls made before the
        /// connection is up fail within the bound with <see cref="StateStoreFailure.NotConnected"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">A setting is wrong (<see cref="RedisStateStoreOptions.Validate"/>).</exception>
        public RedisStateStore(RedisStateStoreOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            _options = options.Clone();
            _name = _options.ToString();
            var configuration = Configure(_options);
            // Task.Run: the library resolves the host and starts sockets before its first await.
            _connecting = Task.Run(() => ConnectAsync(configuration));
        }

        /// <summary>The store as a URI without credential, as errors name it.</summary>
        public string Name => _name;

        /// <summary>Whether a connection to the server is up now.</summary>
        public bool IsConnected =>
            _connecting.Status == TaskStatus.RanToCompletion && _connecting.Result.IsConnected;

        /// <summary>Waits until the connection is up, for a caller that wants to know at start whether
        /// the server answers (the store works without it, failing fast until it does).</summary>
        /// <returns>True when connected within <paramref name="timeout"/>.</returns>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<bool> WaitUntilConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!IsConnected)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(RedisStateStore));
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                // The library raises no event for the first connection made after ConnectAsync has
                // returned, so this polls; a startup check, never a session's path.
                await Task.Delay(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
            return true;
        }

        public Task<string> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            var k = Key(key);
            return RunAsync(async db => (string)await db.ExecuteAsync("GET", k).ConfigureAwait(false), cancellationToken);
        }

        public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default)
        {
            var k = Key(key);
            CheckValue(value);
            // Without PX, SET drops any expiry the key had: the interface's "replacing its expiry".
            var args = ttl == null ? new object[] { k, value } : new object[] { k, value, "PX", Milliseconds(ttl.Value, nameof(ttl)) };
            return RunAsync(async db => await db.ExecuteAsync("SET", args).ConfigureAwait(false), cancellationToken);
        }

        public Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default)
        {
            var k = Key(key);
            CheckValue(value);
            long ms = Milliseconds(ttl, nameof(ttl));
            // One command, so the server decides the race: "OK" for the one caller that set it, nil for the rest.
            return RunAsync(async db => !(await db.ExecuteAsync("SET", k, value, "NX", "PX", ms).ConfigureAwait(false)).IsNull, cancellationToken);
        }

        public Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default)
        {
            var k = Key(key);
            long ms = Milliseconds(ttlOnCreate, nameof(ttlOnCreate));
            return RunAsync(async db =>
            {
                // MULTI/EXEC: nothing runs between the two, so a key created here gets its expiry
                // with its first value, and INCRBY leaves an existing key's expiry alone.
                var transaction = db.CreateTransaction();
                var create = transaction.ExecuteAsync("SET", k, "0", "NX", "PX", ms);
                var add = transaction.ExecuteAsync("INCRBY", k, delta);
                Observe(create);   // a failed EXEC leaves both unawaited
                Observe(add);
                await transaction.ExecuteAsync().ConfigureAwait(false);
                await create.ConfigureAwait(false);
                try { return (long)await add.ConfigureAwait(false); }
                catch (RedisServerException ex) when (IsValueError(ex, out var problem))
                {
                    // Redis refuses the INCRBY and leaves the value as it was, as the interface says.
                    throw new StateValueException(key, problem);
                }
            }, cancellationToken);
        }

        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
        {
            var k = Key(key);
            return RunAsync(async db => (long)await db.ExecuteAsync("DEL", k).ConfigureAwait(false) > 0, cancellationToken);
        }

        /// <inheritdoc cref="IStateStore.ListAsync"/>
        /// <remarks>The bound applies to each round trip (a page of SCAN, then its GETs and PTTLs), not
        /// to the whole listing, which may take many.</remarks>
        public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default)
        {
            if (prefix == null) throw new ArgumentNullException(nameof(prefix));
            if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "at least one entry");
            return ListPagesAsync(prefix, limit, cancellationToken);
        }

        async Task<IReadOnlyList<StateEntry>> ListPagesAsync(string prefix, int limit, CancellationToken cancellationToken)
        {
            var pattern = RedisGlob.StartingWith(_options.KeyPrefix + prefix);
            var found = new List<StateEntry>();
            // SCAN may return a key more than once (when the table is resized during the walk).
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string cursor = "0";
            do
            {
                var page = await RunAsync(db => db.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", ScanPage), cancellationToken).ConfigureAwait(false);
                var parts = (RedisResult[])page;
                cursor = (string)parts[0];
                var keys = new List<RedisKey>();
                foreach (var key in (RedisKey[])parts[1])
                    if (seen.Add(key)) keys.Add(key);
                if (keys.Count == 0) continue;

                var entries = await RunAsync(db => ReadEntriesAsync(db, keys), cancellationToken).ConfigureAwait(false);
                foreach (var entry in entries)
                {
                    found.Add(entry);
                    if (found.Count == limit) return found;
                }
            }
            while (cursor != "0");
            return found;
        }

        async Task<List<StateEntry>> ReadEntriesAsync(IDatabase db, List<RedisKey> keys)
        {
            // All sent before any answer is awaited: one round trip for the page.
            var values = new Task<RedisResult>[keys.Count];
            var lifetimes = new Task<RedisResult>[keys.Count];
            for (int i = 0; i < keys.Count; i++)
            {
                values[i] = db.ExecuteAsync("GET", keys[i]);
                lifetimes[i] = db.ExecuteAsync("PTTL", keys[i]);
            }
            try { await Task.WhenAll(values.Concat(lifetimes)).ConfigureAwait(false); }
            catch (RedisServerException) { /* per key below */ }
            var entries = new List<StateEntry>(keys.Count);
            for (int i = 0; i < keys.Count; i++)
            {
                // A key of another type under the prefix (a hash, a list) is not the store's: GET
                // answers WRONGTYPE for it, and the listing passes over it. Any other error fails it.
                if (values[i].IsFaulted && values[i].Exception.InnerException is RedisServerException wrong
                    && wrong.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
                    continue;
                var value = await values[i].ConfigureAwait(false);
                long pttl = (long)await lifetimes[i].ConfigureAwait(false);
                // Gone between SCAN and GET, or between GET and PTTL (-2): not live, not listed.
                if (value.IsNull || pttl == -2) continue;
                string key = keys[i];
                entries.Add(new StateEntry(key.Substring(_options.KeyPrefix.Length), (string)value,
                    pttl < 0 ? (TimeSpan?)null : TimeSpan.FromTicks(pttl * TimeSpan.TicksPerMillisecond)));
            }
            return entries;
        }

        /// <summary>Closes the connection; calls after it throw <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _connecting.ContinueWith(t =>
            {
                if (t.Status == TaskStatus.RanToCompletion) t.Result.Dispose();
            }, TaskScheduler.Default);
        }

        async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_disposed) throw new ObjectDisposedException(nameof(RedisStateStore));

            bool connecting = !_connecting.IsCompleted;
            var work = StartAsync(operation);
            if (!work.IsCompleted)
            {
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var deadline = Task.Delay(_options.OperationTimeout, stop.Token);
                    if (await Task.WhenAny(work, deadline).ConfigureAwait(false) != work)
                    {
                        Observe(work);
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new StateStoreUnavailableException(_name,
                            connecting && !IsConnected ? StateStoreFailure.NotConnected : StateStoreFailure.Timeout);
                    }
                    stop.Cancel();   // frees the timer now rather than at the bound
                }
            }

            try
            {
                return await work.ConfigureAwait(false);
            }
            catch (RedisConnectionException ex)
            {
                throw new StateStoreUnavailableException(_name, ConnectionFailureOf(ex), ex);
            }
            catch (RedisTimeoutException ex)
            {
                throw new StateStoreUnavailableException(_name, StateStoreFailure.Timeout, ex);
            }
            catch (RedisServerException ex)
            {
                bool auth = ex.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || ex.Message.StartsWith("WRONGPASS", StringComparison.Ordinal);
                throw new StateStoreUnavailableException(_name, auth ? StateStoreFailure.AuthenticationFailed : StateStoreFailure.ServerError, ex);
            }
            catch (RedisException ex)
            {
                throw new StateStoreUnavailableException(_name, StateStoreFailure.ServerError, ex);
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException)
            {
                throw new StateStoreUnavailableException(_name, StateStoreFailure.NotConnected, ex);
            }
        }

        async Task<T> StartAsync<T>(Func<IDatabase, Task<T>> operation)
        {
            var connection = await _connecting.ConfigureAwait(false);
            return await operation(connection.GetDatabase(_options.Database)).ConfigureAwait(false);
        }

        async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
        {
            try
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                connection.ConnectionFailed += (_, e) => _lastFailure = e.Exception;
                connection.ConnectionRestored += (_, e) => _lastFailure = null;
                if (_disposed) connection.Dispose();
                return connection;
            }
            catch (RedisConnectionException ex)
            {
                // With AbortOnConnectFail off the library returns a connection that keeps trying;
                // this is only reached for what no retry mends, and every call then reports it.
                _lastFailure = ex;
                throw;
            }
        }

        StateStoreFailure ConnectionFailureOf(RedisConnectionException ex)
        {
            var failure = Classify(ex);
            var last = _lastFailure;
            return failure == StateStoreFailure.NotConnected && last != null ? Classify(last) : failure;
        }

        static StateStoreFailure Classify(Exception ex)
        {
            // The library reports a refused certificate and a refused password alike, as
            // AuthenticationFailure; the exceptions inside tell them apart.
            bool credential = false;
            for (Exception e = ex; e != null; e = e.InnerException)
            {
                if (e is System.Security.Authentication.AuthenticationException) return StateStoreFailure.TlsFailed;
                if (e is RedisConnectionException c && c.FailureType == ConnectionFailureType.AuthenticationFailure) credential = true;
                if (e.Message.IndexOf("WRONGPASS", StringComparison.Ordinal) >= 0 || e.Message.IndexOf("NOAUTH", StringComparison.Ordinal) >= 0) credential = true;
            }
            return credential ? StateStoreFailure.AuthenticationFailed : StateStoreFailure.NotConnected;
        }

        static ConfigurationOptions Configure(RedisStateStoreOptions options)
        {
            int operationMs = (int)Math.Ceiling(options.OperationTimeout.TotalMilliseconds);
            var configuration = new ConfigurationOptions
            {
                AbortOnConnectFail = false,
                BacklogPolicy = BacklogPolicy.FailFast,
                ConnectTimeout = (int)Math.Ceiling(options.ConnectTimeout.TotalMilliseconds),
                ConnectRetry = 1,
                AsyncTimeout = operationMs,
                SyncTimeout = operationMs,
                // A server back after a restart is found within two seconds.
                ReconnectRetryPolicy = new ExponentialRetry(250, 2000),
                DefaultDatabase = options.Database,
                User = string.IsNullOrEmpty(options.User) ? null : options.User,
                Password = options.Password,
                Ssl = options.UseTls,
                SslHost = options.UseTls ? options.Host : null,
                TieBreaker = "",
                ConfigurationChannel = "",
            };
            configuration.EndPoints.Add(options.Host, options.Port);
            if (options.TrustedIssuer != null)
                configuration.TrustIssuer(options.TrustedIssuer);
            return configuration;
        }

        RedisKey Key(string key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            return _options.KeyPrefix + key;
        }

        static void CheckValue(string value)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
        }

        /// <summary>A TTL in whole milliseconds, rounded up: Redis's unit, and a key must not die early.</summary>
        static long Milliseconds(TimeSpan ttl, string name)
        {
            // Redis refuses PX 0 and negative times; refusing here keeps the stores alike.
            if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, ttl, "a TTL must be positive");
            long ms = ttl.Ticks / TimeSpan.TicksPerMillisecond;
            return ttl.Ticks % TimeSpan.TicksPerMillisecond == 0 ? ms : ms + 1;
        }

        static bool IsValueError(RedisServerException ex, out StateValueProblem problem)
        {
            // Redis's replies for INCRBY (object.c, t_string.c): shared.err "value is not an integer
            // or out of range", and "increment or decrement would overflow".
            problem = StateValueProblem.NotAnInteger;
            if (ex.Message.IndexOf("would overflow", StringComparison.Ordinal) >= 0) { problem = StateValueProblem.Overflow; return true; }
            return ex.Message.IndexOf("not an integer", StringComparison.Ordinal) >= 0;
        }

        static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
