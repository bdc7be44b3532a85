using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Makes the engine and its libraries load from the module's <c>Dependencies/</c> folder, before
    /// anything in this assembly touches an engine type.
    /// </summary>
    /// <remarks>
    /// Layout (build.ps1 Invoke-Build): SmtpdModule.dll, the only assembly PowerShell loads itself,
    /// at the module root; SmtpdModule.Engine.dll, MailKit, MimeKit, DnsClient, BouncyCastle and
    /// their package shims in <c>Dependencies/</c>, where no probing finds them by accident.
    /// Libraries built per OS sit in <c>Dependencies/runtimes/&lt;os&gt;/</c> (<see cref="RuntimeSpecificAssemblies"/>).
    /// <list type="bullet">
    /// <item>PowerShell 7 (.NET Core): the default load context raises Resolving for the engine;
    /// <see cref="DependencyLoadContext"/> loads it, and then every library it references, in a
    /// context of its own. Another module's MailKit or DnsClient of a different version, loaded
    /// before or after this one, is never seen by the engine, nor ours by that module.</item>
    /// <item>Windows PowerShell 5.1 (.NET Framework): no load contexts, so no isolation; an
    /// AssemblyResolve handler loads what this module asks for from <c>Dependencies/</c>.</item>
    /// </list>
    /// Order matters: Import-Module loads every public type of this assembly (GetExportedTypes)
    /// before it runs OnImport, and loading a type loads its base types, its interfaces and the
    /// types of its value-type fields. So no public type here may derive from or implement an engine
    /// type, or hold an engine enum or struct in a field (the cmdlets keep such parameters in an int
    /// field; Packaging.Tests.ps1 checks the rule). Parameter and output types such as
    /// <c>SmtpProxy[]</c> or <c>DefaultAction</c> are reflected over only after OnImport, when a
    /// command is first bound or shown, and static state that names engine types (ProxyRegistry,
    /// ForwarderRegistry) is first touched inside a cmdlet.
    /// (MicrosoftDocs/PowerShell-Docs: dev-cross-plat/resolving-dependency-conflicts.md.)
    /// </remarks>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        internal const string EngineAssemblyName = "SmtpdModule.Engine";

        static readonly object s_gate = new object();
        // Each runspace that imports the module runs OnImport, and each Remove-Module runs
        // OnRemove: the hooks stay while any runspace still has the module.
        static int s_imports;

        /// <summary>The folder the engine and its libraries load from.</summary>
        internal static string DependencyDirectory { get; } = Path.Combine(
            Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? string.Empty, "Dependencies");

        /// <summary>True on .NET Core, whose core library defines AssemblyLoadContext.</summary>
        internal static bool HasLoadContexts { get; } =
            typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext") != null;

        public void OnImport()
        {
            lock (s_gate)
            {
                if (s_imports++ > 0)
                    return;
                if (HasLoadContexts)
                    AttachCore();
                else
                    AppDomain.CurrentDomain.AssemblyResolve += ResolveOnDesktop;
            }
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            lock (s_gate)
            {
                if (s_imports == 0 || --s_imports > 0)
                    return;
                if (HasLoadContexts)
                    DetachCore();
                else
                    AppDomain.CurrentDomain.AssemblyResolve -= ResolveOnDesktop;
            }
        }

        // The two methods that name DependencyLoadContext are kept apart and never inlined: the
        // JIT would otherwise look for System.Runtime.Loader while compiling OnImport, which
        // fails on .NET Framework.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static void AttachCore()
        {
            DependencyLoadContext.Attach(DependencyDirectory);
            // Types in a custom load context are hidden from PowerShell's type-name lookup, so
            // [SmtpdModule.Engine.Spool.SpoolItem] would stop working; accelerators bring the
            // engine's public types back by their full names. Windows PowerShell sees them anyway.
            EngineTypeAccelerators.Add(DependencyLoadContext.LoadEngine());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void DetachCore()
        {
            EngineTypeAccelerators.Remove();
            DependencyLoadContext.Detach();
        }

        /// <summary>
        /// Windows PowerShell: called when the Framework's probing (the application folder, the
        /// GAC, the folder SmtpdModule.dll was loaded from) did not find an assembly.
        /// </summary>
        static Assembly ResolveOnDesktop(object sender, ResolveEventArgs args)
        {
            // Answer this module and its libraries only; the requester is unknown (null) for some
            // loads, and then the name decides. (PowerShell/PSResourceGet: src/code/ModuleInitAndCleanup.cs
            // does the same.)
            var requester = args.RequestingAssembly;
            if (requester != null && requester != typeof(ModuleInitializer).Assembly && !IsDependency(requester))
                return null;

            var name = new AssemblyName(args.Name).Name;
            var inFramework = RuntimeSpecificAssemblies.FrameworkName(name);
            if (inFramework != null)
            {
                try { return Assembly.Load(inFramework); }
                catch (FileNotFoundException) { return null; }
            }
            var path = Path.Combine(DependencyDirectory, name + ".dll");
            // LoadFrom, as PowerShell loads a module's own assemblies; its version may differ from
            // the one asked for (a shim such as System.Memory), and the Framework accepts it.
            return File.Exists(path) ? Assembly.LoadFrom(path) : null;
        }

        static bool IsDependency(Assembly assembly)
        {
            string location;
            try { location = assembly.IsDynamic ? null : assembly.Location; }
            catch (NotSupportedException) { return false; }
            return !string.IsNullOrEmpty(location)
                && string.Equals(Path.GetDirectoryName(location), DependencyDirectory, StringComparison.OrdinalIgnoreCase);
        }
    }
}
