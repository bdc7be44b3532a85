namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Checks bytes are well-formed UTF-8 (RFC 3629 §4, as RFC 6531 requires of SMTPUTF8 addresses):
    /// no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray or
    /// missing continuation bytes. The decoder the session uses replaces such bytes with U+FFFD, so
    /// without this check they would reach the rules and the spool looking like valid text.
    /// </summary>
    internal static class Utf8Validator
    {
        public static bool IsWellFormed(byte[] b, int offset, int count)
        {
            int i = offset, end = offset + count;
            while (i < end)
            {
                byte x = b[i];
                if (x < 0x80) { i++; continue; }
                int n;
                byte lo = 0x80, hi = 0xBF;   // the range of the second byte (RFC 3629 §4, UTF8-2..4)
                if (x >= 0xC2 && x <= 0xDF) n = 1;
                else if (x >= 0xE0 && x <= 0xEF)
                {
                    n = 2;
                    if (x == 0xE0) lo = 0xA0;        // overlong
                    else if (x == 0xED) hi = 0x9F;   // surrogates
                }
                else if (x >= 0xF0 && x <= 0xF4)
                {
                    n = 3;
                    if (x == 0xF0) lo = 0x90;        // overlong
                    else if (x == 0xF4) hi = 0x8F;   // above U+10FFFF
                }
                else return false;                   // C0, C1 (overlong), F5..FF, or a stray continuation
                if (end - i <= n) return false;
                if (b[i + 1] < lo || b[i + 1] > hi) return false;
                for (int k = 2; k <= n; k++)
                    if (b[i + k] < 0x80 || b[i + k] > 0xBF) return false;
                i += n + 1;
            }
            return true;
        }
    }
}
