#Requires -Version 7.0
# Crash safety of the spool (docs/en-US/about_SmtpdSpool.md): the proxy runs in a child PowerShell
# (Start-SmtpdProxy -Wait) that is killed outright - SIGKILL on Unix, TerminateProcess on Windows;
# Process.Kill() and Stop-Process -Force both send SIGKILL on Linux, which the exit code 137 (128 + 9)
# shows - at the worst moments: in the middle of DATA, and right after the 250. A raw-socket client
# (tests/fixtures/smtp/crash_client.py) decides the moment. Crash debris is removed only once it is
# ten minutes old (about_SmtpdSpool), so the tests age it by setting its time stamp. Everything listens on 127.0.0.1 and asks
# only the NXDOMAIN knotd on the loopback.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $clientScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/crash_client.py").ProviderPath
    $python = Get-TestPython

    $rules = Join-Path $TestDrive 'allow_all'
    [System.IO.File]::WriteAllText($rules, "allow:ALL:ALL:ALL`n")

    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $proxies = [System.Collections.Generic.List[object]]::new()

    # A proxy host: a child PowerShell serving $Spool with Start-SmtpdProxy -Wait -Verbose, its
    # output in files next to its script. Returns once it listens: Process, Port, Log (a script
    # block that shows the child's output, for failure messages).
    function Start-ProxyHost {
        param([string] $Spool, [string] $Name)
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "host-$Name") -Force).FullName
        $script = Join-Path $dir 'host.ps1'
        $out = Join-Path $dir 'stdout.txt'
        $err = Join-Path $dir 'stderr.txt'
        $command = @(
            '$ErrorActionPreference = ''Stop'''
            'if ($PSStyle) { $PSStyle.OutputRendering = ''PlainText'' }'
            "Import-Module $(Quote $modulePath)"
            "Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) -RulesPath $(Quote $rules) -SpoolPath $(Quote $Spool) -Wait -Verbose | Out-Null"
        ) -join "`n"
        [System.IO.File]::WriteAllText($script, $command, [System.Text.UTF8Encoding]::new($false))
        # -File, not -EncodedCommand: then the verbose stream reaches stdout as text.
        $exe = [Environment]::ProcessPath
        $arguments = @()
        if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') {
            $arguments += '"' + (Join-Path $PSHOME 'pwsh.dll') + '"'
        }
        $arguments += '-NoProfile', '-NonInteractive', '-File', ('"' + $script + '"')
        $process = Start-Process -FilePath $exe -ArgumentList $arguments -RedirectStandardOutput $out `
            -RedirectStandardError $err -NoNewWindow -PassThru
        $processes.Add($process)
        $log = { "host stdout:"; Get-Content -LiteralPath $out -ErrorAction SilentlyContinue
                 "host stderr:"; Get-Content -LiteralPath $err -ErrorAction SilentlyContinue }.GetNewClosure()
        Wait-Until { $process.HasExited -or ((Get-Content -LiteralPath $out -Raw -ErrorAction SilentlyContinue) -match 'start: listening on 127\.0\.0\.1:\d+') } `
            -Seconds 30 -Because 'the proxy host listens' -Context $log
        if ($process.HasExited) { throw "The proxy host exited with $($process.ExitCode).`n$((& $log) -join "`n")" }
        $port = [int]([regex]::Match((Get-Content -LiteralPath $out -Raw), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)
        [pscustomobject]@{ Process = $process; Port = $port; Log = $log }
    }

    # crash_client.py with its stdout readable line by line.
    function Start-Client {
        param([string[]] $Arguments)
        $process = Start-PythonClient -Python $python -Script $clientScript -Arguments $Arguments
        $processes.Add($process)
        $process
    }

    # Waits for a killed host and checks that it was killed, not that it ended by itself.
    function Assert-Killed {
        param($ProxyHost)
        $ProxyHost.Process.WaitForExit(10000) | Should -BeTrue -Because 'the host was killed'
        if ($IsLinux -or $IsMacOS) {
            $ProxyHost.Process.ExitCode | Should -Be 137 -Because 'SIGKILL ends a process with 128 + 9'
        }
    }

    # A message as it must be stored: header lines, lines that need dot-stuffing on the wire, and
    # random base64 lines up to $Size bytes; CRLF line ends. Returns its bytes.
    function New-MessageFile {
        param([string] $Path, [int] $Size)
        $random = [System.Security.Cryptography.RandomNumberGenerator]::Create()
        $chunk = [byte[]]::new(57)   # 76 base64 characters a line, as MIME writes them
        $text = [System.Text.StringBuilder]::new()
        $null = $text.Append("From: <a@example.org>`r`nTo: <b@example.test>`r`nSubject: crash test $([guid]::NewGuid())`r`n`r`n")
        $null = $text.Append(".a line that starts with a dot`r`n.`r`n..`r`n")
        while ($text.Length -lt $Size) {
            $random.GetBytes($chunk)
            $null = $text.Append([Convert]::ToBase64String($chunk)).Append("`r`n")
        }
        $null = $text.Append(".the last line starts with a dot too`r`n")
        $random.Dispose()
        $bytes = [System.Text.Encoding]::ASCII.GetBytes($text.ToString())
        [System.IO.File]::WriteAllBytes($Path, $bytes)
        , $bytes
    }

    # A spool message file: the envelope header's lines (up to the empty line that ends it) and
    # the message bytes that follow it, our Received: header included.
    function Split-MessageFile {
        param([byte[]] $Bytes)
        $end = -1
        for ($i = 1; $i -lt $Bytes.Length; $i++) {
            if ($Bytes[$i] -eq 10 -and $Bytes[$i - 1] -eq 10) { $end = $i + 1; break }
        }
        $end | Should -BeGreaterThan 0 -Because 'a message file has an empty line after its envelope header'
        $lines = [System.Text.Encoding]::UTF8.GetString($Bytes, 0, $end - 2) -split "`n"
        [pscustomobject]@{ Envelope = $lines; Message = [System.ArraySegment[byte]]::new($Bytes, $end, $Bytes.Length - $end).ToArray() }
    }

    # The bytes of a stored message after our Received: header (its first line and the folded
    # lines that continue it), and the header itself.
    function Split-StoredMessage {
        param([byte[]] $Bytes)
        $text = [System.Text.Encoding]::ASCII.GetString($Bytes)
        $text.StartsWith('Received: ') | Should -BeTrue -Because 'the proxy puts its Received: header first'
        $end = $text.IndexOf("`r`n") + 2
        while ($end -lt $text.Length -and ($text[$end] -eq "`t" -or $text[$end] -eq ' ')) {
            $end = $text.IndexOf("`r`n", $end) + 2
        }
        [pscustomobject]@{ Header = $text.Substring(0, $end); Body = [System.ArraySegment[byte]]::new($Bytes, $end, $Bytes.Length - $end).ToArray() }
    }

    # The files of messages: the free slots the writer keeps in incoming/ are not.
    function Get-Files([string] $Directory, [string] $Filter = '*') {
        @(Get-ChildItem -LiteralPath $Directory -Filter $Filter -File -ErrorAction SilentlyContinue |
            Where-Object { -not (Test-FreeSlot $_) })
    }
}

AfterAll {
    foreach ($p in $proxies) {
        if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false }
    }
    foreach ($process in $processes) {
        try { if (-not $process.HasExited) { $process.Kill(); [void]$process.WaitForExit(5000) } }
        catch [System.InvalidOperationException] { }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'A proxy killed in the middle of DATA' {
    It 'leaves nothing in ready/; its debris is kept while it writes and removed after the crash' {
        $spool = Join-Path $TestDrive 'spool-mid-data'
        $message = Join-Path $TestDrive 'mid-data.eml'
        $null = New-MessageFile -Path $message -Size (256 * 1024)
        $proxyHost = Start-ProxyHost -Spool $spool -Name 'mid-data'
        $incoming = Join-Path $spool 'incoming'

        # 160 KiB of the body: the spool writes it in 64 KiB blocks, so once 128 KiB are in the file
        # the rest stays in the writer's buffer and the file does not change again.
        $client = Start-Client 'partial', '--port', $proxyHost.Port, '--body-file', $message, '--partial-bytes', (160 * 1024)
        Read-ClientLine $client | Should -Be "SENT $(160 * 1024)"
        Wait-Until { @(Get-Files $incoming | Where-Object Length -ge (128 * 1024)).Count -eq 1 } `
            -Because 'the partial body is being written to incoming/' `
            -Context { Get-ChildItem -LiteralPath $incoming | Format-Table Name, Length | Out-String; & $proxyHost.Log }
        $debris = Get-Files $incoming

        # Old enough to be swept, but its writer is alive and holds it: another proxy opening the
        # spool must leave it alone (about_SmtpdSpool, "After a crash"). On Unix the lock is an
        # advisory flock, so the time stamp can be changed under it; Windows' sharing lock forbids that.
        if (-not $IsWindows) {
            foreach ($file in $debris) { $file.LastWriteTimeUtc = [DateTime]::UtcNow.AddMinutes(-11) }
            $other = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
            $proxies.Add($other)
            Stop-SmtpdProxy -InputObject $other -Confirm:$false
            foreach ($file in $debris) { $file.FullName | Should -Exist -Because 'a file a live proxy is writing is locked' }
        }

        $proxyHost.Process.Kill()
        Assert-Killed $proxyHost
        Read-ClientLine $client | Should -Be 'CLOSED'

        Get-Files (Join-Path $spool 'ready') | Should -HaveCount 0 -Because 'nothing was acknowledged'
        foreach ($file in $debris) { $file.FullName | Should -Exist -Because 'the crash left its temporary file behind' }
        $debris | Should -HaveCount 1
        (Get-Content -LiteralPath $debris[0].FullName -TotalCount 1) | Should -Be 'smtpd-envelope 1' -Because 'the envelope header goes in before the body'

        foreach ($file in $debris) { $file.LastWriteTimeUtc = [DateTime]::UtcNow.AddMinutes(-11) }
        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
        $proxies.Add($p)
        try {
            Get-Files $incoming | Should -HaveCount 0 -Because 'opening the spool removes old debris nobody holds'
            Get-Files (Join-Path $spool 'ready') | Should -HaveCount 0
        }
        finally { Stop-SmtpdProxy -InputObject $p -Confirm:$false }
    }

    It 'leaves debris younger than ten minutes to a later sweep' {
        # A crash's leftovers are spared for ten minutes, the margin that keeps a sweep from failing
        # a commit that is between its close and its rename (about_SmtpdSpool). No process holds this file.
        $spool = Join-Path $TestDrive 'spool-young-debris'
        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
        Stop-SmtpdProxy -InputObject $p -Confirm:$false
        $young = Join-Path $spool 'incoming/20250102T030405-abcdefghijklmnopqrstuvwx.tmp'
        [System.IO.File]::WriteAllText($young, "smtpd-envelope 1`nid: 20250102T030405-abcdefghijklmnopqrstuvwx`n")

        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
        $proxies.Add($p)
        Stop-SmtpdProxy -InputObject $p -Confirm:$false
        $young | Should -Exist

        (Get-Item -LiteralPath $young).LastWriteTimeUtc = [DateTime]::UtcNow.AddMinutes(-11)
        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
        $proxies.Add($p)
        Stop-SmtpdProxy -InputObject $p -Confirm:$false
        $young | Should -Not -Exist
    }
}

Describe 'A proxy killed right after its 250' {
    It 'keeps acknowledged message <_> of 5 byte for byte, and a restarted proxy leaves it in place' -ForEach @(1..5) {
        $n = $_
        $spool = Join-Path $TestDrive "spool-after-250-$n"
        $message = Join-Path $TestDrive "after-250-$n.eml"
        $body = New-MessageFile -Path $message -Size (64 * 1024)
        $proxyHost = Start-ProxyHost -Spool $spool -Name "after-250-$n"

        # The client kills the host itself the moment it has read the reply to the final dot.
        $client = Start-Client 'full', '--port', $proxyHost.Port, '--body-file', $message, '--kill-pid', $proxyHost.Process.Id
        $reply = Read-ClientLine $client
        $reply | Should -Match '^REPLY 250 2\.0\.0 OK queued as (\S+)$'
        $id = ($reply -split ' ')[-1]
        Read-ClientLine $client | Should -Be 'KILLED'
        Assert-Killed $proxyHost

        $messagePath = Join-Path $spool "ready/$id.msg"
        $messagePath | Should -Exist
        Get-Files (Join-Path $spool 'ready') | Should -HaveCount 1 -Because 'one message is one file'
        Get-Files (Join-Path $spool 'incoming') | Should -HaveCount 0 -Because 'the commit was complete before the 250'

        $file = [System.IO.File]::ReadAllBytes($messagePath)
        $stored = Split-MessageFile $file
        $stored.Envelope[0] | Should -Be 'smtpd-envelope 1'
        $stored.Envelope | Should -Contain "id: $id"
        # The recipient, with its provenance (the rules' hash, the deciding line) after it.
        @($stored.Envelope -match '^rcpt: <b@example\.test>; rules-sha256=[0-9a-f]{64}; rule-line=1;') | Should -HaveCount 1
        @($stored.Envelope -like 'size:*') | Should -HaveCount 0 -Because 'the size is the file length less the header'
        $parts = Split-StoredMessage $stored.Message
        $parts.Header | Should -BeLike "* id $id*"
        $parts.Body.Length | Should -Be $body.Length
        [System.Linq.Enumerable]::SequenceEqual($parts.Body, [byte[]]$body) |
            Should -BeTrue -Because 'the stored message is the one sent, dot-stuffing removed'

        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool
        $proxies.Add($p)
        try {
            $messagePath | Should -Exist
            [System.Linq.Enumerable]::SequenceEqual([System.IO.File]::ReadAllBytes($messagePath), $file) | Should -BeTrue
        }
        finally { Stop-SmtpdProxy -InputObject $p -Confirm:$false }
    }
}
