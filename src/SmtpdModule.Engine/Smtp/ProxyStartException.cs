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
    }

    /// <summary>A proxy could not start; <see cref="Target"/> names the one thing that failed.</summary>
    public sealed class ProxyStartException : Exception
    {
        public ProxyStartException(ProxyStartFailure failure, string target, Exception inner)
            : base((failure == ProxyStartFailure.Listen ? "Cannot listen on " : "Cannot open the log ") + target + ": " + inner.Message, inner)
        {
            Failure = failure;
            Target = target;
        }

        public ProxyStartFailure Failure { get; }
        public string Target { get; }
    }
}
