using System;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// The forms both sides of a recipient list lookup are compared in. Domains: IDNA ASCII form
    /// (RFC 5890 A-labels, via <see cref="IdnMapping.GetAscii(string)"/>), lower case, one trailing
    /// dot dropped, so <c>bücher.example</c>, <c>BÜCHER.example</c> and <c>xn--bcher-kva.example</c>
    /// are one domain. Local parts: Unicode NFC (RFC 6531 §3.3 asks for it in SMTPUTF8 addresses),
    /// then compared ignoring case by the invariant culture's simple case mapping.
    /// </summary>
    internal static class RecipientListAddress
    {
        /// <summary>The comparison domains and exact local parts are stored under.</summary>
        internal static readonly StringComparer Comparer = StringComparer.OrdinalIgnoreCase;

        /// <summary>
        /// The domain in its ASCII form, or null with <paramref name="error"/> when it is not a domain
        /// name. <paramref name="validate"/>: run IDNA rules on ASCII names too (the file is checked
        /// strictly; a lookup of an ASCII name skips it, since a malformed name simply matches nothing
        /// the strict side let in).
        /// </summary>
        internal static string Domain(string domain, bool validate, out string error)
        {
            error = null;
            if (domain.Length > 1 && domain[domain.Length - 1] == '.') domain = domain.Substring(0, domain.Length - 1);
            if (domain.Length == 0)
            {
                error = "the domain is empty";
                return null;
            }
            if (!validate && IsAscii(domain)) return domain;   // compared with OrdinalIgnoreCase: no copy
            try
            {
                // A fresh mapper per call: IdnMapping's instance members are not documented thread-safe.
                return new IdnMapping().GetAscii(domain).ToLowerInvariant();
            }
            catch (ArgumentException ex)
            {
                error = ex.Message;
                return null;
            }
        }

        /// <summary>The local part in NFC; ASCII (nearly every address) is returned as it is.</summary>
        internal static string Local(string local)
        {
            if (IsAscii(local)) return local;
            try
            {
                return local.IsNormalized(NormalizationForm.FormC) ? local : local.Normalize(NormalizationForm.FormC);
            }
            catch (ArgumentException)
            {
                return local;   // a lone surrogate: cannot be normalized, compared as it is
            }
        }

        internal static bool IsAscii(string s)
        {
            foreach (var c in s)
                if (c > 0x7F) return false;
            return true;
        }
    }
}
