<#
.SYNOPSIS
    Starts the test directory (OpenLDAP's slapd) for Pester tests, as the xunit fixture does.

.DESCRIPTION
    Runs tests/tools/test-ldap.sh (the one way the tests start the directory: schema, entries and
    certificates from tests/fixtures/ldap, listed in its README.md) on two free ports of 127.0.0.1,
    plain LDAP (and StartTLS) and LDAPS, and returns once ldapsearch gets the suffix entry.

    The certificate's CA is one this PowerShell process does not trust: libldap reads LDAPTLS_CACERT
    from the C environment of the process at its start, which $env: cannot change. So StartTLS and
    LDAPS from this process fail certificate validation, as for a directory the machine does not trust.

    slapd or ldapsearch missing is an error, not a skip (tests/tools/install-test-deps.sh installs them).

.OUTPUTS
    An object with Server ('ldap://127.0.0.1:PORT', the form -LdapServer takes), LdapsServer, Port,
    LdapsPort, SearchBase, Credential (the service account, a PSCredential), Directory and LogPath,
    and a Stop() method that stops slapd and removes the directory. Call Stop() in AfterAll.

.EXAMPLE
    BeforeAll { $ldap = & "$PSScriptRoot/../tools/Start-TestLdap.ps1" }
    AfterAll  { if ($ldap) { $ldap.Stop() } }
    It 'knows alice' { Test-SmtpdRule ... -LdapServer $ldap.Server -LdapSearchBase $ldap.SearchBase }
#>
[CmdletBinding()]
param(
    # How long slapd may take to answer.
    [TimeSpan] $Timeout = [TimeSpan]::FromSeconds(20)
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

. (Join-Path $PSScriptRoot 'TestServerProcess.ps1')

$script = Join-Path $PSScriptRoot 'test-ldap.sh'
if (-not (Get-Command -Name ldapsearch -CommandType Application -ErrorAction SilentlyContinue)) {
    throw 'ldapsearch was not found: run tests/tools/install-test-deps.sh (on Debian: apt-get install slapd ldap-utils).'
}

function Test-LdapAnswers {
    param([int] $Port)
    & ldapsearch -x -LLL -o nettimeout=2 -l 2 -H "ldap://127.0.0.1:$Port" -b 'dc=example,dc=test' -s base dn *> $null
    return $LASTEXITCODE -eq 0
}

for ($attempt = 1; ; $attempt++) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('smtpd-test-ldap-' + [Guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $dir
    $port = Get-FreeTcpPort
    do { $ldapsPort = Get-FreeTcpPort } while ($ldapsPort -eq $port)
    $log = Join-Path $dir 'slapd.log'
    $out = Join-Path $dir 'slapd.out'
    # test-ldap.sh ends by exec'ing slapd, so the process object is slapd itself and Stop() ends it.
    $process = Start-Process -FilePath 'bash' -ArgumentList "`"$script`"", "`"$(Join-Path $dir 'ldap')`"", $port, $ldapsPort `
        -PassThru -NoNewWindow -RedirectStandardError $log -RedirectStandardOutput $out

    $server = [pscustomobject]@{
        PSTypeName  = 'SmtpdModule.Tests.TestLdap'
        Server      = "ldap://127.0.0.1:$port"
        LdapsServer = "ldaps://127.0.0.1:$ldapsPort"
        Port        = $port
        LdapsPort   = $ldapsPort
        SearchBase  = 'dc=example,dc=test'
        Credential  = New-Object System.Management.Automation.PSCredential 'cn=smtpd,ou=services,dc=example,dc=test',
                          (ConvertTo-SecureString 'reader-secret' -AsPlainText -Force)
        Process     = $process
        Directory   = $dir
        LogPath     = $log
    }
    & (Join-Path $PSScriptRoot 'Add-TestServerStop.ps1') -Server $server

    if (Wait-TestServer -Process $process -Timeout $Timeout -Ready { Test-LdapAnswers -Port $port }) { return $server }

    $output = Read-TestServerOutput $log
    $server.Stop()
    if ($attempt -lt 5 -and $output -match 'Address already in use') { continue }   # port taken meanwhile
    throw ("slapd did not answer on 127.0.0.1:$port within $($Timeout.TotalSeconds) s.`n" +
        "Command: bash $script $dir/ldap $port $ldapsPort`nOutput:`n$output")
}
