using System;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What a proxy could not set up when it started.</summary>
    public enum ProxyStartFailure
    {
        /// <summary>An end point could not be bound (in use, or a privileged port).</summary>
        Listen,
        /// <summary>The structured log could not be opened.</summary>
        Log,
        /// <summary>Users other than the proxy's own may change the rules file or its directory
        /// (see <see cref="SmtpProxyOptions.AllowInsecurePermissions"/>).</summary>
        RulesFileInsecure,
        /// <summary>Users other than the proxy's own may change the spool
        /// (see <see cref="SmtpProxyOptions.AllowInsecurePermissions"/>).</summary>
        SpoolInsecure,
        /// <summary>The embedded state store could not be opened: its folder cannot be written, its
        /// journal is not one, or another proxy holds it.</summary>
        StateStore,
    }

    /// <summary>A proxy could not start; <see cref="Target"/> names the one thing that failed.</summary>
    public sealed class ProxyStartException : Exception
    {
        public ProxyStartException(ProxyStartFailure failure, string target, Exception inner)
            : base(Describe(failure, target) + ": " + inner.Message, inner)
        {
            Failure = failure;
            Target = target;
        }

        public ProxyStartFailure Failure { get; }
        public string Target { get; }

        static string Describe(ProxyStartFailure failure, string target)
        {
            switch (failure)
            {
                case ProxyStartFailure.Listen: return "Cannot listen on " + target;
                case ProxyStartFailure.Log: return "Cannot open the log " + target;
                case ProxyStartFailure.RulesFileInsecure: return "Refusing the rules file " + target + ", which other users can change";
                case ProxyStartFailure.StateStore: return "Cannot open the state store in " + target;
                default: return "Refusing the spool " + target + ", which other users can change";
            }
        }
    }
}
