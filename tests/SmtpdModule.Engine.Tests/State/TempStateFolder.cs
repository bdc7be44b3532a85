using System;
using System.IO;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A fresh folder for one test's <see cref="FileStateStore"/>, removed afterwards.</summary>
    sealed class TempStateFolder : IDisposable
    {
        public TempStateFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "smtpd-state-" + Guid.NewGuid().ToString("N"));
        }

        public string Path { get; }

        public string Journal => System.IO.Path.Combine(Path, FileStateStore.JournalFileName);

        public string NewJournal => Journal + FileStateStore.NewSuffix;

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }
        }
    }
}
