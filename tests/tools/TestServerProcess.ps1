# What the test server starters (Start-TestDns.ps1, Start-TestLdap.ps1, Start-TestRedis.ps1) share
# about the server process they own: finding its program, a free port, the wait until it serves and
# its output after a start that failed. Dot-source it (`. "$PSScriptRoot/TestServerProcess.ps1"`);
# the Stop() of the object a starter returns comes from Add-TestServerStop.ps1.

# The program -Given names, else the one $env:<Variable> names (either must exist), else the first
# -Name on PATH or in the bin and sbin folders. Missing is an error, not a skip: a test that silently
# does not run proves nothing.
function Find-TestServerProgram {
    param(
        [string] $Name,
        [string] $Variable,
        [string] $Given,
        # Who needs it, for the message: 'The DNS tests need a real DNS server'.
        [string] $Need,
        [string] $DebianPackages
    )
    if ($Given) {
        if (Test-Path -LiteralPath $Given -PathType Leaf) { return $Given }
        throw "$Name '$Given' does not exist."
    }
    $configured = [Environment]::GetEnvironmentVariable($Variable)
    if ($configured) {
        if (Test-Path -LiteralPath $configured -PathType Leaf) { return $configured }
        throw "$Variable is set to '$configured', which does not exist."
    }
    $command = Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($command) { return $command.Source }
    $folders = '/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin', '/usr/local/bin'
    foreach ($folder in $folders) {
        $candidate = Join-Path $folder $Name
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    throw ("$Name was not found on PATH or in $($folders -join ', '). $($Need): run tests/tools/install-test-deps.sh " +
        "(on Debian: apt-get install $DebianPackages), or set $Variable to the $Name executable.")
}

# A TCP port of 127.0.0.1 that was free a moment ago; the caller retries if something takes it.
function Get-FreeTcpPort {
    $listener = New-Object System.Net.Sockets.TcpListener ([System.Net.IPAddress]::Loopback), 0
    $listener.Start()
    try { return $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# True once -Ready says the server serves; false when the process exits or -Timeout passes first.
function Wait-TestServer {
    param([System.Diagnostics.Process] $Process, [TimeSpan] $Timeout, [scriptblock] $Ready)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed -lt $Timeout -and -not $Process.HasExited) {
        if (& $Ready) { return $true }
        # Polling interval while the server starts, not a wait for an assumed duration.
        Start-Sleep -Milliseconds 25
    }
    return $false
}

# What the server wrote into the files its output went to, for the message of a start that failed
# (and to see whether it lost a port race: 'address already in use').
function Read-TestServerOutput {
    param([string[]] $Path)
    $output = ''
    foreach ($p in $Path) {
        if (Test-Path -LiteralPath $p) { $output += [System.IO.File]::ReadAllText($p) }
    }
    $output
}
