using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>
    /// Field-by-field equality of two decision records, facts, results and downstream limits
    /// included, by reflection over their public properties, so a field added later is compared
    /// without anyone remembering to. Doubles compare by bits (−0 is not 0), times by ticks and
    /// offset, dictionaries by order, keys, values and key comparer.
    /// </summary>
    static class DecisionRecordComparer
    {
        /// <summary>The first difference as "path: expected ≠ actual"; null when equal.</summary>
        public static string Difference(object expected, object actual, string path = "record")
        {
            if (expected == null || actual == null)
                return expected == null && actual == null ? null : path + ": " + Show(expected) + " ≠ " + Show(actual);
            var type = expected.GetType();
            if (type != actual.GetType() && !(expected is IEnumerable && actual is IEnumerable))
                return path + ": type " + type.Name + " ≠ " + actual.GetType().Name;
            switch (expected)
            {
                case string s: return s == (string)actual ? null : path + ": " + Show(s) + " ≠ " + Show(actual);
                case double d:
                    return BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits((double)actual) ? null : path + ": " + d.ToString("R") + " ≠ " + ((double)actual).ToString("R");
                case DateTimeOffset t:
                    var u = (DateTimeOffset)actual;
                    return t.Ticks == u.Ticks && t.Offset == u.Offset ? null : path + ": " + t.ToString("o") + " ≠ " + u.ToString("o");
                case IReadOnlyDictionary<string, string> map:
                    var other = (IReadOnlyDictionary<string, string>)actual;
                    if (map is Dictionary<string, string> dm && other is Dictionary<string, string> om && !Equals(dm.Comparer, om.Comparer))
                        return path + ": key comparer differs";
                    var a = map.ToList();
                    var b = other.ToList();
                    if (a.Count != b.Count) return path + ": " + a.Count + " entries ≠ " + b.Count;
                    for (int i = 0; i < a.Count; i++)
                        if (a[i].Key != b[i].Key || a[i].Value != b[i].Value)
                            return path + "[" + i + "]: " + Show(a[i].Key) + "=" + Show(a[i].Value) + " ≠ " + Show(b[i].Key) + "=" + Show(b[i].Value);
                    return null;
                case IEnumerable list when !(expected is string):
                    var x = list.Cast<object>().ToList();
                    var y = ((IEnumerable)actual).Cast<object>().ToList();
                    if (x.Count != y.Count) return path + ": " + x.Count + " items ≠ " + y.Count;
                    for (int i = 0; i < x.Count; i++)
                    {
                        var d = Difference(x[i], y[i], path + "[" + i + "]");
                        if (d != null) return d;
                    }
                    return null;
            }
            if (type.IsPrimitive || type.IsEnum || Nullable.GetUnderlyingType(type) != null)
                return expected.Equals(actual) ? null : path + ": " + expected + " ≠ " + actual;
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.GetIndexParameters().Length > 0) continue;
                var d = Difference(p.GetValue(expected), p.GetValue(actual), path + "." + p.Name);
                if (d != null) return d;
            }
            return null;
        }

        static string Show(object o) => o == null ? "null" : o is string s ? "\"" + s + "\"" : o.ToString();

        /// <summary>Fails with the first difference.</summary>
        public static void Equal(DecisionRecord expected, DecisionRecord actual, string where)
        {
            var d = Difference(expected, actual);
            if (d != null) throw new Xunit.Sdk.XunitException(where + ": " + d);
        }
    }
}
