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
    /// The files are the engine's <see cref="SpoolExport"/>; this binds, confirms and writes objects.
    /// </summary>
    [Cmdlet(VerbsData.Export, "SmtpdSpoolItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportSmtpdSpoolItemCommand : SpoolItemCmdlet
    {
        SpoolExport _export;

        /// <summary>An existing directory (one &lt;id&gt;.eml per message), or the file to write.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void BeginProcessing()
        {
            var destination = ResolvePath(Destination, ErrorMapping.ExportDestinationNotInFileSystem);
            try { _export = new SpoolExport(destination, Force); }
            catch (SpoolExportException ex) { ThrowTerminatingError(ErrorMapping.From(ex, Destination)); }
        }

        protected override void ProcessRecord()
        {
            var spool = OpenSpool(SpoolPath);
            foreach (var id in Id)
            {
                string file;
                try { file = _export.Export(spool, id, f => ShouldProcess("Item: " + id + " Destination: " + f, "Export spooled message")); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); continue; }
                catch (SpoolExportException ex) { WriteError(ErrorMapping.From(ex, Destination)); continue; }
                if (file != null) WriteObject(Exported(id, file));
            }
        }

        /// <summary>Name of the type the format file shows exported files with.</summary>
        const string ExportedTypeName = "SmtpdModule.ExportedSpoolItem";

        // Still a FileInfo to scripts ($f.FullName, -is [IO.FileInfo]); the type name picks a view
        // of the message's id, size and full path, and Id binds to the next spool cmdlet.
        static PSObject Exported(string id, string file)
        {
            var item = new PSObject(new FileInfo(file));
            item.TypeNames.Insert(0, ExportedTypeName);
            item.Properties.Add(new PSNoteProperty("Id", id));
            return item;
        }
    }
}
