#Requires -Version 7.0
# Clean stops (about_SmtpdService): a proxy or forwarder served by `Start-SmtpdProxy -Wait` or
# `Start-SmtpFwd -Wait` in a child PowerShell, stopped the way a supervisor stops it - SIGTERM
# (`kill -TERM`, what systemd and docker send) or, from another PowerShell process, through the
# control channel (`Stop-SmtpdProxy -SpoolPath`, what a Windows service or scheduled task uses).
# A raw-socket client (tests/fixtures/smtp/stop_client.py) holds a transaction in flight and an
# idle session; the forwarder's deliveries are held by a slow aiosmtpd downstream
# (tests/fixtures/downstream/smtp_server.py). Each test checks the exit code and time, the port
# closed, every acknowledged message kept, nothing partial left, and no stale control endpoint.
# Everything is on 127.0.0.1; the proxies ask only the NXDOMAIN knotd on the loopback.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $clientScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/stop_client.py").ProviderPath
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/send_many.py").ProviderPath
    $python = Get-AiosmtpdPython
    $killCommand = Get-Command -Name kill -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source

    $rules = Join-Path $TestDrive 'allow_all'
    [System.IO.File]::WriteAllText($rules, "allow:ALL:ALL:ALL`n")
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()


    function Get-Output($Child) { Get-Content -LiteralPath $Child.Out -Raw -ErrorAction SilentlyContinue }

    # Start-SmtpdProxy -Wait in a child pwsh (no -Verbose: the console shows what an operator
    # follows); returns once it listens, with its Port.
    function Start-ProxyHost {
        param([string] $Spool, [string] $Name, [double] $StopTimeout = 30)
        $child = Start-ChildPwsh -Name $Name -Command ("Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) " +
            "-RulesPath $(Quote $rules) -SpoolPath $(Quote $Spool) -StopTimeoutSeconds $StopTimeout -Wait | Out-Null`n'after the wait'")
        Wait-Until { $child.Process.HasExited -or ((Get-Output $child) -match 'start: listening on 127\.0\.0\.1:\d+') } `
            -Seconds 60 -Because 'the proxy host listens' -Context $child.Log
        if ($child.Process.HasExited) { throw "The proxy host exited with $($child.Process.ExitCode).`n$((& $child.Log) -join "`n")" }
        $port = [int]([regex]::Match((Get-Output $child), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)
        $child | Add-Member -NotePropertyName Port -NotePropertyValue $port -PassThru
    }

    # stop_client.py with standard input and output redirected, line by line.
    function Start-Client {
        param([string[]] $Arguments)
        $process = Start-PythonClient -Python $python -Script $clientScript -Arguments $Arguments
        $processes.Add($process)
        $process
    }

    function Send-Signal([string] $Signal, [int] $ProcessId) {
        & $killCommand "-$Signal" $ProcessId
        if ($LASTEXITCODE -ne 0) { throw "kill -$Signal $ProcessId failed" }
    }

    function Test-PortOpen([int] $Port) {
        $tcp = [System.Net.Sockets.TcpClient]::new()
        try { $tcp.Connect('127.0.0.1', $Port); $true } catch { $false } finally { $tcp.Dispose() }
    }

    # The files of messages: the free slots the writer keeps in incoming/ are not.
    function Get-Files([string] $Directory, [string] $Filter = '*') {
        @(Get-ChildItem -LiteralPath $Directory -Filter $Filter -File -ErrorAction SilentlyContinue |
            Where-Object { -not (Test-FreeSlot $_) })
    }

    # A message of about $Size bytes with lines that need dot-stuffing; returns its path.
    function New-MessageFile {
        param([string] $Name, [int] $Size = 65536)
        $text = [System.Text.StringBuilder]::new("From: <a@example.org>`r`nTo: <b@example.test>`r`nSubject: $Name`r`n`r`n.a dotted line`r`n")
        $i = 0
        while ($text.Length -lt $Size) { $null = $text.Append("line $i of the body of $Name`r`n"); $i++ }
        $path = Join-Path $TestDrive "$Name.eml"
        [System.IO.File]::WriteAllText($path, $text.ToString(), [System.Text.Encoding]::ASCII)
        $path
    }

    # The stored message files of ready/ hold the message after our Received: header.
    function Assert-Stored {
        param([string] $Spool, [string] $Subject)
        $ready = @(Get-Files (Join-Path $Spool 'ready') '*.msg')
        $ready | Should -HaveCount 1 -Because 'the acknowledged message is kept'
        [System.IO.File]::ReadAllText($ready[0].FullName) | Should -Match "Subject: $Subject\r\n"
    }

    # The spool holds no partial file, and the control folder no endpoint of a stopped process.
    function Assert-NothingLeft {
        param([string] $Spool)
        Get-Files (Join-Path $Spool 'incoming') | Should -HaveCount 0 -Because 'nothing partial is left'
        Get-Files (Join-Path $Spool 'control') | Should -HaveCount 0 -Because 'a stopped proxy or forwarder removes its control endpoint'
    }

    # A spool holding $Count messages sent through a real proxy of this process, stopped again.
    function New-FilledSpool {
        param([string] $Name, [int] $Count, [string] $To)
        $spool = Join-Path $TestDrive $Name
        $proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $rules -SpoolPath $spool -DnsServer $dns.EndPoint -NoReverseLookup
        try {
            $out = & $python $sendScript --port $proxy.LocalEndPoints[0].Port --count $Count --from sender@example.org --to $To --prefix $Name 2>&1
            if ($LASTEXITCODE -ne 0) { throw "send_many.py failed: $out" }
        }
        finally { $proxy | Stop-SmtpdProxy -Confirm:$false }
        $spool
    }

    function Get-DownstreamSubject {
        param($Downstream)
        foreach ($m in Get-DownstreamEvent $Downstream) {
            $text = [System.IO.File]::ReadAllText((Join-Path $Downstream.Capture $m.file))
            [regex]::Match($text, '(?m)^Subject: (.*)\r$').Groups[1].Value
        }
    }
}

AfterAll {
    foreach ($process in $processes) {
        try { if (-not $process.HasExited) { $process.Kill($true); [void]$process.WaitForExit(5000) } }
        catch [System.InvalidOperationException] { }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'Start-SmtpdProxy -Wait stopped by a signal' -Skip:$IsWindows {
    It 'on <Signal>: the transaction in flight finishes with 250, idle sessions get 421, exit 0, port closed, the message kept' -ForEach @(
        @{ Signal = 'TERM' }
        @{ Signal = 'INT' }
    ) {
        $spool = Join-Path $TestDrive "spool-$Signal"
        $proxyHost = Start-ProxyHost -Spool $spool -Name "signal-$Signal"
        $message = New-MessageFile -Name "inflight-$Signal"
        $inflight = Start-Client 'inflight', '--port', $proxyHost.Port, '--body-file', $message, '--partial-bytes', 1000
        Read-ClientLine $inflight | Should -Be 'SENT 1000'
        $idle = Start-Client 'idle', '--port', $proxyHost.Port
        Read-ClientLine $idle | Should -Be 'READY'

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Send-Signal $Signal $proxyHost.Process.Id
        Read-ClientLine $idle | Should -Match '^GOT 421 ' -Because 'an idle session is told the service is closing'
        Read-ClientLine $idle | Should -Be 'CLOSED'
        Test-PortOpen $proxyHost.Port | Should -BeFalse -Because 'the listener closes first'

        $inflight.StandardInput.WriteLine('go')
        $inflight.StandardInput.Flush()
        Read-ClientLine $inflight | Should -Match '^REPLY 250 ' -Because 'a transaction in flight may finish'
        $proxyHost.Process.WaitForExit(30000) | Should -BeTrue -Because "the proxy host ends once the last session has ended`n$((& $proxyHost.Log) -join "`n")"
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        if ($Signal -eq 'TERM') {
            $proxyHost.Process.ExitCode | Should -Be 0 -Because "a requested stop is not a failure`n$((& $proxyHost.Log) -join "`n")"
        }
        else {
            # SIGINT is Ctrl+C to pwsh too: pwsh ends the script and picks the exit code after it has
            # ended, and under load it picks 1 now and then even for a script that only sleeps
            # (tests/tools/Measure-SigintExit.ps1 -Plain: 1 in 40 with both cores busy). What this
            # module owns is the clean stop asserted around this line, and that nothing went wrong.
            $proxyHost.Process.ExitCode | Should -BeIn 0, 1 -Because "$((& $proxyHost.Log) -join "`n")"
            (Get-Content -LiteralPath $proxyHost.Err -Raw) | Should -BeNullOrEmpty -Because 'a clean stop writes no error'
        }

        $out = Get-Output $proxyHost
        $out | Should -Match "SIG$Signal`: stopping the proxy"
        $out | Should -Match ' accepted 127\.0\.0\.1' -Because 'the console shows each accepted message'
        $out | Should -Match 'stop: stopped accepted=1'
        if ($Signal -eq 'TERM') {
            $out | Should -Match 'after the wait' -Because '-Wait returns and the script goes on'
        }
        else {
            # SIGINT is Ctrl+C to PowerShell too: the proxy stops gracefully, then the script ends.
            $out | Should -Not -Match 'after the wait'
        }
        Assert-Stored -Spool $spool -Subject "inflight-$Signal"
        Assert-NothingLeft -Spool $spool
    }

    It 'cuts a transaction that does not finish within -StopTimeoutSeconds: nothing partial, nothing acknowledged, exit 0' {
        $spool = Join-Path $TestDrive 'spool-cut'
        $proxyHost = Start-ProxyHost -Spool $spool -Name 'signal-cut' -StopTimeout 2
        $message = New-MessageFile -Name 'cut' -Size 200000
        $inflight = Start-Client 'inflight', '--port', $proxyHost.Port, '--body-file', $message, '--partial-bytes', 100000
        Read-ClientLine $inflight | Should -Be 'SENT 100000'
        Wait-Until { (Get-Files (Join-Path $spool 'incoming')).Count -eq 1 } -Because 'the message is being written' -Context $proxyHost.Log

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Send-Signal 'TERM' $proxyHost.Process.Id
        $proxyHost.Process.WaitForExit(30000) | Should -BeTrue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15 -Because 'the bound was 2 s'
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9 -Because 'the transaction had its 2 s'
        $proxyHost.Process.ExitCode | Should -Be 0
        $inflight.StandardInput.WriteLine('go')
        $inflight.StandardInput.Flush()
        Read-ClientLine $inflight | Should -Be 'CLOSED' -Because 'the connection was closed without a 250'
        Get-Files (Join-Path $spool 'ready') | Should -HaveCount 0
        Assert-NothingLeft -Spool $spool
    }
}

Describe 'A proxy of another process, through the control channel' {
    It 'Get-SmtpdProxy -SpoolPath in another process shows it; Stop-SmtpdProxy -SpoolPath stops it gracefully' {
        $spool = Join-Path $TestDrive 'spool-control'
        $proxyHost = Start-ProxyHost -Spool $spool -Name 'control-host'
        $message = New-MessageFile -Name 'inflight-control'
        $inflight = Start-Client 'inflight', '--port', $proxyHost.Port, '--body-file', $message, '--partial-bytes', 500
        Read-ClientLine $inflight | Should -Be 'SENT 500'
        $idle = Start-Client 'idle', '--port', $proxyHost.Port
        Read-ClientLine $idle | Should -Be 'READY'

        $get = Start-ChildPwsh -Name 'control-get' -Command "Get-SmtpdProxy -SpoolPath $(Quote $spool) | Select-Object Id, ProcessId, IsRunning, Active, SpoolPath, @{ n = 'Port'; e = { `$_.LocalEndPoints[0].Port } }, @{ n = 'Type'; e = { `$_.GetType().Name } } | ConvertTo-Json -Compress"
        $get.Process.WaitForExit(60000) | Should -BeTrue
        $get.Process.ExitCode | Should -Be 0 -Because ((& $get.Log) -join "`n")
        $seen = Get-Output $get | ConvertFrom-Json
        $seen.Id | Should -Be 1
        $seen.ProcessId | Should -Be $proxyHost.Process.Id
        $seen.Port | Should -Be $proxyHost.Port
        $seen.IsRunning | Should -BeTrue
        $seen.Active | Should -Be 2
        $seen.Type | Should -Be 'ProxyStatus'

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $stop = Start-ChildPwsh -Name 'control-stop' -Command "Stop-SmtpdProxy -SpoolPath $(Quote $spool) -Confirm:`$false -PassThru | Select-Object Id, IsRunning, Accepted | ConvertTo-Json -Compress"
        Read-ClientLine $idle | Should -Match '^GOT 421 '
        $inflight.StandardInput.WriteLine('go')
        $inflight.StandardInput.Flush()
        Read-ClientLine $inflight | Should -Match '^REPLY 250 '
        $stop.Process.WaitForExit(60000) | Should -BeTrue
        $stop.Process.ExitCode | Should -Be 0 -Because ((& $stop.Log) -join "`n")
        $stopped = Get-Output $stop | ConvertFrom-Json
        $stopped.IsRunning | Should -BeFalse
        $stopped.Accepted | Should -Be 1 -Because 'the answer comes once the proxy has stopped'
        $proxyHost.Process.WaitForExit(30000) | Should -BeTrue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 40
        $proxyHost.Process.ExitCode | Should -Be 0
        Test-PortOpen $proxyHost.Port | Should -BeFalse
        (Get-Output $proxyHost) | Should -Match 'stop requested through the control channel'
        Assert-Stored -Spool $spool -Subject 'inflight-control'
        Assert-NothingLeft -Spool $spool
    }

    It 'shows a proxy of this process as the same status, in the same table columns' {
        $spool = Join-Path $TestDrive 'spool-same'
        $p = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $rules -SpoolPath $spool -DnsServer $dns.EndPoint
        try {
            $status = @(Get-SmtpdProxy -SpoolPath $spool)
            $status | Should -HaveCount 1
            $status[0] | Should -BeOfType ([SmtpdModule.Engine.Smtp.ProxyStatus])
            $status[0].Id | Should -Be $p.Id
            $status[0].LocalEndPoints[0].Port | Should -Be $p.LocalEndPoints[0].Port
            $status[0].ControlPath | Should -Be $p.ControlPath
            $header = { param($o) @((($o | Format-Table | Out-String) -split '\r?\n' | Where-Object { $_.Trim() })[0].Trim() -split '\s+') }
            & $header $status[0] | Should -Be (& $header $p)
            Get-SmtpdProxy -SpoolPath $spool -Id 999 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpdProxyNotFound,*'
        }
        finally { $p | Stop-SmtpdProxy -Confirm:$false }
        Get-SmtpdProxy -SpoolPath $spool | Should -BeNullOrEmpty -Because 'a stopped proxy leaves no endpoint'
    }

    It 'shows a forwarder as the same status through Get-SmtpFwd -SpoolPath, and stops it with Stop-SmtpFwd -SpoolPath -Id' {
        $spool = Join-Path $TestDrive 'spool-fwd-same'
        $drop = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'drop-fwd-same') -Force).FullName
        $f = Start-SmtpFwd -SpoolPath $spool -PickupDirectory $drop
        try {
            $status = @(Get-SmtpFwd -SpoolPath $spool)
            $status | Should -HaveCount 1
            $status[0] | Should -BeOfType ([SmtpdModule.Engine.Forwarding.ForwarderStatus])
            $status[0].Id | Should -Be $f.Id
            $status[0].ProcessId | Should -Be $PID
            $status[0].Target | Should -Be $f.Target
            $status[0].Owner | Should -Be $f.Owner
            $status[0].IsRunning | Should -BeTrue
            $header = { param($o) @((($o | Format-Table | Out-String) -split '\r?\n' | Where-Object { $_.Trim() })[0].Trim() -split '\s+') }
            & $header $status[0] | Should -Be (& $header $f)
            Stop-SmtpFwd -SpoolPath $spool -Id 999 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpFwdNotFound,*'
            $f.IsRunning | Should -BeTrue
            $stopped = $status | Stop-SmtpFwd -Confirm:$false -PassThru
            $stopped.IsRunning | Should -BeFalse
            $f.IsRunning | Should -BeFalse -Because 'the status piped to Stop-SmtpFwd stopped the forwarder it came from'
        }
        finally { if ($f.IsRunning) { $f | Stop-SmtpFwd -Confirm:$false } }
        Get-SmtpFwd -SpoolPath $spool | Should -BeNullOrEmpty
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 0
    }

    It 'removes the endpoint of a killed process and never reports it as running' -Skip:$IsWindows {
        $spool = Join-Path $TestDrive 'spool-stale'
        $proxyHost = Start-ProxyHost -Spool $spool -Name 'stale-host'
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 1
        $proxyHost.Process.Kill()
        $proxyHost.Process.WaitForExit(10000) | Should -BeTrue
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 1 -Because 'SIGKILL leaves the socket behind'
        Get-SmtpdProxy -SpoolPath $spool -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 0 -Because 'the stale endpoint is removed'
        Stop-SmtpdProxy -SpoolPath $spool -Id 1 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpdProxyNotFound,*'
    }
}

Describe 'Start-SmtpFwd -Wait stopped with deliveries in flight' -Skip:$IsWindows {
    It 'on <How>: finishes what it started, records it, gives the rest back, exits 0; nothing is lost or sent twice' -ForEach @(
        @{ How = 'SIGTERM' }
        @{ How = 'Stop-SmtpFwd -SpoolPath' }
    ) {
        $name = if ($How -eq 'SIGTERM') { 'fwd-term' } else { 'fwd-control' }
        $spool = New-FilledSpool -Name $name -Count 6 -To 'slow@example.com'
        $downstream = Start-DownstreamServer -Python $python -Capture (Join-Path $TestDrive "downstream-$name") -Processes $processes -Option '--slow-seconds', '3'
        $fwd = Start-ChildPwsh -Name $name -Command ("Start-SmtpFwd -SpoolPath $(Quote $spool) -SmartHost 127.0.0.1:$($downstream.Port) -TlsMode None " +
            "-MaxConnections 2 -PollInterval '00:00:01' -StopTimeoutSeconds 30 -Wait | Out-Null`n'after the wait'")
        Wait-Until { @(Get-DownstreamEvent $downstream 'slow').Count -ge 1 } -Seconds 60 -Because 'a delivery is in flight' -Context $fwd.Log

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        if ($How -eq 'SIGTERM') {
            Send-Signal 'TERM' $fwd.Process.Id
        }
        else {
            $stop = Start-ChildPwsh -Name "$name-stop" -Command "Stop-SmtpFwd -SpoolPath $(Quote $spool) -Confirm:`$false -PassThru | Select-Object IsRunning, Forwarded, Active | ConvertTo-Json -Compress"
        }
        $fwd.Process.WaitForExit(60000) | Should -BeTrue -Because ((& $fwd.Log) -join "`n")
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 40
        $fwd.Process.ExitCode | Should -Be 0 -Because ((& $fwd.Log) -join "`n")

        $delivered = @(Get-DownstreamSubject $downstream)
        $delivered.Count | Should -BeGreaterOrEqual 1 -Because 'the delivery in flight finished'
        $delivered.Count | Should -BeLessThan 6 -Because 'the forwarder claimed nothing more once asked to stop'
        $out = Get-Output $fwd
        @([regex]::Matches($out, ' forwarded delivered=')).Count | Should -Be $delivered.Count -Because 'the console shows each delivery'
        $out | Should -Match "stop: forwarded $($delivered.Count), "
        $out | Should -Match 'after the wait'
        if ($How -ne 'SIGTERM') {
            $stop.Process.WaitForExit(30000) | Should -BeTrue
            $answer = Get-Output $stop | ConvertFrom-Json
            $answer.IsRunning | Should -BeFalse
            $answer.Forwarded | Should -Be $delivered.Count -Because 'the answer says what it delivered'
            $answer.Active | Should -Be 0
        }
        @(Get-SmtpdSpool -SpoolPath $spool).Count | Should -Be (6 - $delivered.Count) -Because 'what was delivered left the spool, the rest is kept'
        @(Get-SmtpdSpool -SpoolPath $spool | Where-Object State -EQ 'Active') | Should -HaveCount 0
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 0

        # The rest goes out once, and nothing delivered goes out again.
        $summary = Start-SmtpFwd -SpoolPath $spool -SmartHost "127.0.0.1:$($downstream.Port)" -TlsMode None -MaxConnections 4 -Once
        $summary.Forwarded | Should -Be (6 - $delivered.Count)
        $all = @(Get-DownstreamSubject $downstream)
        $all | Should -HaveCount 6
        @($all | Sort-Object -Unique) | Should -HaveCount 6
    }
}

Describe 'Start-SmtpFwd -Once stopped by a signal' -Skip:$IsWindows {
    It 'on SIGTERM cancels the deliveries in flight, gives their messages back and exits 0 at once' {
        $spool = New-FilledSpool -Name 'once-term' -Count 4 -To 'slow@example.com'
        $downstream = Start-DownstreamServer -Python $python -Capture (Join-Path $TestDrive 'downstream-once-term') -Processes $processes -Option '--slow-seconds', '60'
        $once = Start-ChildPwsh -Name 'once-term' -Command ("Start-SmtpFwd -SpoolPath $(Quote $spool) -SmartHost 127.0.0.1:$($downstream.Port) -TlsMode None " +
            "-MaxConnections 2 -Once | Out-Null`n'after the run'")
        Wait-Until { @(Get-DownstreamEvent $downstream 'slow').Count -ge 1 } -Seconds 60 -Because 'a delivery is in flight' -Context $once.Log

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Send-Signal 'TERM' $once.Process.Id
        $once.Process.WaitForExit(30000) | Should -BeTrue -Because ((& $once.Log) -join "`n")
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20 -Because 'the server would hold the delivery for a minute'
        $once.Process.ExitCode | Should -Be 0 -Because ((& $once.Log) -join "`n")
        (Get-Output $once) | Should -Match 'after the run'
        $left = @(Get-SmtpdSpool -SpoolPath $spool)
        $left | Should -HaveCount 4 -Because 'nothing was delivered, and every message is back in the spool'
        @($left | Where-Object State -EQ 'Active') | Should -HaveCount 0
        Get-Files (Join-Path $spool 'control') | Should -HaveCount 0
    }
}

Describe 'build.ps1 -Task Start: build/Start-Default.ps1 run through dotnet pwsh' -Skip:$IsWindows {
    It 'stops gracefully when the dotnet host gets SIGTERM: the transaction in flight finishes, the serving pwsh exits, the port closes' {
        $repo = (Resolve-Path -LiteralPath "$PSScriptRoot/../..").ProviderPath
        $data = Join-Path $TestDrive 'start-data'
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'start-task') -Force).FullName
        $out = Join-Path $dir 'stdout.txt'
        $err = Join-Path $dir 'stderr.txt'
        # As the README runs it: the dotnet CLI, the tool's shim, then the pwsh that serves.
        $arguments = @('pwsh', '-NoProfile', '-NonInteractive', '-File', "`"$repo/build/Start-Default.ps1`"",
            '-ModulePath', "`"$modulePath`"", '-RulesPath', "`"$rules`"", '-DataPath', "`"$data`"",
            '-Listen', '127.0.0.1:0', '-DnsServer', $dns.EndPoint)
        $wrapper = Start-Process -FilePath 'dotnet' -ArgumentList $arguments -WorkingDirectory $repo `
            -RedirectStandardOutput $out -RedirectStandardError $err -NoNewWindow -PassThru
        $processes.Add($wrapper)
        $log = { 'start stdout:'; Get-Content -LiteralPath $out -ErrorAction SilentlyContinue
                 'start stderr:'; Get-Content -LiteralPath $err -ErrorAction SilentlyContinue }.GetNewClosure()
        Wait-Until { $wrapper.HasExited -or ((Get-Content -LiteralPath $out -Raw -ErrorAction SilentlyContinue) -match 'start: listening on 127\.0\.0\.1:\d+') } `
            -Seconds 90 -Because 'the Start script listens' -Context $log
        $text = Get-Content -LiteralPath $out -Raw
        $port = [int]([regex]::Match($text, 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)
        $server = Get-Process -Id ([int]([regex]::Match($text, 'serving in process (\d+)').Groups[1].Value))
        $server.Id | Should -Not -Be $wrapper.Id -Because 'dotnet pwsh serves in a child process'
        $processes.Add($server)

        $message = New-MessageFile -Name 'inflight-start'
        $inflight = Start-Client 'inflight', '--port', $port, '--body-file', $message, '--partial-bytes', 700
        Read-ClientLine $inflight | Should -Be 'SENT 700'
        $idle = Start-Client 'idle', '--port', $port
        Read-ClientLine $idle | Should -Be 'READY'

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Send-Signal 'TERM' $wrapper.Id
        Read-ClientLine $idle | Should -Match '^GOT 421 ' -Because "the serving pwsh stops when its wrapper goes away`n$((& $log) -join "`n")"
        $inflight.StandardInput.WriteLine('go')
        $inflight.StandardInput.Flush()
        Read-ClientLine $inflight | Should -Match '^REPLY 250 '
        $server.WaitForExit(60000) | Should -BeTrue -Because ((& $log) -join "`n")
        $wrapper.WaitForExit(10000) | Should -BeTrue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 40
        Test-PortOpen $port | Should -BeFalse
        $text = Get-Content -LiteralPath $out -Raw
        $text | Should -Match 'stop: stopped accepted=1'
        $text | Should -Match 'forwarder stopped: forwarded'
        $spool = Join-Path $data 'spool'
        # Acknowledged, so kept: delivered into the drop folder, or still in the spool.
        @(Get-Files (Join-Path $data 'drop') '*.eml').Count + @(Get-SmtpdSpool -SpoolPath $spool).Count | Should -Be 1
        Assert-NothingLeft -Spool $spool
    }
}
