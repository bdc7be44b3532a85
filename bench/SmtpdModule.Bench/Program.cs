using BenchmarkDotNet.Running;

namespace SmtpdModule.Bench
{
    public static class Program
    {
        public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
