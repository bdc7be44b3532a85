using System;
using System.Diagnostics;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// The protocol tests inside the session, after Postfix's postscreen: pregreet (the greeting's
    /// teaser line), improper pipelining, non-SMTP commands and bare newlines in commands. postscreen
    /// runs its deeper tests before handing a client on and must make it reconnect; the proxy is
    /// in-line, so every test runs in the one session. A failure is a fact of the session
    /// (<see cref="PolicySession.FailedTests"/>, tested by FAILED= and recorded in every decision);
    /// the action decides whether it is logged or enforced.
    /// </summary>
    internal sealed partial class SmtpSession
    {
        // No test runs for an exempt client: its failures are never facts.
        bool _exempt;
        // RFC 2920: a client may send a command before the previous reply only after EHLO's reply
        // offered PIPELINING; never before it, never in a HELO session, and not again after STARTTLS until the new EHLO.
        bool _pipeliningAllowed;
        bool _remembered;

        ProtocolTestOptions TestOptions => _rt.Options.ProtocolTests;

        string PassKey => "pass:" + _peer.Text;

        bool IsExempt() => Net.NetworkRange.AnyContains(_rt.ProtocolExempt, _peer);

        /// <summary>The client passed the pregreet test within the pass TTL. A store that cannot be read
        /// remembers nothing: the test runs again (the fail mode lets mail through, at the cost of a wait).</summary>
        async Task<bool> RememberedAsync()
        {
            try { return await _known.Facts.ReadStateAsync(PassKey).ConfigureAwait(false) != null; }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                Log("state", "pregreet pass not read: " + ex.Message);
                return false;
            }
        }

        /// <summary>A write a session need not wait on the outcome of: a failure is logged, the session goes on.</summary>
        async Task StateWriteAsync(Func<Task> write)
        {
            try { await write().ConfigureAwait(false); }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { Log("state", "not written: " + ex.Message); }
        }

        /// <summary>The greeting, with the pregreet test when it runs: a <c>220-</c> teaser at once,
        /// the reverse lookup meanwhile, the rest of the greet wait, then the final <c>220 </c> line.
        /// Otherwise the plain one-line greeting, no wait. False: the client was turned away (a rate
        /// limit's 421) and the session is over.</summary>
        async Task<bool> GreetAndTestAsync(PolicyPipeline pipeline)
        {
            var refused = await pipeline.AdmitAsync(_known).ConfigureAwait(false);
            if (refused != null)
            {
                Log("limit", refused.Reason);
                _io.Write(refused.ToWire());
                await _io.FlushAsync().ConfigureAwait(false);
                return false;
            }
            _exempt = IsExempt();
            if (_exempt) _known.Results["pregreet"] = "exempt";
            var wait = TestOptions.GreetWait;
            bool test = !_exempt && wait > TimeSpan.Zero
                        && (TestOptions.PregreetAction != ProtocolTestAction.Ignore || (pipeline.TestsNamedByRules & ProtocolTests.Pregreet) != 0);
            if (test && await RememberedAsync().ConfigureAwait(false))
            {
                // Passed within the pass TTL: a legitimate server pays the wait once, not on every connection.
                _remembered = true;
                _known.Results["pregreet"] = "remembered";
                test = false;
            }
            var clock = Stopwatch.StartNew();
            if (test)
            {
                _io.Write("220-" + pipeline.Greeting.Text + "\r\n");
                await _io.FlushAsync().ConfigureAwait(false);
            }
            var verdict = await pipeline.ConnectAsync(_known).ConfigureAwait(false);
            Log("connect", null, F("name", _known.ClientName), F("local", _local.ToString()), F("reverse", _known.ReverseLookupNote));
            if (test)
            {
                var left = wait - clock.Elapsed;
                if (await _io.InputWithinAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false))
                    await FailAsync(ProtocolTests.Pregreet, "the client spoke before the greeting ended (" + (int)clock.Elapsed.TotalMilliseconds + " ms after connect)")
                        .ConfigureAwait(false);
                else
                {
                    _known.Results["pregreet"] = "pass";
                    await StateWriteAsync(() => _rt.State.SetAsync(PassKey, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                                                                   TestOptions.PassTtl)).ConfigureAwait(false);
                }
            }
            _io.Write(verdict.ToWire());
            await _io.FlushAsync().ConfigureAwait(false);
            return true;
        }

        /// <summary>The per-command tests on a line just read; false when an enforced test closed the session.</summary>
        async Task<bool> TestCommandAsync(string line)
        {
            if (_exempt) return true;
            if (_io.LastLineBareNewline)
                await FailAsync(ProtocolTests.BareNewline, "a command ended with LF alone").ConfigureAwait(false);
            // Bytes already buffered behind this line were sent before its reply was written.
            if (!_pipeliningAllowed && _io.HasBufferedInput)
                await FailAsync(ProtocolTests.Pipelining, _known.Helo == null
                    ? "a command followed before the reply to the greeting or to EHLO/HELO"
                    : "several commands in one write in a HELO session (PIPELINING was not offered)").ConfigureAwait(false);
            if (NonSmtpCommand.IsNonSmtp(line))
            {
                await FailAsync(ProtocolTests.NonSmtp, "non-SMTP command: " + Net.PeerText.CleanName(line.Length > 40 ? line.Substring(0, 40) : line))
                    .ConfigureAwait(false);
                if (TestOptions.NonSmtpAction == ProtocolTestAction.Enforce)
                {
                    _rt.Counters.SessionDenied();
                    _io.Write(PolicyPipeline.ProtocolError(ProtocolTests.NonSmtp) + "\r\n");
                    await _io.FlushAsync().ConfigureAwait(false);
                    return false;
                }
            }
            return true;
        }

        /// <summary>A failed test: a fact from now on, logged unless its action is Ignore, and the client
        /// is no longer remembered as passing.</summary>
        async Task FailAsync(ProtocolTests test, string detail)
        {
            bool first = (_known.FailedTests & test) == 0;
            _known.Failed(test);
            var action = TestOptions.ActionFor(test);
            if (first && action != ProtocolTestAction.Ignore)
                Log("protocol", ProtocolTestNames.Describe(test) + " failed: " + detail,
                    F("test", ProtocolTestNames.Describe(test)), F("action", action.ToString()), F("failed", ProtocolTestNames.Of(_known.FailedTests)));
            if (first && (_remembered || _known.Results.TryGetValue("pregreet", out var r) && r == "pass"))
            {
                _remembered = false;
                await StateWriteAsync(() => _rt.State.RemoveAsync(PassKey)).ConfigureAwait(false);
            }
        }
    }
}
