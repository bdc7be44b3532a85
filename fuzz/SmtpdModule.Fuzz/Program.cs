using System;
using System.IO;
using System.Linq;
using SharpFuzz;

namespace SmtpdModule.Fuzz
{
    /// <summary>
    /// SmtpdModule.Fuzz TARGET               run under afl-fuzz (SharpFuzz's out-of-process loop)
    /// SmtpdModule.Fuzz TARGET --replay PATH  run the target once per file (PATH a file or folder),
    ///                                         print each exception; exit 1 when any input failed.
    /// Targets: command, data, address, rules (see FuzzTargets).
    /// </summary>
    internal static class Program
    {
        static int Main(string[] args)
        {
            if (args.Length < 1 || !FuzzTargets.All.TryGetValue(args[0], out var target))
            {
                Console.Error.WriteLine("usage: SmtpdModule.Fuzz <" + string.Join("|", FuzzTargets.All.Keys) + "> [--replay <file|dir>]");
                return 2;
            }
            if (args.Length >= 3 && args[1] == "--replay") return Replay(args[0], target, args[2]);

            Fuzzer.OutOfProcess.Run(stream =>
            {
                var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                target(buffer.ToArray());
            });
            return 0;
        }

        static int Replay(string name, Action<byte[]> target, string path)
        {
            var files = Directory.Exists(path)
                ? Directory.GetFiles(path).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToArray()
                : new[] { path };
            int failed = 0;
            foreach (var f in files)
            {
                try { target(File.ReadAllBytes(f)); }
                catch (Exception ex)
                {
                    failed++;
                    Console.WriteLine("== " + name + ": " + Path.GetFileName(f));
                    Console.WriteLine(ex);
                }
            }
            Console.WriteLine(name + ": replayed " + files.Length + " input(s), " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }
    }
}
