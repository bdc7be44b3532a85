using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// flock seen from another program (python3): whether files are locked, and a lock held on
    /// one for as long as a test needs, the way a second writer's process would hold it.
    /// </summary>
    sealed class FlockProbe : IDisposable
    {
        const string CountScript =
            "import fcntl, sys\n" +
            "n = 0\n" +
            "for p in sys.argv[1:]:\n" +
            "    with open(p, 'rb') as f:\n" +
            "        try:\n" +
            "            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n" +
            "        except BlockingIOError:\n" +
            "            n += 1\n" +
            "print(n)\n";

        const string HoldScript =
            "import fcntl, sys\n" +
            "f = open(sys.argv[1], 'rb')\n" +
            "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n" +
            "print('held', flush=True)\n" +
            "sys.stdin.read()\n";

        readonly Process _process;

        FlockProbe(Process process, Task ready)
        {
            _process = process;
            Ready = ready;
        }

        /// <summary>Completes once the lock is held; faults if python could not take it.</summary>
        public Task Ready { get; }

        /// <summary>How many of <paramref name="paths"/> someone holds an exclusive flock on.</summary>
        public static async Task<int> CountLocked(IEnumerable<string> paths)
        {
            using var process = Start(CountScript, paths);
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException("python3 flock probe failed: " + error);
            return int.Parse(output.Trim());
        }

        /// <summary>Holds an exclusive flock on <paramref name="path"/> until disposed.</summary>
        public static FlockProbe Hold(string path)
        {
            var process = Start(HoldScript, new[] { path });
            return new FlockProbe(process, WaitHeld(process));
        }

        static async Task WaitHeld(Process process)
        {
            var line = await process.StandardOutput.ReadLineAsync();
            if (line != "held") throw new InvalidOperationException("python3 did not take the lock: " + await process.StandardError.ReadToEndAsync());
        }

        static Process Start(string script, IEnumerable<string> arguments)
        {
            var info = new ProcessStartInfo("python3")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(script);
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            return Process.Start(info);
        }

        public void Dispose()
        {
            try { _process.StandardInput.Close(); } catch (InvalidOperationException) { }
            if (!_process.WaitForExit(10000)) _process.Kill();
            _process.Dispose();
        }
    }
}
