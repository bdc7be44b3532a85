using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Asks the configured sources, in order, whether a mailbox exists downstream: the first that
    /// knows (Known or Unknown) decides; one that cannot answer passes to the next. Answers of
    /// cached sources are kept in the state store, so several proxies share them and a replay reads
    /// them as recorded facts; "unavailable" is never kept.
    /// </summary>
    public sealed class RecipientVerifier
    {
        readonly VerificationSource[] _sources;
        readonly IStateStore _store;

        public RecipientVerifier(IEnumerable<VerificationSource> sources, IStateStore store, VerificationFailMode failMode = VerificationFailMode.TempFail)
        {
            _sources = (sources ?? throw new ArgumentNullException(nameof(sources))).ToArray();
            if (_sources.Length == 0) throw new ArgumentException("At least one recipient source is needed.", nameof(sources));
            _store = store ?? throw new ArgumentNullException(nameof(store));
            FailMode = failMode;
        }

        public IReadOnlyList<VerificationSource> Sources => _sources;
        public VerificationFailMode FailMode { get; }

        /// <summary>The state key of one source's answer for one mailbox (the mailbox compared without case).</summary>
        public static string CacheKey(string source, string mailbox) => "verify:" + source + ":" + mailbox.ToLowerInvariant();

        /// <param name="mailbox"><c>local@domain</c>.</param>
        /// <param name="readState">How cached answers are read: the session's facts, so the read is recorded.</param>
        /// <param name="cancellationToken">The session ends.</param>
        /// <returns>The deciding answer, with the sources passed over before it (<see cref="RecipientAnswer.PassedOver"/>);
        /// <see cref="MailboxStatus.Unavailable"/> (the last source's) when none could answer.</returns>
        public async Task<RecipientAnswer> VerifyAsync(string mailbox, Func<string, CancellationToken, Task<string>> readState, CancellationToken cancellationToken = default)
        {
            if (mailbox == null) throw new ArgumentNullException(nameof(mailbox));
            if (readState == null) throw new ArgumentNullException(nameof(readState));
            var unavailable = new List<RecipientAnswer>();
            foreach (var s in _sources)
            {
                var answer = await FromCacheAsync(s, mailbox, readState, cancellationToken).ConfigureAwait(false)
                             ?? await AskAsync(s, mailbox, cancellationToken).ConfigureAwait(false);
                if (answer.Status != MailboxStatus.Unavailable) return answer.After(unavailable);
                unavailable.Add(answer);
            }
            var last = unavailable[unavailable.Count - 1];
            unavailable.RemoveAt(unavailable.Count - 1);
            return last.After(unavailable);
        }

        async Task<RecipientAnswer> FromCacheAsync(VerificationSource s, string mailbox, Func<string, CancellationToken, Task<string>> readState, CancellationToken ct)
        {
            if (s.KnownTtl == null && s.UnknownTtl == null) return null;
            string value;
            // A store that cannot be read is a cache miss: the source is asked.
            try { value = await readState(CacheKey(s.Source.Name, mailbox), ct).ConfigureAwait(false); }
            catch (Exception ex) when (!(ex is OperationCanceledException && ct.IsCancellationRequested)) { return null; }
            return Decode(s.Source.Name, value);
        }

        async Task<RecipientAnswer> AskAsync(VerificationSource s, string mailbox, CancellationToken ct)
        {
            RecipientAnswer answer;
            try
            {
                answer = await s.Source.CheckAsync(mailbox, ct).ConfigureAwait(false)
                         ?? new RecipientAnswer(MailboxStatus.Unavailable, s.Source.Name, "no answer");
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && ct.IsCancellationRequested))
            {
                // A source must not throw; if one does, it could not answer.
                answer = new RecipientAnswer(MailboxStatus.Unavailable, s.Source.Name, ex.GetType().Name + ": " + ex.Message);
            }
            var ttl = answer.Status == MailboxStatus.Known ? s.KnownTtl : answer.Status == MailboxStatus.Unknown ? s.UnknownTtl : null;
            if (ttl != null)
            {
                try { await _store.SetAsync(CacheKey(s.Source.Name, mailbox), Encode(answer), ttl.Value, ct).ConfigureAwait(false); }
                catch (Exception ex) when (!(ex is OperationCanceledException))
                {
                    // A store that cannot keep the answer costs the next probe, not this recipient.
                }
            }
            return answer;
        }

        /// <summary>"Known|detail" or "Unknown|detail": what the store keeps.</summary>
        static string Encode(RecipientAnswer a) => a.Status + "|" + a.Detail;

        static RecipientAnswer Decode(string source, string value)
        {
            if (value == null) return null;
            var bar = value.IndexOf('|');
            var status = bar < 0 ? value : value.Substring(0, bar);
            var detail = bar < 0 ? null : value.Substring(bar + 1);
            if (status == nameof(MailboxStatus.Known)) return new RecipientAnswer(MailboxStatus.Known, source, detail, fromCache: true);
            if (status == nameof(MailboxStatus.Unknown)) return new RecipientAnswer(MailboxStatus.Unknown, source, detail, fromCache: true);
            return null;   // not ours, or from a later version: ask again
        }
    }
}
