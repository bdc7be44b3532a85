using System;
using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// The messages a Postfix import has seen come in (client=) and waits to see delivered (to=),
    /// by host, instance and queue id. Bounded: past the limit the oldest is dropped, so a log of
    /// gigabytes whose "removed" lines were lost still reads in fixed memory.
    /// </summary>
    internal sealed class PendingMessages
    {
        readonly Dictionary<string, Entry> _byKey = new Dictionary<string, Entry>(StringComparer.Ordinal);
        readonly LinkedList<Entry> _age = new LinkedList<Entry>();
        readonly int _max;

        public PendingMessages(int max) { _max = Math.Max(1, max); }

        public int Count => _byKey.Count;

        /// <summary>A message came in; a queue id seen again starts over (Postfix reuses short ids once a file is gone).
        /// Returns how many older messages were dropped to make room.</summary>
        public int Add(Entry entry)
        {
            Remove(entry.Key);
            entry.Node = _age.AddLast(entry);
            _byKey[entry.Key] = entry;
            int evicted = 0;
            while (_byKey.Count > _max)
            {
                var oldest = _age.First.Value;
                Remove(oldest.Key);
                evicted++;
            }
            return evicted;
        }

        public Entry Find(string key) => _byKey.TryGetValue(key, out var e) ? e : null;

        public void Remove(string key)
        {
            if (!_byKey.TryGetValue(key, out var e)) return;
            _byKey.Remove(key);
            _age.Remove(e.Node);
        }

        /// <summary>What is known of one accepted message.</summary>
        internal sealed class Entry
        {
            public Entry(string key, string queueId, DateTimeOffset time, IPAddress client, string name)
            {
                Key = key;
                QueueId = queueId;
                Time = time;
                Client = client;
                Name = name;
            }

            public string Key { get; }
            public string QueueId { get; }
            /// <summary>When smtpd took the first recipient (its client= line).</summary>
            public DateTimeOffset Time { get; }
            public IPAddress Client { get; }
            /// <summary>The verified name, or null for unknown.</summary>
            public string Name { get; }
            /// <summary>The envelope sender, once qmgr has logged it.</summary>
            public string From { get; set; }
            /// <summary>The original recipients already made into records: a deferred recipient is logged at every try.</summary>
            public HashSet<string> Seen { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            internal LinkedListNode<Entry> Node { get; set; }
        }
    }
}
