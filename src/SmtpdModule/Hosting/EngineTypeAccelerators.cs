using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// PowerShell 7 resolves a type name such as <c>[SmtpdModule.Engine.Spool.SpoolItem]</c> only in
    /// the default load context (PowerShell/PowerShell: ClrFacade.GetPSVisibleAssemblies), and the
    /// engine lives in <see cref="DependencyLoadContext"/>. This registers each public engine type
    /// as a type accelerator under its own full name, so that scripts can still write
    /// <c>-is [SmtpdModule.Engine.Rules.RuleDecision]</c>. Nothing else is exposed: MailKit's or
    /// DnsClient's types stay invisible, as isolation wants.
    /// </summary>
    /// <remarks>
    /// The accelerator table is PowerShell's, process-wide and not public API, hence reflection;
    /// if it ever changes shape, the module still works and only engine type names go unresolved.
    /// Callers serialise Add and Remove (ModuleInitializer's lock).
    /// </remarks>
    internal static class EngineTypeAccelerators
    {
        static readonly List<KeyValuePair<string, Type>> s_added = new List<KeyValuePair<string, Type>>();

        public static void Add(Assembly engine)
        {
            var table = Table();
            if (table == null)
                return;
            var add = table.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(Type) }, null);
            var existing = table.GetProperty("Get", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IDictionary<string, Type>;
            if (add == null || existing == null)
                return;

            foreach (var type in PublicTypes(engine))
            {
                var name = type.FullName;
                // Never replace someone else's accelerator, whatever it is.
                if (name == null || existing.ContainsKey(name))
                    continue;
                add.Invoke(null, new object[] { name, type });
                s_added.Add(new KeyValuePair<string, Type>(name, type));
            }
        }

        public static void Remove()
        {
            var table = Table();
            var remove = table?.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
            var existing = table?.GetProperty("Get", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IDictionary<string, Type>;
            if (remove != null && existing != null)
            {
                foreach (var pair in s_added)
                {
                    // Only the ones that are still ours.
                    if (existing.TryGetValue(pair.Key, out var type) && type == pair.Value)
                        remove.Invoke(null, new object[] { pair.Key });
                }
            }
            s_added.Clear();
        }

        static Type Table() => typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");

        static IEnumerable<Type> PublicTypes(Assembly engine)
        {
            Type[] types;
            try
            {
                types = engine.GetExportedTypes();
            }
            catch (ReflectionTypeLoadException ex)
            {
                // A library missing from Dependencies/: name what could be loaded; the cmdlet that
                // needs the rest reports the missing file.
                types = ex.Types.Where(t => t != null && t.IsVisible).ToArray();
            }
            // Open generics have no usable literal ([X`1] needs arguments); the rest, nested ones
            // included, are written as PowerShell writes them (Outer+Inner).
            return types.Where(t => !t.IsGenericTypeDefinition);
        }
    }
}
