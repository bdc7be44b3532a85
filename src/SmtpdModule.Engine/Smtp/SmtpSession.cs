using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp.Tls;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// One SMTP conversation (RFC 5321, with PIPELINING RFC 2920, SIZE RFC 1870, 8BITMIME RFC 6152,
    /// ENHANCEDSTATUSCODES RFC 2034/3463, SMTPUTF8 RFC 6531, STARTTLS RFC 3207). The rules decide
    /// every RCPT (reference §1.7, §1.8); accepted mail is committed to the spool before the 250.
    /// Trusts nothing the client sends: every line is bounded, every read has a deadline, and
    /// delays are awaited, never slept, so a tarpitted session holds no thread.
    /// </summary>
    internal sealed partial class SmtpSession
    {
        readonly ProxyRuntime _rt;
        readonly SmtpConnection _io;
        readonly IPEndPoint _remote, _local;
        readonly PeerAddress _peer;
        readonly string _id;
        // What the policy knows of this session; the verdicts that take effect change it.
        PolicySession _known;

        // Where the session stands; only Move changes it, as the table says.
        readonly SessionStateTable _table;
        SessionState _state = SessionState.Connected;
        SmtpCommand _mail;
        int _errors;

        public SmtpSession(ProxyRuntime runtime, Socket socket, string id)
        {
            _rt = runtime;
            _id = id;
            _remote = (IPEndPoint)socket.RemoteEndPoint;
            _local = (IPEndPoint)socket.LocalEndPoint;
            _peer = new PeerAddress(_remote.Address);
            _table = SessionStateTable.For(runtime.Options.Tls != null);
            _io = new SmtpConnection(socket, new NetworkStream(socket, ownsSocket: false), runtime.Options.Limits.MaxCommandLine,
                                     runtime.Options.Limits.ReadTimeout, runtime.Stopping)
            {
                StressTimeout = runtime.Options.Limits.StressTimeout,
                UnderStress = () => runtime.Counters.Active >= runtime.Options.MaxSessions * runtime.Options.Limits.StressThreshold,
            };
        }

        SessionLimits Limits => _rt.Options.Limits;

        void Log(string kind, string message, params KeyValuePair<string, object>[] data) =>
            _rt.Events.Write(new ProxyEvent(kind, _id, _peer.Text, message, data));

        void Log(string kind, string message, IReadOnlyList<KeyValuePair<string, object>> data) =>
            _rt.Events.Write(new ProxyEvent(kind, _id, _peer.Text, message, data));

        static KeyValuePair<string, object> F(string key, object value) => new KeyValuePair<string, object>(key, value);

        public async Task RunAsync()
        {
            try
            {
                if (await GreetAsync().ConfigureAwait(false))
                    while (await NextCommandAsync().ConfigureAwait(false) != Outcome.Closed) { }
            }
            catch (Exception ex) when (SmtpConnection.IsConnectionError(ex))
            {
                Log("disconnect", "connection lost: " + ex.GetType().Name);
            }
            catch (Exception ex)
            {
                // An internal fault: logged, answered with 421, never shown to the client.
                Log("error", ex.GetType().FullName + ": " + ex.Message);
                try { _io.Write(Replies.LocalErrorClosing); await _io.FlushAsync().ConfigureAwait(false); }
                catch (Exception inner) when (SmtpConnection.IsConnectionError(inner)) { }
            }
            finally
            {
                _io.Dispose();
                Log("disconnect", null, F("bytesIn", _io.BytesIn), F("peakBuffered", _io.PeakBuffered));
            }
        }

        async Task<bool> GreetAsync()
        {
            var pipeline = _rt.Pipeline;
            _known = new PolicySession(_peer.Address, new LiveFacts(_rt.Dns, new IdentClient(_local, _remote, _rt.Options.IdentTimeout), _rt.State));
            // Read once: EHLO's SIZE and SMTPUTF8, MAIL's checks and DATA's limit agree for the whole
            // session, whatever a refresh brings meanwhile. Only the proxy's first sessions wait
            // (for the first probe, up to its timeout: bounded, so no stop token); later ones take what is known.
            if (_rt.Downstream != null) _known.UseDownstream(await _rt.Downstream.GetAsync().ConfigureAwait(false));
            return await GreetAndTestAsync(pipeline).ConfigureAwait(false);
        }

        /// <summary>Reads and answers one command.</summary>
        async Task<Outcome> NextCommandAsync()
        {
            await _io.FlushIfIdleAsync().ConfigureAwait(false);
            var (status, line) = await _io.ReadLineAsync(Limits.MaxCommandLine, stopWhenIdle: true).ConfigureAwait(false);
            switch (status)
            {
                case SmtpConnection.ReadStatus.Eof:
                    return Outcome.Closed;
                case SmtpConnection.ReadStatus.Timeout:
                    Log("timeout", "no command within " + Limits.ReadTimeout.TotalSeconds + " s");
                    return await CloseWithAsync(Replies.Timeout).ConfigureAwait(false);
                case SmtpConnection.ReadStatus.Stopped:
                    return await CloseWithAsync(Replies.ShuttingDown).ConfigureAwait(false);
                case SmtpConnection.ReadStatus.TooLong:
                    return await ErrorAsync(Replies.LineTooLong).ConfigureAwait(false);
            }

            if (!await TestCommandAsync(line).ConfigureAwait(false)) return Outcome.Closed;
            if (!CommandParser.TryParse(line, out var cmd, out var error))
                return await ErrorAsync(error).ConfigureAwait(false);

            // Invalid UTF-8 became U+FFFD in the line: in a name or an address it would reach the
            // rules, the log and the Received: field as if the client had sent that (RFC 6531 §3.3
            // asks for well-formed UTF-8; RFC 3629 §10 warns of what lax decoding lets through).
            if (!_io.LastLineWellFormed)
            {
                switch (cmd.Verb)
                {
                    case SmtpVerb.Helo:
                    case SmtpVerb.Ehlo:
                        Log("helo", "refused: not UTF-8", F("helo", PeerText.CleanName(cmd.Argument)));
                        return await ErrorAsync(Replies.HeloNotUtf8).ConfigureAwait(false);
                    case SmtpVerb.Mail:
                        Log("mail", "refused: not UTF-8", F("from", PeerText.CleanAddress(cmd.PathText)));
                        return await ErrorAsync(Replies.SenderNotUtf8).ConfigureAwait(false);
                    case SmtpVerb.Rcpt:
                        Log("rcpt", "refused: not UTF-8", F("to", PeerText.CleanAddress(cmd.PathText)));
                        return await ErrorAsync(Replies.RecipientNotUtf8).ConfigureAwait(false);
                }
            }

            // Then sequence, once for all commands: one out of place gets the table's reply and
            // changes nothing; one that takes effect moves the session as the table says.
            var step = _table.Lookup(_state, cmd.Verb);
            if (!step.Accepted) return await ErrorAsync(step.Refusal).ConfigureAwait(false);
            var outcome = await HandleAsync(cmd).ConfigureAwait(false);
            if (outcome == Outcome.Done) Move(step.Next);
            return outcome;
        }

        /// <summary>What a handler made of a command the table accepted.</summary>
        enum Outcome
        {
            /// <summary>The command took effect: the session moves to the table's next state.</summary>
            Done,
            /// <summary>Refused on its merits (address, rules, storage): the state stays.</summary>
            Refused,
            /// <summary>The session is over.</summary>
            Closed,
        }

        async Task<Outcome> HandleAsync(SmtpCommand cmd)
        {
            switch (cmd.Verb)
            {
                case SmtpVerb.Helo:
                case SmtpVerb.Ehlo: return Hello(cmd);
                case SmtpVerb.Mail: return await MailAsync(cmd).ConfigureAwait(false);
                case SmtpVerb.Rcpt: return await RcptAsync(cmd).ConfigureAwait(false);
                case SmtpVerb.Data: return await DataAsync().ConfigureAwait(false);
                case SmtpVerb.Rset:
                case SmtpVerb.Noop: return Done(Replies.Ok);
                case SmtpVerb.Vrfy: return Done(Replies.CannotVerify);
                case SmtpVerb.Help: return Done(Replies.Help);
                case SmtpVerb.StartTls: return await StartTlsAsync().ConfigureAwait(false);
                case SmtpVerb.Quit: return await CloseWithAsync(Replies.Bye).ConfigureAwait(false);
                default: throw new InvalidOperationException("the state table accepted " + cmd.Verb);
            }
        }

        /// <summary>The one place the state changes; what a state does not hold is forgotten here.</summary>
        void Move(SessionState next)
        {
            var wasSecure = SessionStateTable.IsSecure(_state);
            _state = next;
            if (!SessionStateTable.InTransaction(next))
            {
                _mail = null;
                _known.EndTransaction();
            }
            // After STARTTLS nothing said before the handshake counts (RFC 3207 §4.2).
            if (SessionStateTable.IsSecure(next) && !wasSecure)
            {
                _known.Secured();
                _pipeliningAllowed = false;
            }
        }

        Outcome Done(SmtpReply reply) => Done(reply.ToWire());

        Outcome Done(string wire)
        {
            _io.Write(wire);
            return Outcome.Done;
        }

        Outcome Refuse(SmtpReply reply) => Refuse(reply.ToWire());

        Outcome Refuse(string wire)
        {
            _io.Write(wire);
            return Outcome.Refused;
        }

        async Task<Outcome> CloseWithAsync(SmtpReply reply)
        {
            _io.Write(reply);
            await _io.FlushAsync().ConfigureAwait(false);
            return Outcome.Closed;
        }

        /// <summary>A client error: counted, and past the limit the session ends (a bounded nuisance).</summary>
        Task<Outcome> ErrorAsync(SmtpReply reply) => ErrorAsync(reply.ToWire());

        async Task<Outcome> ErrorAsync(string wire)
        {
            if (++_errors > Limits.MaxErrors)
            {
                Log("limit", "too many errors");
                return await CloseWithAsync(Replies.TooManyErrors).ConfigureAwait(false);
            }
            return Refuse(wire);
        }

        Outcome Hello(SmtpCommand cmd)
        {
            var esmtp = cmd.Verb == SmtpVerb.Ehlo;
            var helo = PeerText.CleanName(cmd.Argument);
            var verdict = _rt.Pipeline.Helo(_known, helo, esmtp);
            Log("helo", helo, F("esmtp", esmtp));
            _known.Greeted(helo, esmtp);
            _pipeliningAllowed = esmtp;   // the EHLO reply (queued now) offers PIPELINING
            return Done(verdict.ToWire());
        }

        async Task<Outcome> MailAsync(SmtpCommand cmd)
        {
            var pipeline = _rt.Pipeline;
            var verdict = pipeline.Mail(_known, cmd.PathText, cmd.SmtpUtf8, cmd.DeclaredSize);
            if (!verdict.TakesEffect)
            {
                Log("mail", verdict.Reason, F("from", PeerText.CleanAddress(cmd.PathText)));
                if (verdict.DependsOnLimits)
                {
                    var record = DecisionRecord.OfMail(_known, verdict, pipeline, cmd.PathText, cmd.SmtpUtf8, cmd.DeclaredSize, _id);
                    _rt.Events.Write(new ProxyEvent("decision", _id, _peer.Text, "MAIL refused: " + verdict.Reason, record.ToData));
                }
                return await RefuseAsync(verdict).ConfigureAwait(false);
            }
            // A resource limit that is not policy, and that Test-SmtpdRule cannot know: the spool's free space.
            if (_rt.Spool.FreeBytes < _rt.Options.MinFreeSpoolBytes)
            {
                Log("limit", "spool nearly full", F("freeBytes", _rt.Spool.FreeBytes));
                return Refuse(Replies.InsufficientStorage);
            }
            pipeline.BeginTransaction(_known, verdict.Path, cmd.SmtpUtf8, cmd.DeclaredSize);
            _mail = cmd;
            Log("mail", null, F("from", PeerText.CleanAddress(verdict.Path.Text)), F("size", cmd.DeclaredSize), F("smtputf8", cmd.SmtpUtf8));
            return Done(verdict.ToWire());
        }

        async Task<Outcome> RcptAsync(SmtpCommand cmd)
        {
            var pipeline = _rt.Pipeline;
            var verdict = await pipeline.RcptAsync(_known, cmd.PathText).ConfigureAwait(false);
            pipeline.Hits?.Count(verdict);
            pipeline.Checks?.Count(verdict, _known);
            if (verdict.Fault != null)
                Log("error", verdict.Fault);
            else if (verdict.Decision?.Basis == DecisionBasis.AddressCheck)
                Log("rcpt", verdict.Reason, F("to", PeerText.CleanAddress(cmd.PathText)));
            else if (verdict.Decision != null)
            {
                var record = DecisionRecord.Of(_known, verdict, pipeline, _id);
                _rt.Events.Write(new ProxyEvent("decision", _id, _peer.Text, Describe(verdict), record.ToData));
            }
            else if (!verdict.TakesEffect)
                Log("limit", verdict.Reason, F("to", PeerText.CleanAddress(cmd.PathText)));   // a rate or recipient limit
            if (verdict.TakesEffect)
            {
                _known.AddRecipient(verdict.Path, verdict.Decision, pipeline.Evaluator.RuleSet.Sha256);
                return Done(verdict.ToWire());
            }
            return await RefuseAsync(verdict).ConfigureAwait(false);
        }

        static string Describe(Verdict v) =>
            v.Decision.Action + (v.Decision.LineNumber != null ? " by line " + v.Decision.LineNumber : " by default (" + v.Decision.Basis + ")");

        /// <summary>A verdict that did not take effect, as the wire and the counters see it.</summary>
        async Task<Outcome> RefuseAsync(Verdict verdict)
        {
            if (verdict.IsClientError) return await ErrorAsync(verdict.ToWire()).ConfigureAwait(false);
            if (verdict.CountsAsRefusal) _rt.Counters.RecipientRefused();
            if (verdict.Kind == VerdictKind.Close) _rt.Counters.SessionDenied();
            // Answer what came before, then wait: a timer, not a thread.
            if (verdict.Delay > TimeSpan.Zero)
            {
                await _io.FlushAsync().ConfigureAwait(false);
                await Task.Delay(verdict.Delay).ConfigureAwait(false);
            }
            _io.Write(verdict.ToWire());
            if (verdict.Kind != VerdictKind.Close) return Outcome.Refused;
            await _io.FlushAsync().ConfigureAwait(false);
            return Outcome.Closed;
        }

        async Task<Outcome> StartTlsAsync()
        {
            _io.Write(Replies.ReadyForTls);
            await _io.FlushAsync().ConfigureAwait(false);
            _io.DiscardBufferedInput();
            try
            {
                var ssl = await TlsUpgrade.AuthenticateAsServerAsync(_io.Stream, _rt.Options.Tls, CancellationToken.None).ConfigureAwait(false);
                _io.UseStream(ssl);
            }
            catch (TlsHandshakeException ex)
            {
                Log("tls", "handshake failed: " + ex.Message);
                return Outcome.Closed;
            }
            // The move to the secured, ungreeted state forgets what came before (RFC 3207 §4.2).
            Log("tls", "established");
            return Outcome.Done;
        }
    }
}
