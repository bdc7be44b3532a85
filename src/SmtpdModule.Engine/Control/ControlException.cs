using System;

namespace SmtpdModule.Engine.Control
{
    /// <summary>Why a control request failed.</summary>
    public enum ControlFailure
    {
        /// <summary>The endpoint was stale: its process is gone.</summary>
        NotRunning,
        /// <summary>No answer in time.</summary>
        NoAnswer,
        /// <summary>The instance answered with an error.</summary>
        Refused,
    }

    /// <summary>A control request that did not get its answer.</summary>
    public sealed class ControlException : Exception
    {
        public ControlException(ControlLocation location, ControlFailure failure, string message) : base(message)
        {
            Location = location;
            Failure = failure;
        }

        public ControlLocation Location { get; }
        public ControlFailure Failure { get; }
    }
}
