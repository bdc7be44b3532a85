using System;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>The metrics endpoint could not listen on <see cref="Target"/> (in use, a privileged
    /// port, an address this host does not have); the inner exception is the socket's.</summary>
    public sealed class MetricsListenException : Exception
    {
        /// <param name="target">The end point as text, <c>127.0.0.1:9325</c>.</param>
        /// <param name="inner">The socket's error.</param>
        public MetricsListenException(string target, Exception inner)
            : base("Cannot serve metrics on " + target + ": " + inner?.Message, inner)
        {
            Target = target;
        }

        /// <summary>The end point that could not be bound.</summary>
        public string Target { get; }
    }
}
