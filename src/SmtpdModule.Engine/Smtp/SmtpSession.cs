using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
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
        RuleSession _rules;
        string _clientName;
        string _reverseNote;
        bool _reverseFailed;

        // Where the session stands; only Move changes it, as the table says.
        readonly SessionStateTable _table;
        SessionState _state = SessionState.Connected;
        bool _esmtp;
        string _helo;
        MailPath _from;
        SmtpCommand _mail;
        readonly List<MailPath> _rcpts = new List<MailPath>();
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

        static KeyValuePair<string, object> F(string key, object value) => new KeyValuePair<string, object>(key, value);

        public async Task RunAsync()
        {
            try
            {
                await GreetAsync().ConfigureAwait(false);
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

        async Task GreetAsync()
        {
            if (_rt.Options.ReverseLookup)
            {
                var reverse = await _rt.Lookups.ReverseNameAsync(_peer.Address, _rt.Options.ConfirmReverseName).ConfigureAwait(false);
                _clientName = reverse.Name;
                _reverseNote = reverse.Note;
                _reverseFailed = reverse.Outcome == LookupOutcome.Failed;
            }
            _rules = new RuleSession(_rt.Lookups, new IdentClient(_local, _remote, _rt.Options.IdentTimeout));
            Log("connect", null, F("name", _clientName), F("local", _local.ToString()), F("reverse", _reverseNote));
            _io.Write(new SmtpReply(220, null, _rt.Options.HostName + " ESMTP SmtpdModule ready").ToWire());
            await _io.FlushAsync().ConfigureAwait(false);
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
            _state = next;
            if (!SessionStateTable.InTransaction(next))
            {
                _from = null;
                _mail = null;
                _rcpts.Clear();
            }
            // After STARTTLS nothing said before the handshake counts (RFC 3207 §4.2).
            if (!SessionStateTable.IsGreeted(next)) _helo = null;
        }

        Outcome Done(SmtpReply reply)
        {
            _io.Write(reply);
            return Outcome.Done;
        }

        Outcome Refuse(SmtpReply reply)
        {
            _io.Write(reply);
            return Outcome.Refused;
        }

        async Task<Outcome> CloseWithAsync(SmtpReply reply)
        {
            _io.Write(reply);
            await _io.FlushAsync().ConfigureAwait(false);
            return Outcome.Closed;
        }

        /// <summary>A client error: counted, and past the limit the session ends (a bounded nuisance).</summary>
        async Task<Outcome> ErrorAsync(SmtpReply reply)
        {
            if (++_errors > Limits.MaxErrors)
            {
                Log("limit", "too many errors");
                return await CloseWithAsync(Replies.TooManyErrors).ConfigureAwait(false);
            }
            return Refuse(reply);
        }

        Outcome Hello(SmtpCommand cmd)
        {
            _esmtp = cmd.Verb == SmtpVerb.Ehlo;
            _helo = PeerText.CleanName(cmd.Argument);
            Log("helo", _helo, F("esmtp", _esmtp));
            if (!_esmtp)
                return Done(new SmtpReply(250, null, _rt.Options.HostName + " Hello " + _helo + " [" + _peer.Text + "]"));
            var lines = new List<string>
            {
                _rt.Options.HostName + " Hello " + _helo + " [" + _peer.Text + "]",
                "PIPELINING",
                "SIZE " + Limits.MaxMessageSize,
                "8BITMIME",
                "ENHANCEDSTATUSCODES",
                "SMTPUTF8",
            };
            if (_rt.Options.Tls != null && !SessionStateTable.IsSecure(_state)) lines.Add("STARTTLS");
            _io.Write(SmtpReply.MultiLine(250, lines.ToArray()));
            return Outcome.Done;
        }

        async Task<Outcome> MailAsync(SmtpCommand cmd)
        {
            var problem = MailPath.TryParse(cmd.PathText, allowNull: true, strict: _rt.Options.StrictAddresses, smtpUtf8: cmd.SmtpUtf8, out var path);
            if (problem != MailPath.Problem.None)
            {
                Log("mail", "refused " + problem, F("from", PeerText.CleanAddress(cmd.PathText)));
                return await RefuseAddressAsync(problem, Replies.BadSenderSyntax).ConfigureAwait(false);
            }
            if (cmd.DeclaredSize > Limits.MaxMessageSize) return await ErrorAsync(Replies.DeclaredSizeTooBig).ConfigureAwait(false);
            if (_rt.Spool.FreeBytes < _rt.Options.MinFreeSpoolBytes)
            {
                Log("limit", "spool nearly full", F("freeBytes", _rt.Spool.FreeBytes));
                return Refuse(Replies.InsufficientStorage);
            }
            _from = path;
            _mail = cmd;
            Log("mail", null, F("from", PeerText.CleanAddress(path.Text)), F("size", cmd.DeclaredSize), F("smtputf8", cmd.SmtpUtf8));
            return Done(Replies.SenderOk);
        }

        async Task<Outcome> RefuseAddressAsync(MailPath.Problem problem, SmtpReply syntax)
        {
            if (problem == MailPath.Problem.Syntax) return await ErrorAsync(syntax).ConfigureAwait(false);
            _rt.Counters.RecipientRefused();
            await TarpitAsync(TimeSpan.Zero).ConfigureAwait(false);
            return Refuse(RuleTester.ProblemReply(problem, syntax));
        }

        Task TarpitAsync(TimeSpan extra)
        {
            var wait = _rt.Options.Tarpit + extra;
            return wait > TimeSpan.Zero ? FlushThenDelayAsync(wait) : Task.CompletedTask;
        }

        async Task FlushThenDelayAsync(TimeSpan wait)
        {
            // Answer what came before, then wait: a timer, not a thread.
            await _io.FlushAsync().ConfigureAwait(false);
            await Task.Delay(wait).ConfigureAwait(false);
        }

        async Task<Outcome> RcptAsync(SmtpCommand cmd)
        {
            if (_rcpts.Count >= Limits.MaxRecipients) return Refuse(Replies.TooManyRecipients);
            var smtpUtf8 = _mail.SmtpUtf8;
            var problem = MailPath.TryParse(cmd.PathText, allowNull: false, strict: _rt.Options.StrictAddresses, smtpUtf8: smtpUtf8, out var path);
            if (problem == MailPath.Problem.Syntax && cmd.PathText == "<>") return await ErrorAsync(Replies.NullRecipient).ConfigureAwait(false);
            if (problem != MailPath.Problem.None)
            {
                Log("rcpt", "refused " + problem, F("to", PeerText.CleanAddress(cmd.PathText)));
                return await RefuseAddressAsync(problem, Replies.BadRecipientSyntax).ConfigureAwait(false);
            }

            var rules = _rt.Rules;
            RuleDecision decision;
            try
            {
                var input = new RuleInput(_peer.Address, _clientName, _from.Text, path.Text, _helo, _reverseNote, _reverseFailed);
                decision = await rules.EvaluateAsync(input, _rules).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                Log("error", "rule check failed: " + ex.GetType().Name + ": " + ex.Message);
                return Refuse(Replies.RulesUnavailable);
            }
            LogDecision(decision);

            switch (decision.Action)
            {
                case RuleAction.Allow:
                    _rcpts.Add(path);
                    return Done(Replies.RecipientOk);
                case RuleAction.Defer:
                    _rt.Counters.RecipientRefused();
                    _io.Write(SmtpReply.RuleReplyToWire(decision.Reply));
                    return Outcome.Refused;
                case RuleAction.Noto:
                    _rt.Counters.RecipientRefused();
                    await TarpitAsync(decision.Delay).ConfigureAwait(false);
                    _io.Write(SmtpReply.RuleReplyToWire(decision.Reply));
                    return Outcome.Refused;
                default:
                    // reference §1.8: the rendered reply, then 421, and the session is over; recipients already
                    // accepted in this transaction are dropped (nothing was spooled yet).
                    _rt.Counters.SessionDenied();
                    await TarpitAsync(decision.Delay).ConfigureAwait(false);
                    _io.Write(SmtpReply.RuleReplyToWire(decision.Reply));
                    return await CloseWithAsync(Replies.DenyClosing).ConfigureAwait(false);
            }
        }

        void LogDecision(RuleDecision d) =>
            Log("decision", d.Action + (d.LineNumber != null ? " by line " + d.LineNumber : " by default (" + d.Basis + ")"),
                F("action", d.Action.ToString()), F("line", d.LineNumber), F("rule", d.Rule), F("reply", d.Reply),
                F("basis", d.Basis.ToString()), F("from", d.From), F("to", d.To), F("name", d.ClientName), F("ident", d.Ident),
                F("rules", d.RulesPath), F("failure", d.FailureReason));

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
