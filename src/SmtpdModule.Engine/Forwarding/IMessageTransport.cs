using System;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// One way of handing a spooled message to the real mail server: SMTP to a smart host, a
    /// sendmail-compatible program, or a pickup directory. The forwarder owns scheduling, retries,
    /// bounces and the spool; a transport only tries once and says, per recipient, what happened.
    /// </summary>
    /// <remarks>
    /// A transport never throws for a delivery failure, however it fails (refused connection,
    /// protocol garbage, program crash): it returns <see cref="DeliveryOutcome.Deferred"/> or
    /// <see cref="DeliveryOutcome.Failed"/> for the recipients concerned. It throws only
    /// <see cref="OperationCanceledException"/> when cancelled, and
    /// <see cref="ArgumentNullException"/> for a null message. Implementations are thread-safe:
    /// the forwarder calls <see cref="DeliverAsync"/> from several tasks at once.
    /// </remarks>
    public interface IMessageTransport : IDisposable
    {
        /// <summary>What the transport delivers to, for logs and DSNs: <c>smtp:host:port</c>,
        /// <c>sendmail:/usr/sbin/sendmail</c>, <c>pickup:/path</c>.</summary>
        string Target { get; }

        /// <summary>Delivers <paramref name="message"/> to its <see cref="OutgoingMessage.Recipients"/>
        /// in one transaction where the transport allows it.</summary>
        /// <returns>One result per recipient of <paramref name="message"/>, in the same order.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<DeliveryResult> DeliverAsync(OutgoingMessage message, CancellationToken cancellationToken = default);
    }
}
