using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Architecture
{
    /// <summary>
    /// The README's map of the engine's folders is also its rule: a folder uses only the folders
    /// listed below it. Read from the README itself, so the map and the code cannot drift apart.
    /// </summary>
    public class LayeringTests
    {
        static readonly string Engine = Path.Combine(RepoPaths.Root, "src", "SmtpdModule.Engine");

        /// <summary>The folders in the README's map, top first.</summary>
        static List<string> MapOrder()
        {
            var readme = File.ReadAllLines(Path.Combine(RepoPaths.Root, "README.md"));
            var start = Array.FindIndex(readme, l => l.Trim() == "src/SmtpdModule.Engine/");
            Assert.True(start >= 0, "README.md has no map of src/SmtpdModule.Engine/");
            var order = new List<string>();
            for (int i = start + 1; i < readme.Length && !readme[i].StartsWith("```", StringComparison.Ordinal); i++)
            {
                var m = Regex.Match(readme[i], @"^  ([A-Za-z]+)/");
                if (m.Success) order.Add(m.Groups[1].Value);
            }
            return order;
        }

        static IEnumerable<string> SourceFolders() =>
            Directory.GetDirectories(Engine).Select(Path.GetFileName).Where(n => n != "bin" && n != "obj" && n != "Properties");

        [Fact]
        public void Every_engine_folder_is_on_the_map()
        {
            var order = MapOrder();
            Assert.Empty(SourceFolders().Except(order));
            Assert.Empty(order.Except(SourceFolders()));
        }

        [Fact]
        public void A_folder_uses_only_the_folders_below_it()
        {
            var order = MapOrder();
            var wrong = new List<string>();
            foreach (var folder in SourceFolders())
            {
                var rank = order.IndexOf(folder);
                foreach (var file in Directory.GetFiles(Path.Combine(Engine, folder), "*.cs", SearchOption.AllDirectories))
                    foreach (Match m in Regex.Matches(File.ReadAllText(file), @"\bSmtpdModule\.Engine\.([A-Za-z]+)"))
                    {
                        var used = m.Groups[1].Value;
                        var usedRank = order.IndexOf(used);
                        if (used != folder && usedRank >= 0 && usedRank < rank)
                            wrong.Add(folder + "/" + Path.GetFileName(file) + " uses " + used);
                    }
            }
            Assert.Empty(wrong.Distinct());
        }

        [Fact]
        public void Spf_sits_below_the_rules_and_above_the_lookups()
        {
            // The rules will test SPF results (SPF=); SPF asks DNS through Lookup's IDnsResolver.
            var order = MapOrder();
            Assert.True(order.IndexOf("Rules") < order.IndexOf("Spf"), "Spf must be listed below Rules");
            Assert.True(order.IndexOf("Spf") < order.IndexOf("Lookup"), "Spf must be listed above Lookup");
        }

        [Fact]
        public void No_source_file_is_over_400_lines()
        {
            var src = Path.Combine(RepoPaths.Root, "src");
            var longFiles = Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar)
                            && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .Select(f => new { File = f.Substring(src.Length + 1), Lines = File.ReadLines(f).Count() })
                .Where(f => f.Lines > 400)
                .Select(f => f.File + ": " + f.Lines);
            Assert.Empty(longFiles);
        }
    }
}
