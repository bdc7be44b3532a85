<#
.SYNOPSIS
    Starts a real DNS server (Knot DNS's knotd) serving the test zones, for Pester tests.

.DESCRIPTION
    Copies the zone files of tests/fixtures/dns into a fresh temporary directory, fills in
    tests/fixtures/dns/knot.conf.in (the same configuration the xunit fixture TestDnsServer.cs
    uses), starts `knotd -c <dir>/knot.conf` in the foreground on a free port of 127.0.0.1 (and ::1
    when the machine has it), and returns once every zone answers its SOA query. The zones' facts
    are listed in tests/fixtures/dns/README.md. Names outside those zones get REFUSED.

    knotd missing is an error, not a skip. Set SMTPD_TEST_KNOTD (or -Knotd) to use a knotd that is
    not on PATH or in the bin and sbin folders.

.OUTPUTS
    An object with Port, EndPoint ('127.0.0.1:PORT', the form -DnsServer takes), EndPointV6
    ('[::1]:PORT', or $null without IPv6), Process, Directory and LogPath, and a Stop() method that
    stops knotd and removes the directory. Call Stop() in AfterAll.

.EXAMPLE
    BeforeAll { $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" }
    AfterAll  { if ($dns) { $dns.Stop() } }
    It 'resolves' { Test-SmtpdRule ... -DnsServer $dns.EndPoint }
#>
[CmdletBinding()]
param(
    # The folder with knot.conf.in and the *.zone files. tests/fixtures/dns-nxdomain serves only an
    # empty root zone: every name is NXDOMAIN (for tests whose DNS facts are "nothing exists").
    [string] $FixturePath = (Join-Path (Join-Path $PSScriptRoot '..') (Join-Path 'fixtures' 'dns')),
    # The knotd executable; found on PATH or in the bin and sbin folders when not given.
    [string] $Knotd,
    # How long knotd may take to serve every zone.
    [TimeSpan] $Timeout = [TimeSpan]::FromSeconds(20)
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

. (Join-Path $PSScriptRoot 'TestServerProcess.ps1')

function Test-IPv6Loopback {
    if (-not [System.Net.Sockets.Socket]::OSSupportsIPv6) { return $false }
    $probe = New-Object System.Net.Sockets.Socket ([System.Net.Sockets.AddressFamily]::InterNetworkV6),
        ([System.Net.Sockets.SocketType]::Dgram), ([System.Net.Sockets.ProtocolType]::Udp)
    try {
        $probe.Bind((New-Object System.Net.IPEndPoint ([System.Net.IPAddress]::IPv6Loopback), 0))
        return $true
    }
    catch [System.Net.Sockets.SocketException] { return $false }
    finally { $probe.Dispose() }
}

# A port the kernel gives for UDP port 0 that is also free for TCP (and on ::1). It is released
# before knotd binds it; the caller retries if something takes it in between.
function Get-FreePort {
    param([bool] $IPv6)
    $families = @(, @([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.IPAddress]::Loopback))
    if ($IPv6) { $families += , @([System.Net.Sockets.AddressFamily]::InterNetworkV6, [System.Net.IPAddress]::IPv6Loopback) }
    for ($i = 0; $i -lt 50; $i++) {
        $held = New-Object System.Collections.Generic.List[System.Net.Sockets.Socket]
        try {
            $port = 0
            foreach ($family in $families) {
                foreach ($kind in @(@([System.Net.Sockets.SocketType]::Dgram, [System.Net.Sockets.ProtocolType]::Udp),
                                    @([System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp))) {
                    $socket = New-Object System.Net.Sockets.Socket $family[0], $kind[0], $kind[1]
                    $held.Add($socket)
                    $socket.Bind((New-Object System.Net.IPEndPoint $family[1], $port))
                    $port = $socket.LocalEndPoint.Port
                }
            }
            return $port
        }
        catch [System.Net.Sockets.SocketException] {
            # Taken on one of the sockets: ask for another port.
        }
        finally {
            foreach ($socket in $held) { $socket.Dispose() }
        }
    }
    throw 'No port was free for both UDP and TCP on the loopback addresses.'
}

# True when the server answers NOERROR with at least one record to "<zone> IN SOA" over UDP.
function Test-ZoneAnswers {
    param([int] $Port, [string] $Zone)
    $id = Get-Random -Minimum 0 -Maximum 65536
    $query = New-Object System.Collections.Generic.List[byte]
    # Header (RFC 1035 section 4.1.1): id, RD, one question.
    $query.AddRange([byte[]]@(($id -shr 8), ($id -band 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0))
    foreach ($label in $Zone.TrimEnd('.').Split('.', [System.StringSplitOptions]::RemoveEmptyEntries)) {
        $bytes = [System.Text.Encoding]::ASCII.GetBytes($label)
        $query.Add([byte]$bytes.Length)
        $query.AddRange($bytes)
    }
    $query.AddRange([byte[]]@(0, 0, 6, 0, 1))   # root label, QTYPE SOA, QCLASS IN

    $udp = New-Object System.Net.Sockets.UdpClient ([System.Net.Sockets.AddressFamily]::InterNetwork)
    try {
        $udp.Client.ReceiveTimeout = 250
        $udp.Connect([System.Net.IPAddress]::Loopback, $Port)
        [void]$udp.Send($query.ToArray(), $query.Count)
        $from = New-Object System.Net.IPEndPoint ([System.Net.IPAddress]::Any), 0
        $reply = $udp.Receive([ref]$from)
        if ($reply.Length -lt 12) { return $false }
        $sameId = ((([int]$reply[0]) -shl 8) -bor $reply[1]) -eq $id   # [int]: a byte shifted left stays a byte
        $noError = ($reply[3] -band 0x0F) -eq 0
        $answers = (([int]$reply[6]) -shl 8) -bor $reply[7]
        return ($sameId -and $noError -and $answers -gt 0)
    }
    catch [System.Net.Sockets.SocketException] { return $false }   # not listening yet, or timed out
    catch [System.Management.Automation.MethodInvocationException] { return $false }
    finally { $udp.Dispose() }
}

$knotdPath = Find-TestServerProgram -Name knotd -Variable SMTPD_TEST_KNOTD -Given $Knotd `
    -Need 'The DNS tests need a real DNS server' -DebianPackages 'knot knot-dnsutils'
$fixtures = (Resolve-Path -LiteralPath $FixturePath).ProviderPath
$template = [System.IO.File]::ReadAllText((Join-Path $fixtures 'knot.conf.in'))
# -Force: the root zone's file is ".zone", a dot file.
$zoneFiles = @(Get-ChildItem -LiteralPath $fixtures -Filter '*.zone' -Force | Sort-Object Name)
$zones = @($zoneFiles | ForEach-Object { $_.Name.Substring(0, $_.Name.Length - '.zone'.Length) })
$ipv6 = Test-IPv6Loopback

for ($attempt = 1; ; $attempt++) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('smtpd-test-dns-' + [Guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path (Join-Path $dir 'zones'), (Join-Path $dir 'db')
    foreach ($file in $zoneFiles) { Copy-Item -LiteralPath $file.FullName -Destination (Join-Path $dir 'zones') }

    $port = Get-FreePort -IPv6 $ipv6
    $listen = if ($ipv6) { "[ 127.0.0.1@$port, ::1@$port ]" } else { "[ 127.0.0.1@$port ]" }
    $conf = Join-Path $dir 'knot.conf'
    [System.IO.File]::WriteAllText($conf, $template.Replace('{{DIR}}', $dir).Replace('{{LISTEN}}', $listen))
    $log = Join-Path $dir 'knotd.log'
    $errLog = Join-Path $dir 'knotd.err'

    # Foreground (no -d): the process object is knotd itself, so Stop() ends it.
    $process = Start-Process -FilePath $knotdPath -ArgumentList '-c', "`"$conf`"" -PassThru -NoNewWindow `
        -RedirectStandardOutput $log -RedirectStandardError $errLog
    $server = [pscustomobject]@{
        PSTypeName = 'SmtpdModule.Tests.TestDns'
        Port       = $port
        EndPoint   = "127.0.0.1:$port"
        EndPointV6 = if ($ipv6) { "[::1]:$port" } else { $null }
        Process    = $process
        Directory  = $dir
        LogPath    = $log
        Zones      = $zones
    }
    & (Join-Path $PSScriptRoot 'Add-TestServerStop.ps1') -Server $server

    $pending = New-Object 'System.Collections.Generic.HashSet[string]' -ArgumentList (, [string[]]$zones)
    try {
        $ready = Wait-TestServer -Process $process -Timeout $Timeout -Ready {
            foreach ($zone in @($pending)) {
                if (Test-ZoneAnswers -Port $port -Zone $zone) { [void]$pending.Remove($zone) }
            }
            $pending.Count -eq 0
        }
    }
    catch {
        $server.Stop()
        throw
    }
    if ($ready) { return $server }

    $output = Read-TestServerOutput $log, $errLog
    $server.Stop()
    if ($attempt -lt 5 -and $output -match 'address already in use') { continue }   # port taken meanwhile
    throw ("knotd did not serve all test zones ($($zones -join ', ')) on 127.0.0.1:$port within $($Timeout.TotalSeconds) s.`n" +
        "Command: $knotdPath -c $conf`nknotd output:`n$output")
}
