using System;

namespace SmtpdModule.Engine.State
{
    /// <summary>Why a stored value could not be used as asked.</summary>
    public enum StateValueProblem
    {
        /// <summary>An increment found a value that is not the decimal text of a 64-bit integer.</summary>
        NotAnInteger,
        /// <summary>An increment would go past the range of a 64-bit integer.</summary>
        Overflow,
    }

    /// <summary>
    /// A stored value did not fit the operation: Redis answers the same cases with "value is not an
    /// integer or out of range" and "increment or decrement would overflow". A program error or a
    /// key shared by two features, not a transient fault; retrying will not help.
    /// </summary>
    public sealed class StateValueException : Exception
    {
        public StateValueException(string key, StateValueProblem problem)
            : base("state key '" + key + "': " + (problem == StateValueProblem.Overflow ? "increment would overflow" : "value is not an integer"))
        {
            Key = key;
            Problem = problem;
        }

        /// <summary>The key whose value was wrong.</summary>
        public string Key { get; }

        public StateValueProblem Problem { get; }
    }
}
