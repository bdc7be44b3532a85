# Helpers shared by the Pester files: dot-source in BeforeAll (`. "$PSScriptRoot/TestHelpers.ps1"`).
# Not a *.Tests.ps1 file, so Pester never runs it on its own.

# Writes a rules file into TestDrive exactly as given (no newline added or translated).
function New-RulesFile {
    param([string] $Name, [string[]] $Line, [string] $NewLine = "`n")
    $path = Join-Path $TestDrive $Name
    $text = ($Line -join $NewLine) + $NewLine
    [System.IO.File]::WriteAllText($path, $text, (New-Object System.Text.UTF8Encoding $false))
    $path
}

# Polls an outside effect until it holds; on timeout, throws with what -Context says.
# A free slot the spool writer keeps in incoming/ (about_SmtpdSpool): a .slot file, empty or
# preallocated with zeros; one a message was written into starts with its header. The writer
# holds its slots with a shared lock, which this reader passes; one it is still making is locked
# exclusively for a moment.
function Test-FreeSlot([System.IO.FileInfo] $File) {
    if ($File.Extension -ne '.slot') { return $false }
    if ($File.Length -eq 0) { return $true }
    try { $stream = [System.IO.File]::Open($File.FullName, 'Open', 'Read', 'ReadWrite, Delete') }
    catch [System.IO.FileNotFoundException] { return $false }
    catch [System.IO.IOException] { return $true }   # locked: a refill is still making it
    try { $stream.ReadByte() -eq 0 } finally { $stream.Dispose() }
}

function Wait-Until {
    param([scriptblock] $Condition, [string] $Because, [double] $Seconds = 15, [scriptblock] $Context)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) {
            $more = if ($Context) { "`n" + ((& $Context) -join "`n") } else { '' }
            throw "Timed out after $Seconds s waiting until $Because.$more"
        }
        Start-Sleep -Milliseconds 10
    }
}

# Quotes text for a single-quoted PowerShell string in a generated script.
function Quote([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }

# The python3 (or python) on PATH: the tests' SMTP clients are python scripts. Throws when there is none.
function Get-TestPython {
    $found = Get-Command -Name python3, python -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1 -ExpandProperty Source
    if (-not $found) { throw 'python3 is needed (the SMTP clients of these tests are python scripts): run tests/tools/install-test-deps.sh.' }
    $found
}

# One transaction with python's smtplib (tests/fixtures/smtp/pester_send.py), optionally from loopback
# address $Source: its parsed result ({ehlo, mail, rcpt: [[code, text] ...], data, closed}). Without
# -BodyFile no DATA is sent.
function Send-SmtplibMail {
    param([Parameter(Mandatory)] [int] $Port, [string[]] $To, [string] $From = '<s@example.org>', [string] $Source,
          [string] $Helo = 'client.test', [string] $BodyFile)
    $script = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $arguments = @($script, '--port', $Port, '--helo', $Helo, '--from', $From)
    if ($Source) { $arguments += '--source', $Source }
    if ($BodyFile) { $arguments += '--body-file', $BodyFile }
    foreach ($t in $To) { $arguments += '--to', $t }
    & (Get-TestPython) @arguments | ConvertFrom-Json
}

# One transaction with swaks from loopback address $Source: its transcript as one string.
function Send-SwaksMail {
    param([Parameter(Mandatory)] [int] $Port, [string] $Source, [string] $From, [string] $To, [switch] $QuitAfterRcpt)
    $swaks = Get-Command -Name swaks -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source
    if (-not $swaks) { throw 'swaks is needed: run tests/tools/install-test-deps.sh.' }
    $arguments = @('--server', '127.0.0.1', '--port', $Port, '--local-interface', $Source, '--helo', 'client.test',
                   '--from', $From, '--to', $To, '--timeout', 20)
    if ($QuitAfterRcpt) { $arguments += '--quit-after', 'RCPT' }
    (& $swaks @arguments 2>&1) -join "`n"
}

# A python3 that can import aiosmtpd: the one on PATH, else the system's (a PATH python from pyenv
# or a venv does not see Debian's python3-aiosmtpd). Throws when there is none.
function Get-AiosmtpdPython {
    $found = @((Get-Command -Name python3 -CommandType Application -All -ErrorAction SilentlyContinue).Source) + '/usr/bin/python3' |
        Where-Object { (Test-Path -LiteralPath $_) -and $(& $_ -c 'import aiosmtpd' 2>$null; $LASTEXITCODE -eq 0) } |
        Select-Object -First 1
    if (-not $found) { throw 'python3 with aiosmtpd is needed: run tests/tools/install-test-deps.sh.' }
    $found
}

# tests/fixtures/downstream/smtp_server.py (aiosmtpd) on 127.0.0.1 at a port of its choosing,
# recording into $Capture; it ends when its standard input closes, so add the process to the list
# that AfterAll closes. Returns Process, Port, Capture.
function Start-DownstreamServer {
    param([string] $Python, [string] $Capture, [System.Collections.Generic.List[System.Diagnostics.Process]] $Processes,
          [string[]] $Option = @())
    $script = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/downstream/smtp_server.py").ProviderPath
    $start = [System.Diagnostics.ProcessStartInfo]::new($Python)
    foreach ($a in @($script, '--capture', $Capture) + $Option) { $start.ArgumentList.Add($a) }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($start)
    if ($Processes) { $Processes.Add($process) }
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds(20)) -or -not $line.Result) {
        throw "smtp_server.py did not start: $($process.StandardError.ReadToEnd())"
    }
    [pscustomobject]@{ Process = $process; Port = ($line.Result | ConvertFrom-Json).port; Capture = $Capture }
}

# The events smtp_server.py logged: "connect", "stalled" and "message" ones.
function Get-DownstreamEvent {
    param($Downstream, [string] $Kind = 'message')
    $file = Join-Path $Downstream.Capture 'events.jsonl'
    if (-not (Test-Path -LiteralPath $file)) { return @() }
    @(Get-Content -LiteralPath $file | Where-Object { $_.EndsWith('}') } | ConvertFrom-Json | Where-Object event -EQ $Kind)
}

# Ends the helper processes a file started: closing standard input ends smtp_server.py; what is
# still running five seconds later is killed.
function Stop-TestProcess {
    param([System.Collections.Generic.List[System.Diagnostics.Process]] $Processes)
    foreach ($p in $Processes) {
        if (-not $p.HasExited) {
            try { $p.StandardInput.Close() } catch { }
            if (-not $p.WaitForExit(5000)) { $p.Kill($true) }
        }
    }
}

# A python test client (tests/fixtures/smtp/*_client.py) with its standard streams redirected, so
# the test can feed it lines and read what it says, step by step.
function Start-PythonClient {
    param([string] $Python, [string] $Script, [string[]] $Arguments)
    $start = [System.Diagnostics.ProcessStartInfo]::new($Python)
    $start.ArgumentList.Add($Script)
    foreach ($a in $Arguments) { $start.ArgumentList.Add($a) }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    [System.Diagnostics.Process]::Start($start)
}

# The next line a Start-PythonClient client prints, within a deadline.
function Read-ClientLine {
    param([System.Diagnostics.Process] $Client, [double] $Seconds = 60)
    $name = [System.IO.Path]::GetFileName($Client.StartInfo.ArgumentList[0])
    $line = $Client.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds($Seconds))) { throw "$name said nothing within $Seconds s." }
    if ($null -eq $line.Result) { throw "$name ended without a line: $($Client.StandardError.ReadToEnd())" }
    $line.Result
}

# A child pwsh running $Command after importing the module ($modulePath of the calling file), its
# output in files under TestDrive; the process joins the caller's $processes list, for its
# AfterAll. Returns Process, Out (stdout path) and Log (a script block that shows both outputs).
function Start-ChildPwsh {
    param([string] $Name, [string] $Command)
    $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "child-$Name") -Force).FullName
    $script = Join-Path $dir 'child.ps1'
    $text = @(
        '$ErrorActionPreference = ''Stop'''
        'if ($PSStyle) { $PSStyle.OutputRendering = ''PlainText'' }'
        "Import-Module $(Quote $modulePath)"
        $Command
    ) -join "`n"
    [System.IO.File]::WriteAllText($script, $text, [System.Text.UTF8Encoding]::new($false))
    $exe = [Environment]::ProcessPath
    $arguments = @()
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $arguments += '"' + (Join-Path $PSHOME 'pwsh.dll') + '"' }
    $arguments += '-NoProfile', '-NonInteractive', '-File', ('"' + $script + '"')
    $out = Join-Path $dir 'stdout.txt'
    $err = Join-Path $dir 'stderr.txt'
    $process = Start-Process -FilePath $exe -ArgumentList $arguments -RedirectStandardOutput $out -RedirectStandardError $err -NoNewWindow -PassThru
    $processes.Add($process)
    $log = { "$Name stdout:"; Get-Content -LiteralPath $out -ErrorAction SilentlyContinue
             "$Name stderr:"; Get-Content -LiteralPath $err -ErrorAction SilentlyContinue }.GetNewClosure()
    [pscustomobject]@{ Process = $process; Out = $out; Err = $err; Log = $log }
}
