using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// PowerShell 7 only: the load context that holds the engine and its libraries (MailKit, MimeKit,
    /// DnsClient, BouncyCastle, ...), all loaded from the module's <c>Dependencies/</c> folder. Another
    /// module may have put other versions of those libraries in PowerShell's default context; here
    /// they are never seen, because <see cref="Load"/> answers before the default context is asked.
    /// </summary>
    /// <remarks>
    /// Never touched on Windows PowerShell: .NET Framework has no AssemblyLoadContext, and
    /// <see cref="ModuleInitializer"/> only reaches this type after it has checked that the runtime
    /// has one. The type comes from the System.Runtime.Loader 4.3.0 reference (compile-time only);
    /// at run time it binds to the runtime's own. That reference is .NET Core 1.x's surface, so the
    /// context has no name: it shows as this class in <c>[AssemblyLoadContext]::All</c>.
    /// </remarks>
    internal sealed class DependencyLoadContext : AssemblyLoadContext
    {
        // One per process: SmtpdModule.dll itself is loaded once, however often it is imported,
        // and a second context would load a second, incompatible copy of the engine.
        static DependencyLoadContext s_instance;

        readonly string _directory;
        readonly Dictionary<string, string> _platform;

        public DependencyLoadContext(string directory)
        {
            _directory = directory;
            _platform = ReadPlatformAssemblies();
        }

        /// <summary>
        /// Hands the engine to this context whenever PowerShell's default context looks for it: the
        /// default context cannot find it (it is not next to SmtpdModule.dll, nor on PowerShell's
        /// probing paths), so it raises Resolving. Only the engine crosses over; everything it
        /// references is then resolved by <see cref="Load"/>. Callers serialise Attach and Detach.
        /// </summary>
        internal static void Attach(string directory)
        {
            if (s_instance == null)
                s_instance = new DependencyLoadContext(directory);
            Default.Resolving += ResolveEngine;
        }

        internal static void Detach() => Default.Resolving -= ResolveEngine;

        /// <summary>The engine, loaded in this context; Attach first.</summary>
        internal static Assembly LoadEngine() => s_instance.LoadFromAssemblyName(new AssemblyName(ModuleInitializer.EngineAssemblyName));

        static Assembly ResolveEngine(AssemblyLoadContext context, AssemblyName assemblyName)
        {
            // The name is ours alone; nothing else in the process asks for it.
            if (!string.Equals(assemblyName.Name, ModuleInitializer.EngineAssemblyName, StringComparison.OrdinalIgnoreCase))
                return null;
            return s_instance.LoadFromAssemblyName(assemblyName);
        }

        /// <summary>
        /// First in line for every reference made from inside this context. The runtime's own
        /// assemblies (and PowerShell's) are shared, so that <c>Span&lt;T&gt;</c>, <c>Stream</c> or
        /// <c>X509Certificate2</c> is one type on both sides; everything else comes from
        /// <c>Dependencies/</c>, whatever version the default context holds.
        /// </summary>
        protected override Assembly Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name;
            if (string.IsNullOrEmpty(name))
                return null;

            // netstandard2.0 libraries bring package copies of System.Memory, System.Buffers and
            // the like; the platform's own are newer and forward to the real types. Null sends the
            // request on to the default context, which serves it from the platform. A platform
            // copy older than the reference (PowerShell 7.4 on .NET 8 has System.Formats.Asn1
            // 8.0.0.0, MimeKit asks for 10.0.0.0) would be refused there, so ours is loaded here.
            if (_platform.TryGetValue(name, out var platformPath)
                && (assemblyName.Version == null || VersionOf(platformPath) >= assemblyName.Version))
                return null;

            var path = RuntimeSpecificAssemblies.FindForThisOs(_directory, name) ?? Path.Combine(_directory, name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        /// <summary>
        /// The trusted platform assemblies (the .NET runtime and PowerShell's own libraries) by
        /// simple name: what the default context resolves without probing. Read once; the runtime
        /// asks <see cref="Load"/> once per name, so versions are read only when asked for.
        /// </summary>
        static Dictionary<string, string> ReadPlatformAssemblies()
        {
            var platform = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string;
            if (string.IsNullOrEmpty(list))
                return platform;

            foreach (var path in list.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                    continue;
                // The host has already settled on one file per name.
                platform[Path.GetFileNameWithoutExtension(path)] = path;
            }
            return platform;
        }

        static Version VersionOf(string path)
        {
            try
            {
                return AssemblyName.GetAssemblyName(path).Version ?? new Version(0, 0);
            }
            catch (Exception ex) when (ex is IOException || ex is BadImageFormatException || ex is UnauthorizedAccessException)
            {
                // Unreadable: the default context could not serve it either, so ours is taken.
                return new Version(0, 0);
            }
        }
    }
}
