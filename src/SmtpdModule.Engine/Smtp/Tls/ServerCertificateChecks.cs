using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// What a loaded certificate must have before it is offered to clients, whatever its source
    /// (see <see cref="ServerCertificate"/>): a private key this account can open, RSA or ECDSA;
    /// usages that allow a TLS server; a validity period that includes now. A chain is not built:
    /// self-signed and private-CA certificates are the administrator's choice and the client's concern.
    /// </summary>
    internal static class ServerCertificateChecks
    {
        const string EkuOid = "2.5.29.37";
        const string KeyUsageOid = "2.5.29.15";
        const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
        const string AnyExtendedKeyUsageOid = "2.5.29.37.0";

        /// <summary>Refuses what cannot serve; disposes the certificate when it does.</summary>
        internal static X509Certificate2 Checked(X509Certificate2 certificate, string where, string path, string thumbprint)
        {
            try
            {
                if (!certificate.HasPrivateKey)
                    throw new TlsConfigurationException(TlsConfigurationReason.NoPrivateKey,
                        where + ": certificate " + Describe(certificate) + " has no private key. A server needs the key: " +
                        "use a PFX exported with its private key, or the PEM key file.", path, thumbprint);

                var now = DateTime.Now;    // NotBefore and NotAfter are local times
                if (now > certificate.NotAfter)
                    throw new TlsConfigurationException(TlsConfigurationReason.Expired,
                        where + ": certificate " + Describe(certificate) + " expired on " + Utc(certificate.NotAfter) + ".", path, thumbprint);
                if (now < certificate.NotBefore)
                    throw new TlsConfigurationException(TlsConfigurationReason.NotYetValid,
                        where + ": certificate " + Describe(certificate) + " is not valid before " + Utc(certificate.NotBefore) + ".", path, thumbprint);

                var usage = ServerUsageProblem(certificate);
                if (usage != null)
                    throw new TlsConfigurationException(TlsConfigurationReason.NotForServerAuthentication,
                        where + ": certificate " + Describe(certificate) + " " + usage, path, thumbprint);

                CheckKeyOpens(certificate, where, path, thumbprint);
                return certificate;
            }
            catch
            {
                certificate.Dispose();
                throw;
            }
        }

        static string ServerUsageProblem(X509Certificate2 certificate)
        {
            foreach (var extension in certificate.Extensions)
            {
                // By OID rather than by type: which extension classes a runtime hands back differs.
                if (extension.Oid?.Value == EkuOid)
                {
                    var eku = new X509EnhancedKeyUsageExtension(extension, extension.Critical);
                    var allowed = false;
                    foreach (var oid in eku.EnhancedKeyUsages)
                        allowed |= oid.Value == ServerAuthOid || oid.Value == AnyExtendedKeyUsageOid;
                    if (!allowed)
                        return "is not for TLS servers: its extended key usage lacks server authentication (" + ServerAuthOid + ").";
                }
                else if (extension.Oid?.Value == KeyUsageOid)
                {
                    // RSA and ECDSA server keys sign (ECDHE, TLS 1.3); RSA key transport (TLS 1.2
                    // RSA suites) enciphers; static ECDH agrees. A key allowed none of these is useless here.
                    var usages = new X509KeyUsageExtension(extension, extension.Critical).KeyUsages;
                    const X509KeyUsageFlags Serving = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement;
                    if ((usages & Serving) == 0)
                        return "is not for TLS servers: its key usage (" + usages + ") allows neither signatures nor key exchange.";
                }
            }
            return null;
        }

        static void CheckKeyOpens(X509Certificate2 certificate, string where, string path, string thumbprint)
        {
            // HasPrivateKey only says a key is linked; opening it proves this account may use it
            // (a LocalMachine key whose ACL leaves this user out fails here, not at the first client).
            AsymmetricAlgorithm key = null;
            try
            {
                key = certificate.GetRSAPrivateKey();
                if (key == null)
                    key = certificate.GetECDsaPrivateKey();
            }
            catch (Exception ex) when (ex is CryptographicException || ex is NotSupportedException || ex is UnauthorizedAccessException)
            {
                throw new TlsConfigurationException(TlsConfigurationReason.PrivateKeyUnusable,
                    where + ": the private key of certificate " + Describe(certificate) + " cannot be opened by this account (" + ex.Message + ")",
                    path, thumbprint, ex);
            }
            finally
            {
                key?.Dispose();
            }
            if (key == null)
                throw new TlsConfigurationException(TlsConfigurationReason.PrivateKeyUnusable,
                    where + ": certificate " + Describe(certificate) + " has a " + (certificate.PublicKey.Oid?.FriendlyName ?? "non-RSA, non-ECDSA") +
                    " key; only RSA and ECDSA keys can serve TLS here.", path, thumbprint);
        }

        static string Describe(X509Certificate2 certificate) =>
            "'" + certificate.Subject + "' (thumbprint " + certificate.Thumbprint + ")";

        static string Utc(DateTime local) =>
            local.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
    }
}
