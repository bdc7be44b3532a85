using System;
using System.IO;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>Finds files of the repository from the test's output folder.</summary>
    public static class RepoPaths
    {
        public static string Root
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "SmtpdModule.psd1"))) dir = dir.Parent;
                if (dir == null) throw new InvalidOperationException("repository root (with SmtpdModule.psd1) not found above " + AppContext.BaseDirectory);
                return dir.FullName;
            }
        }

        public static string Fixture(params string[] parts) => Path.Combine(Root, "tests", "fixtures", Path.Combine(parts));
    }
}
