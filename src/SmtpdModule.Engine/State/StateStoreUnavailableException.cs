using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>Why a shared state store could not answer.</summary>
    public enum StateStoreFailure
    {
        /// <summary>No connection to the server: it is down, unreachable or refusing connections.
        /// The store keeps reconnecting in the background.</summary>
        NotConnected,
        /// <summary>The TLS handshake failed (rediss://): the server's certificate is not trusted, has
        /// expired or does not name the host. A configuration error; the store keeps trying.</summary>
        TlsFailed,
        /// <summary>The server refused the credential (AUTH): a configuration error, not a transient one.</summary>
        AuthenticationFailed,
        /// <summary>The answer did not come within the store's bound on one operation.</summary>
        Timeout,
        /// <summary>The server answered with an error the store did not expect (out of memory,
        /// a read-only replica, a command renamed away).</summary>
        ServerError,
    }

    /// <summary>
    /// A shared state store (Redis) could not answer within its bound. The store fails fast and
    /// says why; what a check then decides (let the mail through, or answer 4xx) is the caller's
    /// fail mode, never the store's. Not thrown for a wrong value (<see cref="StateValueException"/>)
    /// or a cancelled call (<see cref="OperationCanceledException"/>).
    /// </summary>
    public sealed class StateStoreUnavailableException : Exception
    {
        public StateStoreUnavailableException(string store, StateStoreFailure failure, Exception innerException = null)
            : base(MessageFor(store, failure, innerException), innerException)
        {
            Store = store;
            Failure = failure;
        }

        /// <summary>The store that failed, as its URI without credential (<c>redis://host:port/db</c>).</summary>
        public string Store { get; }

        public StateStoreFailure Failure { get; }

        static string MessageFor(string store, StateStoreFailure failure, Exception inner)
        {
            string what;
            switch (failure)
            {
                case StateStoreFailure.AuthenticationFailed: what = "authentication failed: check the user name and password"; break;
                case StateStoreFailure.TlsFailed: what = "TLS handshake failed" + (inner == null ? "" : ": " + Innermost(inner).Message); break;
                case StateStoreFailure.Timeout: what = "no answer within the operation timeout"; break;
                case StateStoreFailure.ServerError: what = "server error" + (inner == null ? "" : ": " + inner.Message); break;
                default: what = "not connected"; break;
            }
            return "state store " + store + ": " + what;
        }

        static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }
    }
}
