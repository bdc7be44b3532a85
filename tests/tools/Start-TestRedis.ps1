<#
.SYNOPSIS
    Starts a real Redis (Debian's redis-server) on 127.0.0.1 for Pester tests, as the xunit fixture
    tests/SmtpdModule.Engine.Tests/Fixtures/TestRedisServer.cs does.

.DESCRIPTION
    Writes a redis.conf into a fresh temporary directory (bind 127.0.0.1, a free port, no RDB, no
    AOF, a random requirepass password unless -NoPassword) and starts `redis-server <dir>/redis.conf`
    in the foreground; returns once redis-server logs that it is ready. With -CertificatePath and
    -KeyPath (PEM files, e.g. from New-TestCertificate.ps1) it speaks TLS only on that port.

    redis-server missing is an error, not a skip (tests/tools/install-test-deps.sh installs it). Set
    SMTPD_TEST_REDIS_SERVER (or -RedisServer) to use one that is not on PATH or in the bin and sbin folders.

.OUTPUTS
    An object with Port, EndPoint ('127.0.0.1:PORT'), Uri ('redis://127.0.0.1:PORT', or rediss://
    with TLS: the form -StateStore takes), Password (a string, $null with -NoPassword), Credential
    (a PSCredential for the user 'default' with that password, $null with -NoPassword), Process,
    Directory and LogPath, and a Stop() method that stops redis-server and removes the directory.
    Call Stop() in AfterAll.

.EXAMPLE
    BeforeAll { $redis = & "$PSScriptRoot/../tools/Start-TestRedis.ps1" }
    AfterAll  { if ($redis) { $redis.Stop() } }
    It 'shares state' { Start-SmtpdProxy ... -StateStore $redis.Uri -StateStoreCredential $redis.Credential }
#>
[CmdletBinding()]
param(
    # Ask no password.
    [switch] $NoPassword,
    # A PEM certificate: serve TLS only (tls-port), asking no client certificate.
    [string] $CertificatePath,
    # Its PEM private key.
    [string] $KeyPath,
    # The redis-server executable; found on PATH or in the bin and sbin folders when not given.
    [string] $RedisServer,
    # How long redis-server may take to get ready.
    [TimeSpan] $Timeout = [TimeSpan]::FromSeconds(20)
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

. (Join-Path $PSScriptRoot 'TestServerProcess.ps1')

function Format-ConfigPath([string] $Path) { '"' + $Path.Replace('\', '\\').Replace('"', '\"') + '"' }

if ([bool]$CertificatePath -ne [bool]$KeyPath) { throw '-CertificatePath and -KeyPath go together.' }
$redisPath = Find-TestServerProgram -Name redis-server -Variable SMTPD_TEST_REDIS_SERVER -Given $RedisServer `
    -Need 'The shared state tests need a real Redis' -DebianPackages redis-server
$password = if ($NoPassword) { $null } else { 'pw-' + [Guid]::NewGuid().ToString('N') }
$tls = [bool]$CertificatePath

for ($attempt = 1; ; $attempt++) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('smtpd-test-redis-' + [Guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $dir
    $port = Get-FreeTcpPort
    $lines = @(
        'bind 127.0.0.1'
        'daemonize no'
        "dir $(Format-ConfigPath $dir)"
        'logfile ""'
        'save ""'
        'appendonly no'
        'databases 16'
    )
    if ($tls) {
        $lines += 'port 0', "tls-port $port", "tls-cert-file $(Format-ConfigPath (Resolve-Path -LiteralPath $CertificatePath).ProviderPath)",
            "tls-key-file $(Format-ConfigPath (Resolve-Path -LiteralPath $KeyPath).ProviderPath)", 'tls-auth-clients no'
    }
    else { $lines += "port $port" }
    if ($password) { $lines += "requirepass $password" }
    $conf = Join-Path $dir 'redis.conf'
    [System.IO.File]::WriteAllText($conf, ($lines -join "`n") + "`n")
    $log = Join-Path $dir 'redis.log'
    $errLog = Join-Path $dir 'redis.err'

    # Foreground (daemonize no): the process object is redis-server itself, so Stop() ends it.
    $process = Start-Process -FilePath $redisPath -ArgumentList "`"$conf`"" -PassThru -NoNewWindow `
        -RedirectStandardOutput $log -RedirectStandardError $errLog

    $server = [pscustomobject]@{
        PSTypeName = 'SmtpdModule.Tests.TestRedis'
        Port       = $port
        EndPoint   = "127.0.0.1:$port"
        Uri        = "$(if ($tls) { 'rediss' } else { 'redis' })://127.0.0.1:$port"
        Password   = $password
        # Redis 6 and later: the user 'default' with the requirepass password is password-only AUTH.
        Credential = if ($password) {
            New-Object System.Management.Automation.PSCredential 'default', (ConvertTo-SecureString $password -AsPlainText -Force)
        } else { $null }
        Process    = $process
        Directory  = $dir
        LogPath    = $log
    }
    & (Join-Path $PSScriptRoot 'Add-TestServerStop.ps1') -Server $server

    # redis-server logs this line once its listener is bound; the log is polled for it.
    if (Wait-TestServer -Process $process -Timeout $Timeout -Ready { (Read-TestServerOutput $log).Contains('Ready to accept connections') }) {
        return $server
    }

    $output = Read-TestServerOutput $log, $errLog
    $server.Stop()
    if ($attempt -lt 5 -and $output -match 'Address already in use') { continue }   # port taken meanwhile
    throw ("redis-server did not get ready on 127.0.0.1:$port within $($Timeout.TotalSeconds) s.`n" +
        "Command: $redisPath $conf`nredis-server output:`n$output")
}
