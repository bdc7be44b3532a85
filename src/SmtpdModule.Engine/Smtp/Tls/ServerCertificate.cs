using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// Loads the certificate the receiver offers with STARTTLS: from a PFX file and its password,
    /// from a PEM certificate and key pair, or (mostly on Windows) from the certificate store by
    /// thumbprint; and checks it can serve before any client sees it.
    /// </summary>
    /// <remarks>
    /// What it trusts: the files and store the administrator names. It does not build or verify a
    /// chain (clients do that), so a self-signed or private-CA certificate is accepted; it does
    /// check what would make every handshake fail or every client refuse: a private key this
    /// process can open (RSA or ECDSA), an extended key usage that allows TLS server
    /// authentication (RFC 5280 §4.2.1.12: no extension means any purpose), a key usage that allows
    /// signing or key exchange, and the validity period. Each refusal is a
    /// <see cref="TlsConfigurationException"/> naming the file or thumbprint.
    /// <para>The caller owns the returned certificate and disposes it when the listener stops.</para>
    /// </remarks>
    public static class ServerCertificate
    {
        // Key storage, one choice for every platform: UserKeySet, without PersistKeySet,
        // MachineKeySet, Exportable or EphemeralKeySet.
        // - Windows: SslStream hands the key to SChannel, which runs in LSASS and can use only a key
        //   that lives in a key container; an EphemeralKeySet key (memory only) fails the server
        //   handshake with "no credentials are available". UserKeySet writes a temporary container
        //   in this user's profile, which Dispose deletes because PersistKeySet is not set, and needs
        //   no administrator rights, unlike MachineKeySet (it also overrides a PFX that asks for the
        //   machine store). Not Exportable: nothing here needs the key back out.
        // - .NET Framework 4.7.2+ (Windows PowerShell): as above; EphemeralKeySet is refused there
        //   by the older CAPI providers many PFX files name, and SChannel would refuse it anyway.
        // - Linux: keys are always held in memory by OpenSSL and nothing is written unless a
        //   certificate is added to an X509Store, so the flag changes nothing; UserKeySet is the default.
        // - macOS: EphemeralKeySet throws PlatformNotSupportedException; UserKeySet imports into a
        //   temporary keychain that Dispose removes.
        const X509KeyStorageFlags KeyFlags = X509KeyStorageFlags.UserKeySet;

        // ERROR_INVALID_PASSWORD as an HRESULT. Windows (Framework and .NET) and the managed PKCS#12
        // reader of .NET on Linux and macOS both report a wrong PFX password with it.
        const int InvalidPasswordHResult = unchecked((int)0x80070056);

        const string PemCertificateBegin = "-----BEGIN CERTIFICATE-----";
        const string PemCertificateEnd = "-----END CERTIFICATE-----";

        // X509Certificate2.CreateFromPemFile(string, string) exists from .NET 5; netstandard2.0 cannot
        // name it, and .NET Framework does not have it. Null means this runtime cannot read PEM.
        static readonly MethodInfo CreateFromPemFile = typeof(X509Certificate2).GetMethod(
            "CreateFromPemFile", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(string) }, null);

        static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>Loads a PFX (PKCS#12) file with its password and checks it can serve TLS.</summary>
        /// <param name="path">The PFX file (a full path: the engine does not resolve PowerShell paths).</param>
        /// <param name="password">The file's password; null or empty for a file without one.</param>
        /// <returns>The certificate with its private key; the caller disposes it.</returns>
        /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
        /// <exception cref="TlsConfigurationException">The file is missing or unreadable
        /// (<see cref="TlsConfigurationReason.FileNotFound"/>, <see cref="TlsConfigurationReason.FileUnreadable"/>),
        /// the password is wrong (<see cref="TlsConfigurationReason.BadPassword"/>), the file is not a PFX
        /// (<see cref="TlsConfigurationReason.InvalidFormat"/>), or the certificate cannot serve
        /// (<see cref="TlsConfigurationReason.NoPrivateKey"/>, <see cref="TlsConfigurationReason.PrivateKeyUnusable"/>,
        /// <see cref="TlsConfigurationReason.NotForServerAuthentication"/>, <see cref="TlsConfigurationReason.Expired"/>,
        /// <see cref="TlsConfigurationReason.NotYetValid"/>).</exception>
        public static X509Certificate2 FromPfx(string path, string password) =>
            LoadPfx(path, bytes => new X509Certificate2(bytes, password, KeyFlags));

        /// <summary>Loads a PFX (PKCS#12) file with its password and checks it can serve TLS.</summary>
        /// <param name="path">The PFX file (a full path: the engine does not resolve PowerShell paths).</param>
        /// <param name="password">The file's password; null or empty for a file without one.</param>
        /// <returns>The certificate with its private key; the caller disposes it.</returns>
        /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
        /// <exception cref="TlsConfigurationException">As for <see cref="FromPfx(string, string)"/>.</exception>
        public static X509Certificate2 FromPfx(string path, SecureString password) =>
            LoadPfx(path, bytes => new X509Certificate2(bytes, password, KeyFlags));

        /// <summary>Loads a PEM certificate and its unencrypted PEM private key (PKCS#8
        /// <c>PRIVATE KEY</c>, PKCS#1 <c>RSA PRIVATE KEY</c> or SEC1 <c>EC PRIVATE KEY</c>) and checks
        /// they can serve TLS. Needs .NET 5 or later (PowerShell 7).</summary>
        /// <param name="certificatePath">The PEM certificate file. Only its first certificate is used.</param>
        /// <param name="keyPath">The PEM private key file; null when the key is in <paramref name="certificatePath"/>.</param>
        /// <returns>The certificate with its private key; the caller disposes it.</returns>
        /// <exception cref="ArgumentException"><paramref name="certificatePath"/> is null or empty, or
        /// <paramref name="keyPath"/> is empty.</exception>
        /// <exception cref="TlsConfigurationException">This runtime cannot read PEM
        /// (<see cref="TlsConfigurationReason.PemNotSupported"/>: Windows PowerShell 5.1); a file is missing
        /// or unreadable; a file holds no PEM certificate or key (<see cref="TlsConfigurationReason.InvalidFormat"/>);
        /// the key is encrypted (<see cref="TlsConfigurationReason.EncryptedKey"/>) or does not belong to the
        /// certificate (<see cref="TlsConfigurationReason.KeyMismatch"/>); or the certificate cannot serve
        /// (as for <see cref="FromPfx(string, string)"/>).</exception>
        public static X509Certificate2 FromPem(string certificatePath, string keyPath)
        {
            CheckPathArgument(certificatePath, nameof(certificatePath));
            if (keyPath != null)
                CheckPathArgument(keyPath, nameof(keyPath));

            if (CreateFromPemFile == null)
                throw new TlsConfigurationException(TlsConfigurationReason.PemNotSupported,
                    "PEM certificate '" + certificatePath + "': PEM certificate and key files need PowerShell 7 (.NET 5 or later); " +
                    "this is " + RuntimeInformation.FrameworkDescription + ". Convert the pair to a PFX file (for example " +
                    "'openssl pkcs12 -export -in cert.pem -inkey key.pem -out server.pfx') and load that with its password.",
                    certificatePath);

            var certificateText = ReadText(certificatePath, "PEM certificate");
            var keyFile = keyPath ?? certificatePath;
            var keyText = keyPath == null ? certificateText : ReadText(keyPath, "PEM private key");

            CheckPemCertificate(certificateText, certificatePath);
            CheckPemKey(keyText, keyFile);

            X509Certificate2 loaded;
            try
            {
                loaded = (X509Certificate2)CreateFromPemFile.Invoke(null, new object[] { certificatePath, keyPath });
            }
            catch (TargetInvocationException wrapped) when (wrapped.InnerException != null)
            {
                var ex = wrapped.InnerException;
                if (ex is FileNotFoundException || ex is DirectoryNotFoundException)
                    throw NotFound(keyFile, "PEM file", ex);       // deleted since it was read above
                if (ex is IOException || ex is UnauthorizedAccessException)
                    throw Unreadable(keyFile, "PEM file", ex);
                // The certificate parsed on its own (CheckPemCertificate), so what remains is the key.
                throw new TlsConfigurationException(TlsConfigurationReason.KeyMismatch,
                    "PEM private key '" + keyFile + "': the key does not belong to the certificate in '" + certificatePath +
                    "', or it is damaged (" + ex.Message + ")", keyFile, null, ex);
            }

            if (IsWindows)
                loaded = WithStoredKey(loaded, certificatePath);
            return ServerCertificateChecks.Checked(loaded, "PEM certificate '" + certificatePath + "'", certificatePath, null);
        }

        /// <summary>Finds a certificate by SHA-1 thumbprint in CurrentUser\My, then LocalMachine\My,
        /// and checks it can serve TLS. Spaces, colons and the invisible marks a copy from the
        /// Windows certificate dialog brings along are ignored; case does not matter.</summary>
        /// <param name="thumbprint">40 hexadecimal digits.</param>
        /// <returns>The certificate with its private key; the caller disposes it.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="thumbprint"/> is null.</exception>
        /// <exception cref="TlsConfigurationException">The thumbprint is malformed
        /// (<see cref="TlsConfigurationReason.InvalidThumbprint"/>), no store holds it
        /// (<see cref="TlsConfigurationReason.NotFoundInStore"/>), or the certificate cannot serve
        /// (as for <see cref="FromPfx(string, string)"/>; on Windows <see cref="TlsConfigurationReason.PrivateKeyUnusable"/>
        /// usually means this account may not read the key).</exception>
        public static X509Certificate2 FromStore(string thumbprint)
        {
            if (thumbprint == null)
                throw new ArgumentNullException(nameof(thumbprint));
            var wanted = NormalizeThumbprint(thumbprint);
            if (wanted == null)
                throw new TlsConfigurationException(TlsConfigurationReason.InvalidThumbprint,
                    "Certificate thumbprint '" + thumbprint + "' is not 40 hexadecimal digits (a SHA-1 thumbprint).", null, thumbprint);

            var notes = new List<string>();
            foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                var found = FindInStore(location, wanted, notes);
                if (found != null)
                    return ServerCertificateChecks.Checked(found, "Certificate " + wanted + " in " + location + "\\My", null, thumbprint);
            }
            throw new TlsConfigurationException(TlsConfigurationReason.NotFoundInStore,
                "No certificate with thumbprint " + wanted + " is in CurrentUser\\My or LocalMachine\\My." +
                (notes.Count == 0 ? "" : " (" + string.Join("; ", notes) + ")"), null, thumbprint);
        }

        static X509Certificate2 LoadPfx(string path, Func<byte[], X509Certificate2> import)
        {
            CheckPathArgument(path, nameof(path));
            var bytes = ReadBytes(path, "PFX file");
            X509Certificate2 certificate;
            try
            {
                certificate = import(bytes);
            }
            catch (CryptographicException ex) when (ex.HResult == InvalidPasswordHResult)
            {
                throw new TlsConfigurationException(TlsConfigurationReason.BadPassword,
                    "PFX file '" + path + "': the password is wrong.", path, null, ex);
            }
            catch (CryptographicException ex)
            {
                throw new TlsConfigurationException(TlsConfigurationReason.InvalidFormat,
                    "PFX file '" + path + "' is not a PFX (PKCS#12) file, or it is damaged (" + ex.Message + ")", path, null, ex);
            }
            return ServerCertificateChecks.Checked(certificate, "PFX file '" + path + "'", path, null);
        }

        /// <summary>Windows only: SChannel cannot use the memory-only key CreateFromPemFile makes, so
        /// the pair goes out as PKCS#12 and back in with <see cref="KeyFlags"/>, which stores the key
        /// in a temporary container (removed when the certificate is disposed).</summary>
        static X509Certificate2 WithStoredKey(X509Certificate2 ephemeral, string certificatePath)
        {
            try
            {
                var pfx = ephemeral.Export(X509ContentType.Pkcs12);
                return new X509Certificate2(pfx, (string)null, KeyFlags);
            }
            catch (CryptographicException ex)
            {
                throw new TlsConfigurationException(TlsConfigurationReason.PrivateKeyUnusable,
                    "PEM certificate '" + certificatePath + "': the key could not be stored for Windows' TLS (" + ex.Message + ")",
                    certificatePath, null, ex);
            }
            finally
            {
                ephemeral.Dispose();
            }
        }

        static void CheckPemCertificate(string text, string path)
        {
            // Parsed here on its own so that a later CreateFromPemFile failure can only be the key's.
            var begin = text.IndexOf(PemCertificateBegin, StringComparison.Ordinal);
            var end = begin < 0 ? -1 : text.IndexOf(PemCertificateEnd, begin, StringComparison.Ordinal);
            if (end < 0)
                throw new TlsConfigurationException(TlsConfigurationReason.InvalidFormat,
                    "PEM certificate '" + path + "' holds no PEM certificate (" + PemCertificateBegin + " … " + PemCertificateEnd + ").", path);
            try
            {
                var base64 = text.Substring(begin + PemCertificateBegin.Length, end - begin - PemCertificateBegin.Length);
                using (new X509Certificate2(Convert.FromBase64String(base64))) { }
            }
            catch (Exception ex) when (ex is FormatException || ex is CryptographicException)
            {
                throw new TlsConfigurationException(TlsConfigurationReason.InvalidFormat,
                    "PEM certificate '" + path + "': the first certificate is damaged (" + ex.Message + ")", path, null, ex);
            }
        }

        static void CheckPemKey(string text, string path)
        {
            // RFC 7468 §11 (PKCS#8 EncryptedPrivateKeyInfo) and the OpenSSL "traditional" form with
            // a Proc-Type header: both need a passphrase, which this loader does not take.
            if (text.IndexOf("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal) >= 0 ||
                text.IndexOf("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal) >= 0)
                throw new TlsConfigurationException(TlsConfigurationReason.EncryptedKey,
                    "PEM private key '" + path + "' is encrypted. Store it unencrypted (for example 'openssl pkey -in " +
                    "key.pem -out plain-key.pem') with access for this account only, or use a PFX file with a password.", path);
            if (text.IndexOf("PRIVATE KEY-----", StringComparison.Ordinal) < 0)
                throw new TlsConfigurationException(TlsConfigurationReason.InvalidFormat,
                    "PEM private key '" + path + "' holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY).", path);
        }

        static X509Certificate2 FindInStore(StoreLocation location, string thumbprint, List<string> notes)
        {
            X509Store store = null;
            try
            {
                store = new X509Store(StoreName.My, location);
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            }
            catch (Exception ex) when (ex is CryptographicException || ex is PlatformNotSupportedException ||
                                       ex is SecurityException || ex is UnauthorizedAccessException)
            {
                // Linux has no LocalMachine\My; a user who never stored a certificate has no CurrentUser\My.
                store?.Dispose();
                notes.Add(location + "\\My could not be opened: " + ex.Message);
                return null;
            }

            using (store)
            {
                X509Certificate2 pick = null;
                foreach (var candidate in store.Certificates)
                {
                    // The same certificate can be there twice, once without its key; take the one with it.
                    if (string.Equals(candidate.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase) &&
                        (pick == null || (!pick.HasPrivateKey && candidate.HasPrivateKey)))
                    {
                        pick?.Dispose();
                        pick = candidate;
                    }
                    else
                    {
                        candidate.Dispose();
                    }
                }
                return pick;
            }
        }

        /// <summary>Upper-case hex, or null when what is left is not a SHA-1 thumbprint.</summary>
        static string NormalizeThumbprint(string text)
        {
            var hex = new StringBuilder(40);
            foreach (var c in text)
            {
                if (char.IsWhiteSpace(c) || c == ':' || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
                    continue;    // certmgr's copy starts with U+200E (a Format character)
                if (!Uri.IsHexDigit(c))
                    return null;
                hex.Append(char.ToUpperInvariant(c));
            }
            return hex.Length == 40 ? hex.ToString() : null;
        }

        static void CheckPathArgument(string path, string name)
        {
            if (path == null)
                throw new ArgumentNullException(name);
            if (path.Length == 0)
                throw new ArgumentException("The path is empty.", name);
        }

        static byte[] ReadBytes(string path, string what)
        {
            try
            {
                if (Directory.Exists(path))
                    throw new TlsConfigurationException(TlsConfigurationReason.FileUnreadable,
                        what + " '" + path + "' is a folder, not a file.", path);
                return File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw NotFound(path, what, ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException ||
                                       ex is SecurityException || ex is ArgumentException)
            {
                throw Unreadable(path, what, ex);
            }
        }

        static string ReadText(string path, string what) => Encoding.ASCII.GetString(ReadBytes(path, what));

        static TlsConfigurationException NotFound(string path, string what, Exception ex) =>
            new TlsConfigurationException(TlsConfigurationReason.FileNotFound, what + " '" + path + "' does not exist.", path, null, ex);

        static TlsConfigurationException Unreadable(string path, string what, Exception ex) =>
            new TlsConfigurationException(TlsConfigurationReason.FileUnreadable,
                what + " '" + path + "' cannot be read (" + ex.Message + ")", path, null, ex);
    }
}
