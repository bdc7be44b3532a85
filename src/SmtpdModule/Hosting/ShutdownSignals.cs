using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Turns SIGTERM, SIGINT and SIGQUIT (on Windows: Ctrl+C, Ctrl+Break, closing the console) into
    /// a graceful stop of a <c>-Wait</c>: a supervisor (systemd, docker, a shell's kill) sends
    /// SIGTERM, and without this .NET ends the process at once, cutting the transaction in flight.
    /// </summary>
    /// <remarks>
    /// The module targets netstandard2.0, which has no <c>PosixSignalRegistration</c>; PowerShell 7
    /// runs on .NET 8 or later, which has it, so it is found by reflection. Each handler sets
    /// <c>Cancel</c>, so the runtime's default (exit) does not happen: the <c>-Wait</c> stops the
    /// proxy or forwarder, returns, and the script goes on (and ends with exit code 0). Where the
    /// type is missing (Windows PowerShell 5.1), <c>AppDomain.ProcessExit</c> is the fallback: the
    /// handler signals the stop and holds the exit until the <c>-Wait</c> has finished it, within
    /// a bound.
    /// </remarks>
    internal sealed class ShutdownSignals : IDisposable
    {
        // PosixSignal values: SIGHUP -1, SIGINT -2, SIGQUIT -3, SIGTERM -4.
        static readonly int[] Signals = { -4, -2, -3 };
        static readonly Type s_registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices", false)
                                              ?? Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration", false);

        readonly ManualResetEvent _requested = new ManualResetEvent(false);
        readonly ManualResetEvent _finished = new ManualResetEvent(false);
        readonly List<IDisposable> _registrations = new List<IDisposable>();
        readonly TimeSpan _exitBound;
        int _signal;
        bool _disposed;

        /// <param name="exitBound">How long a ProcessExit may be held for the stop to finish.</param>
        public ShutdownSignals(TimeSpan exitBound)
        {
            _exitBound = exitBound;
            RegisterPosix();
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }

        /// <summary>Set when a signal (or the process's exit) asks for a stop.</summary>
        public WaitHandle Requested => _requested;

        /// <summary>The signal that asked, as a name (SIGTERM, SIGINT, SIGQUIT, exit).</summary>
        public string SignalName
        {
            get
            {
                switch (Volatile.Read(ref _signal))
                {
                    case -4: return "SIGTERM";
                    case -2: return "SIGINT";
                    case -3: return "SIGQUIT";
                    case 1: return "process exit";
                    default: return null;
                }
            }
        }

        void RegisterPosix()
        {
            if (s_registration == null) return;
            var create = s_registration.GetMethod("Create", BindingFlags.Public | BindingFlags.Static);
            var signalType = s_registration.Assembly.GetType("System.Runtime.InteropServices.PosixSignal");
            var contextType = s_registration.Assembly.GetType("System.Runtime.InteropServices.PosixSignalContext");
            if (create == null || signalType == null || contextType == null) return;
            var cancel = contextType.GetProperty("Cancel");
            var signalProperty = contextType.GetProperty("Signal");
            var handlerType = typeof(Action<>).MakeGenericType(contextType);
            // Action<PosixSignalContext> built from a closed delegate over this instance.
            var handler = Delegate.CreateDelegate(handlerType, new Relay(this, cancel, signalProperty), typeof(Relay).GetMethod(nameof(Relay.Invoke)));
            foreach (var signal in Signals)
            {
                try
                {
                    var registration = (IDisposable)create.Invoke(null, new[] { Enum.ToObject(signalType, signal), (object)handler });
                    _registrations.Add(registration);
                }
                catch (TargetInvocationException) { }   // not supported on this platform (e.g. SIGQUIT on some)
            }
        }

        sealed class Relay
        {
            readonly ShutdownSignals _owner;
            readonly PropertyInfo _cancel, _signal;

            public Relay(ShutdownSignals owner, PropertyInfo cancel, PropertyInfo signal)
            {
                _owner = owner;
                _cancel = cancel;
                _signal = signal;
            }

            public void Invoke(object context)
            {
                if (_owner._disposed) return;
                _cancel?.SetValue(context, true);
                int number = Convert.ToInt32(_signal?.GetValue(context) ?? -4, System.Globalization.CultureInfo.InvariantCulture);
                Interlocked.CompareExchange(ref _owner._signal, number, 0);
                _owner._requested.Set();
            }
        }

        void OnProcessExit(object sender, EventArgs e)
        {
            if (_disposed) return;
            Interlocked.CompareExchange(ref _signal, 1, 0);
            _requested.Set();
            _finished.WaitOne(_exitBound);
        }

        /// <summary>Called when the <c>-Wait</c> has stopped what it ran: a held exit may go on.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var r in _registrations) r.Dispose();
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            _finished.Set();
        }
    }
}
