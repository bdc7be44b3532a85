using System.Collections.Generic;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>The deliveries a forwarder has started and not yet waited for; thread-safe.</summary>
    internal sealed class InFlightTasks
    {
        readonly object _lock = new object();
        readonly List<Task> _tasks = new List<Task>();

        public void Track(Task task)
        {
            lock (_lock)
            {
                _tasks.Add(task);
                // Pruned now and then so a long-running daemon does not keep every finished task.
                if (_tasks.Count > 64) _tasks.RemoveAll(t => t.IsCompleted);
            }
        }

        /// <summary>Waits for every task tracked so far; throws what they threw.</summary>
        public Task WaitAllAsync()
        {
            Task[] tasks;
            lock (_lock)
            {
                tasks = _tasks.ToArray();
                _tasks.Clear();
            }
            return Task.WhenAll(tasks);
        }
    }
}
