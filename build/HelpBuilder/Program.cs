using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Markdig;

namespace HelpBuilder
{
    /// <summary>
    /// HelpBuilder SOURCE_DIR OUTPUT_DIR
    /// <para>
    /// Reads every *.md of SOURCE_DIR (the platyPS pages of docs/en-US): about_*.md become
    /// about_*.help.txt, every other page one command of the MAML file its front matter names
    /// ("external help file"). Every problem is printed as "file:line: message" on stderr and
    /// the exit code is 1; nothing is written unless all pages could be read.
    /// </para>
    /// </summary>
    static class Program
    {
        static string ReadPage(string file, string path)
        {
            try { return File.ReadAllText(file); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new HelpFormatException(path, 1, "cannot be read: " + e.Message);
            }
        }

        static int Main(string[] args)
        {
            if (args.Length != 2)
            {
                Console.Error.WriteLine("usage: HelpBuilder SOURCE_DIR OUTPUT_DIR");
                return 2;
            }
            string source = args[0];
            string output = args[1];
            if (!Directory.Exists(source))
            {
                Console.Error.WriteLine($"{source}: no such directory.");
                return 2;
            }

            var pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();
            var problems = new List<HelpFormatException>();
            var commands = new List<CommandHelp>();
            var abouts = new List<(Markdig.Syntax.MarkdownDocument Document, string Path, string Topic)>();

            foreach (string file in Directory.GetFiles(source, "*.md").OrderBy(f => f, StringComparer.Ordinal))
            {
                string path = Path.GetRelativePath(Environment.CurrentDirectory, file);
                string name = Path.GetFileNameWithoutExtension(file);
                try
                {
                    var document = Markdown.Parse(ReadPage(file, path), pipeline);
                    if (name.StartsWith("about_", StringComparison.Ordinal))
                        abouts.Add((document, path, name));
                    else
                        commands.Add(CommandPageParser.Parse(document, path, name));
                }
                catch (HelpFormatException problem)
                {
                    problems.Add(problem);
                }
            }

            var helpFiles = commands.GroupBy(c => c.ExternalHelpFile, StringComparer.OrdinalIgnoreCase).ToList();
            foreach (var odd in helpFiles.Skip(1).SelectMany(g => g))
                problems.Add(new HelpFormatException(odd.Path, 1,
                    $"'external help file: {odd.ExternalHelpFile}' differs from '{helpFiles[0].Key}' of the other pages."));

            Directory.CreateDirectory(output);
            // The about topics are written to a scratch folder first, so that a failure leaves
            // nothing half-made in OUTPUT_DIR.
            string scratch = Path.Combine(output, ".about-" + Environment.ProcessId);
            Directory.CreateDirectory(scratch);
            try
            {
                foreach (var (document, path, topic) in abouts)
                {
                    try { AboutTopicWriter.Write(document, path, topic, Path.Combine(scratch, topic + ".help.txt")); }
                    catch (HelpFormatException problem) { problems.Add(problem); }
                }

                if (problems.Count > 0)
                {
                    foreach (var problem in problems.OrderBy(p => p.Path, StringComparer.Ordinal).ThenBy(p => p.Line))
                        Console.Error.WriteLine(problem);
                    Console.Error.WriteLine($"HelpBuilder: {problems.Count} problem(s) in {source}; no help written.");
                    return 1;
                }

                foreach (var group in helpFiles)
                    MamlWriter.Write(group, Path.Combine(output, group.Key));
                foreach (string file in Directory.GetFiles(scratch))
                    File.Move(file, Path.Combine(output, Path.GetFileName(file)), overwrite: true);
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }

            Console.WriteLine($"HelpBuilder: {commands.Count} command(s) in {string.Join(", ", helpFiles.Select(g => g.Key))}, {abouts.Count} about topic(s), in {Path.GetRelativePath(Environment.CurrentDirectory, output)}.");
            return 0;
        }
    }
}
