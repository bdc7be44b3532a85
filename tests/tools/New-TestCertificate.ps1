<#
.SYNOPSIS
    Makes a self-signed TLS server certificate for tests and writes it as a PFX and a PEM pair.

.DESCRIPTION
    The same certificate the xunit helper tests/SmtpdModule.Engine.Tests/Tls/TestCertificates.cs
    makes: RSA 2048, CN=localhost, subject alternative names DNS localhost and IP 127.0.0.1 and ::1,
    extended key usage serverAuth, valid from an hour ago to a day from now unless told otherwise.
    It is written into -Directory (a new temporary folder when not given) as:
      server.pfx       PKCS#12 with the private key, protected by -Password
      server.crt.pem   the certificate, PEM
      server.key.pem   the private key, unencrypted PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)
    Nothing is added to a certificate store.

    Needs PowerShell 7.4 or later: CertificateRequest and the PEM exports are .NET APIs that
    Windows PowerShell 5.1 (.NET Framework) lacks.

.OUTPUTS
    An object with Directory, PfxPath, Password (a string), SecurePassword, CertPemPath,
    KeyPemPath, Thumbprint (SHA-1, upper-case hex), NotBefore and NotAfter, and a Remove() method
    that deletes the files. Under Pester, pass -Directory "$TestDrive/tls" and let TestDrive clean up.

.EXAMPLE
    BeforeAll { $cert = & "$PSScriptRoot/../tools/New-TestCertificate.ps1" -Directory "$TestDrive/tls" }
    It 'loads the PFX' { ... $cert.PfxPath ... $cert.SecurePassword ... $cert.Thumbprint }

.EXAMPLE
    $expired = & ./tests/tools/New-TestCertificate.ps1 -NotBefore (Get-Date).AddDays(-10) -NotAfter (Get-Date).AddDays(-1)
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    # Where to write the files; created when missing. Default: a new folder under the temp folder.
    [string] $Directory,
    # The PFX password. Default: a random one.
    [string] $Password = ('pw-' + [guid]::NewGuid().ToString('N')),
    # Start of the validity period. Default: an hour ago.
    [DateTimeOffset] $NotBefore = [DateTimeOffset]::Now.AddHours(-1),
    # End of the validity period. Default: a day from now.
    [DateTimeOffset] $NotAfter = [DateTimeOffset]::Now.AddDays(1),
    # The one extended key usage OID. Default: serverAuth. '1.3.6.1.5.5.7.3.2' (clientAuth) makes a
    # certificate the receiver must refuse.
    [string] $ExtendedKeyUsage = '1.3.6.1.5.5.7.3.1'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

if (-not $Directory) {
    $Directory = Join-Path ([System.IO.Path]::GetTempPath()) ('smtpd-tls-' + [guid]::NewGuid().ToString('N'))
}
# A provider path even for TestDrive: or other PowerShell drives: the .NET file APIs below need one.
$folder = (New-Item -ItemType Directory -Path $Directory -Force).FullName

$rsa = [System.Security.Cryptography.RSA]::Create(2048)
try {
    $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
        'CN=localhost', $rsa,
        [System.Security.Cryptography.HashAlgorithmName]::SHA256,
        [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)

    $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
    $san.AddDnsName('localhost')
    $san.AddIpAddress([System.Net.IPAddress]::Loopback)
    $san.AddIpAddress([System.Net.IPAddress]::IPv6Loopback)
    $request.CertificateExtensions.Add($san.Build())
    $request.CertificateExtensions.Add(
        [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($false, $false, 0, $true))
    $request.CertificateExtensions.Add(
        [System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
            [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]'DigitalSignature, KeyEncipherment', $true))
    $usages = [System.Security.Cryptography.OidCollection]::new()
    $null = $usages.Add([System.Security.Cryptography.Oid]::new($ExtendedKeyUsage))
    $request.CertificateExtensions.Add(
        [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usages, $false))
    $request.CertificateExtensions.Add(
        [System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($request.PublicKey, $false))

    $certificate = $request.CreateSelfSigned($NotBefore, $NotAfter)
    try {
        $pfxPath = Join-Path $folder 'server.pfx'
        $certPemPath = Join-Path $folder 'server.crt.pem'
        $keyPemPath = Join-Path $folder 'server.key.pem'
        [System.IO.File]::WriteAllBytes($pfxPath,
            $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, $Password))
        [System.IO.File]::WriteAllText($certPemPath, $certificate.ExportCertificatePem() + "`n")
        [System.IO.File]::WriteAllText($keyPemPath, $rsa.ExportPkcs8PrivateKeyPem() + "`n")

        $result = [pscustomobject]@{
            Directory      = $folder
            PfxPath        = $pfxPath
            Password       = $Password
            SecurePassword = ConvertTo-SecureString -String $Password -AsPlainText -Force
            CertPemPath    = $certPemPath
            KeyPemPath     = $keyPemPath
            Thumbprint     = $certificate.Thumbprint
            NotBefore      = $certificate.NotBefore
            NotAfter       = $certificate.NotAfter
        }
        $result | Add-Member -MemberType ScriptMethod -Name Remove -Value {
            Remove-Item -LiteralPath $this.Directory -Recurse -Force -ErrorAction SilentlyContinue
        }
        $result
    }
    finally {
        $certificate.Dispose()
    }
}
finally {
    $rsa.Dispose()
}
