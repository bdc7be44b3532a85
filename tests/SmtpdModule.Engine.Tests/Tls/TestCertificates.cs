using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SmtpdModule.Engine.Tests.Tls
{
    /// <summary>
    /// A self-signed server certificate made at test time (RSA 2048, CN=localhost, SAN DNS localhost,
    /// IP 127.0.0.1 and ::1, EKU serverAuth, valid from an hour ago to a day ahead unless told
    /// otherwise), written into a fresh temporary folder as a password-protected PFX and as a PEM
    /// pair (certificate, PKCS#8 key). Dispose removes the folder. tests/tools/New-TestCertificate.ps1
    /// makes the same for Pester tests.
    /// </summary>
    public sealed class TestCertificates : IDisposable
    {
        public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
        public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

        TestCertificates(string directory)
        {
            Directory = directory;
        }

        /// <summary>The temporary folder holding the files.</summary>
        public string Directory { get; }
        public string PfxPath { get; private set; }
        public string Password { get; private set; }
        public string CertPemPath { get; private set; }
        /// <summary>The private key as unencrypted PKCS#8 PEM (-----BEGIN PRIVATE KEY-----).</summary>
        public string KeyPemPath { get; private set; }
        /// <summary>SHA-1 thumbprint, upper-case hex.</summary>
        public string Thumbprint { get; private set; }
        /// <summary>The certificate and its (exportable) key, for tests that need more files or a store.</summary>
        public X509Certificate2 Certificate { get; private set; }

        /// <param name="notBefore">Default: an hour ago.</param>
        /// <param name="notAfter">Default: a day from now.</param>
        /// <param name="extendedKeyUsage">Default: serverAuth.</param>
        /// <param name="subject">Default: CN=localhost.</param>
        public static TestCertificates Create(DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null,
            string extendedKeyUsage = ServerAuthOid, string subject = "CN=localhost")
        {
            var directory = Path.Combine(Path.GetTempPath(), "smtpd-tls-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(directory);
            var files = new TestCertificates(directory);
            try
            {
                using var rsa = RSA.Create(2048);
                var certificate = CreateSelfSigned(rsa, notBefore ?? DateTimeOffset.Now.AddHours(-1),
                    notAfter ?? DateTimeOffset.Now.AddDays(1), extendedKeyUsage, subject);
                files.Certificate = certificate;
                files.Thumbprint = certificate.Thumbprint;
                files.Password = "pw-" + Guid.NewGuid().ToString("N");
                files.PfxPath = files.Write("server.pfx", certificate.Export(X509ContentType.Pkcs12, files.Password));
                files.CertPemPath = files.Write("server.crt.pem", certificate.ExportCertificatePem() + "\n");
                files.KeyPemPath = files.Write("server.key.pem", rsa.ExportPkcs8PrivateKeyPem() + "\n");
                return files;
            }
            catch
            {
                files.Dispose();
                throw;
            }
        }

        /// <summary>A self-signed certificate for <paramref name="key"/> with the server extensions.</summary>
        public static X509Certificate2 CreateSelfSigned(AsymmetricAlgorithm key, DateTimeOffset notBefore, DateTimeOffset notAfter,
            string extendedKeyUsage = ServerAuthOid, string subject = "CN=localhost")
        {
            var name = new X500DistinguishedName(subject);
            var request = key switch
            {
                RSA rsa => new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                ECDsa ecdsa => new CertificateRequest(name, ecdsa, HashAlgorithmName.SHA256),
                _ => throw new ArgumentException("RSA or ECDSA only.", nameof(key)),
            };
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            san.AddIpAddress(IPAddress.IPv6Loopback);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(
                key is RSA ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(extendedKeyUsage) }, false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            return request.CreateSelfSigned(notBefore, notAfter);
        }

        /// <summary>Writes another file into <see cref="Directory"/>; returns its path.</summary>
        public string Write(string name, byte[] content)
        {
            var path = Path.Combine(Directory, name);
            File.WriteAllBytes(path, content);
            return path;
        }

        /// <inheritdoc cref="Write(string, byte[])"/>
        public string Write(string name, string content)
        {
            var path = Path.Combine(Directory, name);
            File.WriteAllText(path, content);
            return path;
        }

        /// <summary>A path in <see cref="Directory"/> that does not exist.</summary>
        public string Missing(string name) => Path.Combine(Directory, name);

        public void Dispose()
        {
            Certificate?.Dispose();
            try { System.IO.Directory.Delete(Directory, recursive: true); }
            catch (IOException) { /* a file still open on Windows; the temp folder is the OS's to clean */ }
        }
    }
}
