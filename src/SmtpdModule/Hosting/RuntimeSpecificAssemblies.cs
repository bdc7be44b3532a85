using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Libraries whose working build depends on the runtime and the operating system. Today one:
    /// System.DirectoryServices.Protocols (the LDAP recipient source), whose netstandard2.0 build
    /// is a stub that throws PlatformNotSupportedException.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>PowerShell 7: the package's net8.0 build for this OS, laid out by the build as
    /// <c>Dependencies/runtimes/{win,linux,osx}/</c>. PowerShell 7.6 carries an equal or newer
    /// copy of its own, and <see cref="DependencyLoadContext"/> prefers the platform's then; 7.4
    /// (.NET 8) carries an older one, and gets ours. On Linux it calls libldap (libldap-2.5).</item>
    /// <item>Windows PowerShell: the copy in the .NET Framework itself, by its full name; the
    /// engine's reference names a newer version, which the Framework will not bind on its own.</item>
    /// </list>
    /// </remarks>
    internal static class RuntimeSpecificAssemblies
    {
        static readonly Dictionary<string, string> s_inFramework = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["System.DirectoryServices.Protocols"] =
                "System.DirectoryServices.Protocols, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a",
        };

        /// <summary>The build of <paramref name="name"/> for this OS under <paramref name="dependencyDirectory"/>,
        /// or null when the module has none (the library is the same everywhere).</summary>
        internal static string FindForThisOs(string dependencyDirectory, string name)
        {
            var path = Path.Combine(Path.Combine(Path.Combine(dependencyDirectory, "runtimes"), OsFolder), name + ".dll");
            return File.Exists(path) ? path : null;
        }

        /// <summary>The .NET Framework's own assembly standing in for <paramref name="name"/>, by full
        /// name; null when the Framework has none.</summary>
        internal static string FrameworkName(string name) =>
            s_inFramework.TryGetValue(name, out var fullName) ? fullName : null;

        static string OsFolder =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win"
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx"
            : "linux";
    }
}
