using System;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SmtpdModule.Engine.Smtp.Tls;
using Xunit;

namespace SmtpdModule.Engine.Tests.Tls
{
    /// <summary>Loading the STARTTLS certificate from PFX, PEM and the store, with certificates made
    /// at test time (<see cref="TestCertificates"/>), and every refusal's reason and where.</summary>
    public sealed class ServerCertificateTests
    {
        static TlsConfigurationException Refused(TlsConfigurationReason reason, Func<X509Certificate2> load)
        {
            var ex = Assert.Throws<TlsConfigurationException>(() => { using var _ = load(); });
            Assert.True(ex.Reason == reason, $"expected {reason}, got {ex.Reason}: {ex.Message}");
            Assert.DoesNotContain("   at ", ex.Message);    // a sentence, not a stack trace
            return ex;
        }

        static void AssertServes(TestCertificates files, X509Certificate2 certificate)
        {
            Assert.Equal(files.Thumbprint, certificate.Thumbprint);
            Assert.True(certificate.HasPrivateKey);
            using var key = certificate.GetRSAPrivateKey();
            Assert.NotNull(key);
        }

        static SecureString Secure(string text)
        {
            var secure = new SecureString();
            foreach (var c in text) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        [Fact]
        public void Pfx_with_its_password_loads_with_the_private_key()
        {
            using var files = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPfx(files.PfxPath, files.Password);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Pfx_with_its_password_as_SecureString_loads_with_the_private_key()
        {
            using var files = TestCertificates.Create();
            using var password = Secure(files.Password);
            using var certificate = ServerCertificate.FromPfx(files.PfxPath, password);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Pfx_without_a_password_loads_with_null_or_empty()
        {
            using var files = TestCertificates.Create();
            var path = files.Write("nopassword.pfx", files.Certificate.Export(X509ContentType.Pkcs12));
            using (var certificate = ServerCertificate.FromPfx(path, (string)null)) AssertServes(files, certificate);
            using (var certificate = ServerCertificate.FromPfx(path, "")) AssertServes(files, certificate);
        }

        [Fact]
        public void Pfx_with_a_wrong_password_is_BadPassword_naming_the_file()
        {
            using var files = TestCertificates.Create();
            var ex = Refused(TlsConfigurationReason.BadPassword, () => ServerCertificate.FromPfx(files.PfxPath, "wrong"));
            Assert.Equal(files.PfxPath, ex.Path);
            Assert.Null(ex.Thumbprint);
            Assert.Contains(files.PfxPath, ex.Message);
            Assert.Contains("password", ex.Message);
        }

        [Fact]
        public void Pfx_with_a_wrong_SecureString_password_is_BadPassword()
        {
            using var files = TestCertificates.Create();
            using var wrong = Secure("wrong");
            Refused(TlsConfigurationReason.BadPassword, () => ServerCertificate.FromPfx(files.PfxPath, wrong));
        }

        [Fact]
        public void Missing_pfx_is_FileNotFound_naming_the_file()
        {
            using var files = TestCertificates.Create();
            var missing = files.Missing("nope.pfx");
            var ex = Refused(TlsConfigurationReason.FileNotFound, () => ServerCertificate.FromPfx(missing, files.Password));
            Assert.Equal(missing, ex.Path);
            Assert.Contains(missing, ex.Message);
        }

        [Fact]
        public void Pfx_in_a_missing_folder_is_FileNotFound()
        {
            using var files = TestCertificates.Create();
            var missing = System.IO.Path.Combine(files.Missing("nofolder"), "server.pfx");
            Refused(TlsConfigurationReason.FileNotFound, () => ServerCertificate.FromPfx(missing, files.Password));
        }

        [Fact]
        public void Folder_given_as_pfx_is_FileUnreadable()
        {
            using var files = TestCertificates.Create();
            var ex = Refused(TlsConfigurationReason.FileUnreadable, () => ServerCertificate.FromPfx(files.Directory, files.Password));
            Assert.Equal(files.Directory, ex.Path);
        }

        [Fact]
        public void File_that_is_not_a_pfx_is_InvalidFormat()
        {
            using var files = TestCertificates.Create();
            var path = files.Write("junk.pfx", new byte[] { 0x30, 0x82, 0x01, 0x00, 0x02, 0x01 });
            var ex = Refused(TlsConfigurationReason.InvalidFormat, () => ServerCertificate.FromPfx(path, files.Password));
            Assert.Equal(path, ex.Path);
        }

        [Fact]
        public void Pfx_holding_only_the_certificate_is_NoPrivateKey()
        {
            using var files = TestCertificates.Create();
            using var publicOnly = X509CertificateLoader.LoadCertificate(files.Certificate.RawData);
            var path = files.Write("public.pfx", publicOnly.Export(X509ContentType.Pkcs12, files.Password));
            var ex = Refused(TlsConfigurationReason.NoPrivateKey, () => ServerCertificate.FromPfx(path, files.Password));
            Assert.Equal(path, ex.Path);
            Assert.Contains(files.Thumbprint, ex.Message);
        }

        [Fact]
        public void Der_certificate_given_as_pfx_is_NoPrivateKey()
        {
            using var files = TestCertificates.Create();
            var path = files.Write("server.cer", files.Certificate.RawData);
            Refused(TlsConfigurationReason.NoPrivateKey, () => ServerCertificate.FromPfx(path, (string)null));
        }

        [Fact]
        public void Expired_certificate_is_Expired_with_its_end_date()
        {
            using var files = TestCertificates.Create(DateTimeOffset.Now.AddDays(-10), DateTimeOffset.Now.AddDays(-1));
            var ex = Refused(TlsConfigurationReason.Expired, () => ServerCertificate.FromPfx(files.PfxPath, files.Password));
            Assert.Equal(files.PfxPath, ex.Path);
            Assert.Contains(files.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd"), ex.Message);
            Refused(TlsConfigurationReason.Expired, () => ServerCertificate.FromPem(files.CertPemPath, files.KeyPemPath));
        }

        [Fact]
        public void Certificate_valid_only_from_tomorrow_is_NotYetValid()
        {
            using var files = TestCertificates.Create(DateTimeOffset.Now.AddDays(1), DateTimeOffset.Now.AddDays(10));
            Refused(TlsConfigurationReason.NotYetValid, () => ServerCertificate.FromPfx(files.PfxPath, files.Password));
        }

        [Fact]
        public void Client_authentication_certificate_is_NotForServerAuthentication()
        {
            using var files = TestCertificates.Create(extendedKeyUsage: TestCertificates.ClientAuthOid);
            var ex = Refused(TlsConfigurationReason.NotForServerAuthentication, () => ServerCertificate.FromPfx(files.PfxPath, files.Password));
            Assert.Contains("1.3.6.1.5.5.7.3.1", ex.Message);
        }

        [Fact]
        public void AnyExtendedKeyUsage_certificate_serves()
        {
            using var files = TestCertificates.Create(extendedKeyUsage: "2.5.29.37.0");
            using var certificate = ServerCertificate.FromPfx(files.PfxPath, files.Password);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Certificate_whose_key_usage_allows_only_certificate_signing_is_NotForServerAuthentication()
        {
            using var files = TestCertificates.Create();
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var signingOnly = request.CreateSelfSigned(DateTimeOffset.Now.AddHours(-1), DateTimeOffset.Now.AddDays(1));
            var path = files.Write("ca.pfx", signingOnly.Export(X509ContentType.Pkcs12, files.Password));
            Refused(TlsConfigurationReason.NotForServerAuthentication, () => ServerCertificate.FromPfx(path, files.Password));
        }

        [Fact]
        public void Pem_pair_loads_with_the_private_key()
        {
            using var files = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPem(files.CertPemPath, files.KeyPemPath);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Pem_with_the_key_in_the_certificate_file_loads_with_a_null_key_path()
        {
            using var files = TestCertificates.Create();
            var combined = files.Write("combined.pem",
                System.IO.File.ReadAllText(files.KeyPemPath) + System.IO.File.ReadAllText(files.CertPemPath));
            using var certificate = ServerCertificate.FromPem(combined, null);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Pem_pkcs1_rsa_key_loads()
        {
            using var files = TestCertificates.Create();
            using var rsa = files.Certificate.GetRSAPrivateKey();
            var key = files.Write("server.rsa.pem", rsa.ExportRSAPrivateKeyPem());
            using var certificate = ServerCertificate.FromPem(files.CertPemPath, key);
            AssertServes(files, certificate);
        }

        [Fact]
        public void Pem_ecdsa_pair_loads()
        {
            using var files = TestCertificates.Create();
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var ec = TestCertificates.CreateSelfSigned(ecdsa, DateTimeOffset.Now.AddHours(-1), DateTimeOffset.Now.AddDays(1));
            var cert = files.Write("ec.crt.pem", ec.ExportCertificatePem());
            var key = files.Write("ec.key.pem", ecdsa.ExportECPrivateKeyPem());
            using var certificate = ServerCertificate.FromPem(cert, key);
            Assert.Equal(ec.Thumbprint, certificate.Thumbprint);
            using var loadedKey = certificate.GetECDsaPrivateKey();
            Assert.NotNull(loadedKey);
        }

        [Fact]
        public void Pem_missing_certificate_file_is_FileNotFound_naming_it()
        {
            using var files = TestCertificates.Create();
            var missing = files.Missing("nope.crt.pem");
            var ex = Refused(TlsConfigurationReason.FileNotFound, () => ServerCertificate.FromPem(missing, files.KeyPemPath));
            Assert.Equal(missing, ex.Path);
        }

        [Fact]
        public void Pem_missing_key_file_is_FileNotFound_naming_it()
        {
            using var files = TestCertificates.Create();
            var missing = files.Missing("nope.key.pem");
            var ex = Refused(TlsConfigurationReason.FileNotFound, () => ServerCertificate.FromPem(files.CertPemPath, missing));
            Assert.Equal(missing, ex.Path);
            Assert.Contains(missing, ex.Message);
        }

        [Fact]
        public void Pem_certificate_file_without_a_certificate_is_InvalidFormat()
        {
            using var files = TestCertificates.Create();
            var ex = Refused(TlsConfigurationReason.InvalidFormat, () => ServerCertificate.FromPem(files.KeyPemPath, files.KeyPemPath));
            Assert.Equal(files.KeyPemPath, ex.Path);
        }

        [Fact]
        public void Pem_damaged_certificate_is_InvalidFormat()
        {
            using var files = TestCertificates.Create();
            var damaged = files.Write("damaged.crt.pem", "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END CERTIFICATE-----\n");
            var ex = Refused(TlsConfigurationReason.InvalidFormat, () => ServerCertificate.FromPem(damaged, files.KeyPemPath));
            Assert.Equal(damaged, ex.Path);
        }

        [Fact]
        public void Pem_key_file_without_a_key_is_InvalidFormat_naming_the_key_file()
        {
            using var files = TestCertificates.Create();
            var ex = Refused(TlsConfigurationReason.InvalidFormat, () => ServerCertificate.FromPem(files.CertPemPath, files.CertPemPath));
            Assert.Equal(files.CertPemPath, ex.Path);
            Assert.Contains("PRIVATE KEY", ex.Message);
        }

        [Fact]
        public void Pem_key_of_another_certificate_is_KeyMismatch_naming_the_key_file()
        {
            using var files = TestCertificates.Create();
            using var other = RSA.Create(2048);
            var key = files.Write("other.key.pem", other.ExportPkcs8PrivateKeyPem());
            var ex = Refused(TlsConfigurationReason.KeyMismatch, () => ServerCertificate.FromPem(files.CertPemPath, key));
            Assert.Equal(key, ex.Path);
            Assert.Contains(files.CertPemPath, ex.Message);
        }

        [Fact]
        public void Pem_encrypted_key_is_EncryptedKey()
        {
            using var files = TestCertificates.Create();
            using var rsa = files.Certificate.GetRSAPrivateKey();
            var key = files.Write("encrypted.key.pem", rsa.ExportEncryptedPkcs8PrivateKeyPem("secret",
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10000)));
            var ex = Refused(TlsConfigurationReason.EncryptedKey, () => ServerCertificate.FromPem(files.CertPemPath, key));
            Assert.Equal(key, ex.Path);
        }

        [Theory]
        [InlineData("12345")]
        [InlineData("not a thumbprint at all, not at all!!!!!")]
        [InlineData("0123456789ABCDEF0123456789ABCDEF0123456789")]    // 42 digits
        public void Malformed_thumbprint_is_InvalidThumbprint(string thumbprint)
        {
            var ex = Refused(TlsConfigurationReason.InvalidThumbprint, () => ServerCertificate.FromStore(thumbprint));
            Assert.Equal(thumbprint, ex.Thumbprint);
            Assert.Null(ex.Path);
        }

        [Fact]
        public void Unknown_thumbprint_is_NotFoundInStore_naming_both_stores()
        {
            using var files = TestCertificates.Create();    // made now, so in no store
            var ex = Refused(TlsConfigurationReason.NotFoundInStore, () => ServerCertificate.FromStore(files.Thumbprint));
            Assert.Equal(files.Thumbprint, ex.Thumbprint);
            Assert.Contains(files.Thumbprint, ex.Message);
            Assert.Contains("CurrentUser\\My", ex.Message);
            Assert.Contains("LocalMachine\\My", ex.Message);
        }

        [Fact]
        public void Certificate_in_CurrentUser_My_is_found_by_thumbprint_as_copied_from_a_dialog()
        {
            using var files = TestCertificates.Create();
            // Through a PFX with a persisted key: a key that lives only in memory would not be
            // stored with the certificate on Windows.
            using var stored = X509CertificateLoader.LoadPkcs12FromFile(files.PfxPath, files.Password,
                X509KeyStorageFlags.UserKeySet | X509KeyStorageFlags.PersistKeySet | X509KeyStorageFlags.Exportable);
            using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadWrite);
            store.Add(stored);
            try
            {
                // certmgr's copy: a left-to-right mark, lower case, spaces between bytes.
                var copied = "\u200e" + string.Join(" ", SplitPairs(files.Thumbprint.ToLowerInvariant()));
                using var certificate = ServerCertificate.FromStore(copied);
                AssertServes(files, certificate);
            }
            finally
            {
                store.Remove(stored);
                if (OperatingSystem.IsWindows())
                {
                    using var key = (RSACng)stored.GetRSAPrivateKey();
                    key.Key.Delete();
                }
            }
        }

        static string[] SplitPairs(string hex)
        {
            var pairs = new string[hex.Length / 2];
            for (var i = 0; i < pairs.Length; i++) pairs[i] = hex.Substring(2 * i, 2);
            return pairs;
        }

        [Fact]
        public void Null_and_empty_arguments_are_argument_errors_not_configuration_errors()
        {
            Assert.Throws<ArgumentNullException>(() => ServerCertificate.FromPfx(null, "x"));
            Assert.Throws<ArgumentException>(() => ServerCertificate.FromPfx("", "x"));
            Assert.Throws<ArgumentNullException>(() => ServerCertificate.FromPem(null, "k"));
            Assert.Throws<ArgumentException>(() => ServerCertificate.FromPem("c", ""));
            Assert.Throws<ArgumentNullException>(() => ServerCertificate.FromStore(null));
        }
    }
}
