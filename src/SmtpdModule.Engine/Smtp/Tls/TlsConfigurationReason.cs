namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>Why a server certificate was refused (<see cref="TlsConfigurationException.Reason"/>).
    /// The cmdlets map these to error ids, so a value is never renumbered or reused.</summary>
    public enum TlsConfigurationReason
    {
        /// <summary>A certificate or key file does not exist.</summary>
        FileNotFound = 1,
        /// <summary>A certificate or key file exists but cannot be read (access denied, locked, a folder).</summary>
        FileUnreadable = 2,
        /// <summary>The PFX file does not open with the password given.</summary>
        BadPassword = 3,
        /// <summary>The file is not a PFX, or not a PEM certificate or private key, or is damaged.</summary>
        InvalidFormat = 4,
        /// <summary>The PEM private key is encrypted; only unencrypted PKCS#8, PKCS#1 or SEC1 keys are read.</summary>
        EncryptedKey = 5,
        /// <summary>The PEM private key does not belong to the PEM certificate.</summary>
        KeyMismatch = 6,
        /// <summary>The certificate comes without its private key.</summary>
        NoPrivateKey = 7,
        /// <summary>The private key exists but cannot be used: this account may not open it, or it is
        /// neither RSA nor ECDSA.</summary>
        PrivateKeyUnusable = 8,
        /// <summary>The certificate's key usages exclude TLS server authentication.</summary>
        NotForServerAuthentication = 9,
        /// <summary>The certificate's validity period has ended.</summary>
        Expired = 10,
        /// <summary>The certificate's validity period has not begun.</summary>
        NotYetValid = 11,
        /// <summary>The thumbprint is not 40 hexadecimal digits.</summary>
        InvalidThumbprint = 12,
        /// <summary>No certificate with the thumbprint is in CurrentUser\My or LocalMachine\My.</summary>
        NotFoundInStore = 13,
        /// <summary>PEM files need .NET 5 or later (PowerShell 7); this runtime is older.</summary>
        PemNotSupported = 14,
    }
}
