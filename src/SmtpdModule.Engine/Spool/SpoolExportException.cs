using System;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>Why <see cref="SpoolExport"/> did not write a message's file.</summary>
    public enum SpoolExportFailure
    {
        /// <summary>The folder that would hold the files does not exist (or is a file); it is not made.</summary>
        FolderNotFound,
        /// <summary>The file exists and overwriting was not asked for.</summary>
        Exists,
        /// <summary>This export already wrote the file for another message; one file never holds two.</summary>
        AlreadyWritten,
        /// <summary>The file could not be written (I/O, permissions, a name the file system refuses).</summary>
        Unwritable,
    }

    /// <summary>
    /// An export that could not write its file. Carries data: the <see cref="Path"/> concerned (the
    /// file, or for <see cref="SpoolExportFailure.FolderNotFound"/> the folder) and the
    /// <see cref="Failure"/>; the I/O exception, if any, is the inner exception.
    /// </summary>
    public sealed class SpoolExportException : Exception
    {
        public SpoolExportException(string path, SpoolExportFailure failure, Exception innerException = null)
            : base(path + ": " + failure + (innerException == null ? "" : ": " + innerException.Message), innerException)
        {
            Path = path;
            Failure = failure;
        }

        /// <summary>The file that was not written, or the folder that is missing.</summary>
        public string Path { get; }

        public SpoolExportFailure Failure { get; }
    }
}
