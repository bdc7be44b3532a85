using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Export-SmtpdSpoolItem: writes messages' bytes exactly as spooled (our Received: header
    /// first, then what the client sent) to <c>&lt;id&gt;.eml</c> files in a directory, or to one
    /// named file. An existing file is not overwritten without -Force; the spool is not changed.
    /// </summary>
    /// <remarks>
    /// The id is checked by the spool (opening the message) before it becomes part of a file name.
    /// Without -Force the file is created with CreateNew, so a file that appears between the check
    /// and the write is not overwritten either.
    /// </remarks>
    [Cmdlet(VerbsData.Export, "SmtpdSpoolItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportSmtpdSpoolItemCommand : SpoolItemCmdlet
    {
        /// <summary>What an exported message's file is called in a -Destination directory.</summary>
        const string Extension = ".eml";

        readonly HashSet<string> _written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string _destination;

        /// <summary>An existing directory (one &lt;id&gt;.eml per message), or the file to write.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void BeginProcessing()
        {
            _destination = ResolvePath(Destination, ErrorMapping.ExportDestinationNotInFileSystem);
            // Checked once, before any message: otherwise each one fails with "Could not find a
            // part of the path". A missing folder is not made: a typo would scatter mail.
            var folder = EndsInSeparator(_destination) ? _destination : Path.GetDirectoryName(_destination);
            if (!Directory.Exists(_destination) && !string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
                ThrowTerminatingError(ErrorMapping.ExportDestinationNotFound(Destination, folder));
        }

        static bool EndsInSeparator(string path)
        {
            var last = path[path.Length - 1];
            return last == Path.DirectorySeparatorChar || last == Path.AltDirectorySeparatorChar;
        }

        protected override void ProcessRecord()
        {
            var spool = OpenSpool(SpoolPath);
            foreach (var id in Id)
            {
                Stream message;
                try { message = spool.OpenMessage(id); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); continue; }
                using (message)
                {
                    var file = FileFor(id);
                    if (_written.Contains(file)) { WriteError(ErrorMapping.ExportFileExists(file, true)); continue; }
                    if (!Force && File.Exists(file)) { WriteError(ErrorMapping.ExportFileExists(file, false)); continue; }
                    if (!ShouldProcess("Item: " + id + " Destination: " + file, "Export spooled message")) continue;
                    if (Write(message, file)) WriteObject(Exported(id, file));
                }
            }
        }

        // A directory takes <id>.eml; anything else is the file itself. A name ending in a
        // separator means a directory, even one that does not exist (the write then says so).
        string FileFor(string id)
        {
            var isDirectory = Directory.Exists(_destination) || EndsInSeparator(_destination);
            return isDirectory ? Path.Combine(_destination, id + Extension) : _destination;
        }

        bool Write(Stream message, string file)
        {
            var created = false;
            try
            {
                using (var output = new FileStream(file, Force ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    created = true;
                    message.CopyTo(output);
                }
                _written.Add(file);
                return true;
            }
            catch (IOException) when (!created && !Force && File.Exists(file))
            {
                WriteError(ErrorMapping.ExportFileExists(file, false));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                // Half a message is worse than none.
                if (created) TryDelete(file);
                WriteError(ErrorMapping.ExportFailed(ex, file));
            }
            return false;
        }

        /// <summary>Name of the type the format file shows exported files with.</summary>
        internal const string ExportedTypeName = "SmtpdModule.ExportedSpoolItem";

        // Still a FileInfo to scripts ($f.FullName, -is [IO.FileInfo]); the type name picks a view
        // of the message's id, size and full path, and Id binds to the next spool cmdlet.
        static PSObject Exported(string id, string file)
        {
            var item = new PSObject(new FileInfo(file));
            item.TypeNames.Insert(0, ExportedTypeName);
            item.Properties.Add(new PSNoteProperty("Id", id));
            return item;
        }

        static void TryDelete(string file)
        {
            try { File.Delete(file); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
        }
    }
}
