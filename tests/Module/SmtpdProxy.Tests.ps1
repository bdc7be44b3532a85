#Requires -Version 7.0
# Start-SmtpdProxy, Get-SmtpdProxy, Stop-SmtpdProxy: binding, output, live counters, errors,
# ShouldProcess, -LogPath, -Wait and rules reloading. Every proxy listens on 127.0.0.1 port 0 and
# asks only the NXDOMAIN knotd on the loopback (-DnsServer), so no test reaches this machine's
# resolver or any other host. Mail is sent with python3's smtplib (tests/fixtures/smtp/pester_send.py).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython

    # Everything this file starts, so AfterAll can stop it whatever a test did.
    $started = [System.Collections.Generic.List[object]]::new()
    $children = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $processes = $children   # Start-ChildPwsh (TestHelpers.ps1) adds to $processes

    # A message as it should be stored (CRLF line ends); returns its path.
    function New-MessageFile {
        param([string] $Name, [string] $Subject = 'test')
        $path = Join-Path $TestDrive $Name
        $text = "From: <a@example.org>`r`nTo: <b@example.test>`r`nSubject: $Subject`r`n`r`nhello`r`n.a line smtplib dot-stuffs`r`n"
        [System.IO.File]::WriteAllBytes($path, [System.Text.Encoding]::ASCII.GetBytes($text))
        $path
    }

    # Start-SmtpdProxy on the loopback with the test DNS server; remembers the proxy for AfterAll.
    function Start-TestProxy {
        param([string] $RulesPath, [string] $SpoolPath, [hashtable] $More = @{})
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $RulesPath -SpoolPath $SpoolPath @More
        $started.Add($p)
        $p
    }

    # One SMTP transaction with smtplib; the replies as an object (see pester_send.py).
    function Send-TestMail {
        param([int] $Port, [string[]] $To = '<b@example.test>', [string] $From = '<a@example.org>',
            [string] $BodyFile, [switch] $StartTls)
        $arguments = @($sendScript, '--port', $Port, '--from', $From)
        foreach ($t in $To) { $arguments += '--to', $t }
        if ($BodyFile) { $arguments += '--body-file', $BodyFile }
        if ($StartTls) { $arguments += '--starttls' }
        $out = & $python @arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }

    # True when something accepts a TCP connection on 127.0.0.1:$Port.
    function Test-Port {
        param([int] $Port)
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect([System.Net.IPAddress]::Loopback, $Port); $true }
        catch [System.Net.Sockets.SocketException] { $false }
        catch [System.Management.Automation.MethodInvocationException] { $false }
        finally { $client.Dispose() }
    }

    # A raw connection that has read the 220 greeting: a session that stays idle.
    function Open-IdleSession {
        param([int] $Port)
        $client = [System.Net.Sockets.TcpClient]::new()
        $client.Connect([System.Net.IPAddress]::Loopback, $Port)
        $client.ReceiveTimeout = 10000
        $reader = [System.IO.StreamReader]::new($client.GetStream(), [System.Text.Encoding]::ASCII)
        $greeting = $reader.ReadLine()
        [pscustomobject]@{ Client = $client; Reader = $reader; Greeting = $greeting }
    }

    # Start-SmtpdProxy -Wait in another runspace of this process, returned once its proxy runs:
    # PowerShell (that runspace's pipeline), Async (its BeginInvoke) and Proxy.
    function Start-WaitingProxy {
        param([string] $SpoolPath)
        $ps = [powershell]::Create()
        $waiting = [pscustomobject]@{ PowerShell = $ps; Async = $null; Proxy = $null; SpoolPath = $SpoolPath }
        try {
            $null = $ps.AddScript({
                    param($Module, $Dns, $Rules, $Spool)
                    Import-Module $Module
                    Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $Dns -RulesPath $Rules -SpoolPath $Spool -Wait
                }).AddArgument($modulePath).AddArgument($dns.EndPoint).AddArgument($allowRules).AddArgument($SpoolPath)
            $waiting.Async = $ps.BeginInvoke()
            Wait-Until { @(Get-SmtpdProxy | Where-Object SpoolPath -eq $SpoolPath).Count -eq 1 } -Because 'the waiting proxy runs' `
                -Context { $ps.Streams.Error | Out-String }
            $waiting.Proxy = Get-SmtpdProxy | Where-Object SpoolPath -eq $SpoolPath
            $waiting
        }
        catch {
            Stop-WaitingProxy $waiting
            throw
        }
    }

    # Ends what Start-WaitingProxy started, whatever the test did to it.
    function Stop-WaitingProxy {
        param($Waiting)
        $Waiting.PowerShell.Dispose()
        Get-SmtpdProxy | Where-Object SpoolPath -eq $Waiting.SpoolPath | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
    }

    $allowRules = New-RulesFile 'allow_all' 'allow:ALL:ALL:ALL'
    $message = New-MessageFile 'message.eml'
    # smtplib dot-stuffs the line that starts with a dot and the proxy removes the stuffing again:
    # what is counted and stored is the file as it is.
    $messageBytes = (Get-Item -LiteralPath $message).Length
}

AfterAll {
    foreach ($p in $started) {
        if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false }
    }
    foreach ($c in $children) {
        if (-not $c.HasExited) { $c.Kill(); [void]$c.WaitForExit(5000) }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'Start-SmtpdProxy' {
    It 'returns at once with the running proxy: id, bound end point, paths, start time, zero counters' {
        $before = [DateTimeOffset]::Now
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-start"
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10

        $p | Should -HaveCount 1
        $p | Should -BeOfType ([SmtpdModule.Engine.Smtp.SmtpProxy])
        $p.IsRunning | Should -BeTrue
        $p.Id | Should -BeGreaterThan 0
        $p.LocalEndPoints | Should -HaveCount 1
        $p.LocalEndPoints[0].Address | Should -Be ([System.Net.IPAddress]::Loopback)
        $p.LocalEndPoints[0].Port | Should -BeGreaterThan 0
        $p.RulesPath | Should -Be $allowRules
        $p.SpoolPath | Should -Be (Join-Path $TestDrive 'spool-start')
        $p.StartTime | Should -BeGreaterOrEqual $before.AddSeconds(-1)
        $p.StartTime | Should -BeLessOrEqual ([DateTimeOffset]::Now)
        foreach ($counter in 'Sessions', 'Active', 'Accepted', 'Refused', 'Denied', 'Bytes') {
            $p.$counter | Should -Be 0 -Because "$counter starts at zero"
        }
        Test-Port $p.LocalEndPoints[0].Port | Should -BeTrue
        foreach ($dir in 'incoming', 'ready', 'active', 'deferred', 'held', 'failed', 'corrupt') {
            Join-Path $p.SpoolPath $dir | Should -Exist
        }
    }

    It 'declares SmtpProxy as the output type of all three cmdlets' {
        foreach ($name in 'Start-SmtpdProxy', 'Get-SmtpdProxy', 'Stop-SmtpdProxy') {
            (Get-Command $name).OutputType.Type | Should -Contain ([SmtpdModule.Engine.Smtp.SmtpProxy])
        }
    }

    It 'resolves relative -RulesPath and -SpoolPath against the current PowerShell location' {
        Push-Location -LiteralPath $TestDrive
        try { $p = Start-TestProxy -RulesPath ./allow_all -SpoolPath ./spool-relative }
        finally { Pop-Location }
        $p.RulesPath | Should -Be $allowRules
        $p.SpoolPath | Should -Be (Join-Path $TestDrive 'spool-relative')
        Join-Path $TestDrive 'spool-relative/ready' | Should -Exist
    }

    It 'accepts a PowerShell drive path such as TestDrive:' {
        $p = Start-TestProxy -RulesPath 'TestDrive:/allow_all' -SpoolPath 'TestDrive:/spool-drive'
        $p.SpoolPath | Should -Be (Join-Path $TestDrive 'spool-drive')
    }

    It 'moves its counters live as mail arrives, and Get-SmtpdProxy shows them' {
        $rules = New-RulesFile 'counting_rules' @(
            'noto:ALL:ALL:*@spam.test:550 5.7.1 no mail for %T'
            'deny:ALL:*@evil.test:ALL:550 5.7.1 go away'
            'allow:ALL:ALL:ALL'
        )
        $p = Start-TestProxy -RulesPath $rules -SpoolPath "$TestDrive/spool-counters"
        $port = $p.LocalEndPoints[0].Port

        $r = Send-TestMail -Port $port -To '<x@spam.test>', '<b@example.test>' -BodyFile $message
        $r.rcpt[0][0] | Should -Be 550
        $r.rcpt[1][0] | Should -Be 250
        $r.data[0] | Should -Be 250
        $p.Accepted | Should -Be 1
        $p.Refused | Should -Be 1
        $p.Bytes | Should -Be $messageBytes -Because 'Bytes counts the message as received, without our Received: header'

        $r = Send-TestMail -Port $port -From '<bad@evil.test>' -To '<b@example.test>'
        $r.rcpt[0][0] | Should -Be 550
        $p.Denied | Should -Be 1

        Wait-Until { $p.Active -eq 0 } -Because 'both sessions have closed' -Context { "Active = $($p.Active)" }
        $p.Sessions | Should -Be 2

        $g = Get-SmtpdProxy -Id $p.Id
        $g.Sessions | Should -Be 2
        $g.Active | Should -Be 0
        $g.Accepted | Should -Be 1
        $g.Refused | Should -Be 1
        $g.Denied | Should -Be 1
        $g.Bytes | Should -Be $messageBytes
        $stored = @(Get-ChildItem -LiteralPath "$TestDrive/spool-counters/ready" -File)
        $stored | Should -HaveCount 1
        $stored[0].Extension | Should -Be '.msg'
        # One file: the envelope header, an empty line, then the message as stored, our Received:
        # header first and then the bytes sent.
        $file = [System.IO.File]::ReadAllBytes($stored[0].FullName)
        $text = [System.Text.Encoding]::UTF8.GetString($file)
        $split = $text.IndexOf("`n`n")
        $split | Should -BeGreaterThan 0
        $text.Substring(0, $split) -split "`n" | Should -Contain "id: $($stored[0].BaseName)"
        @($text.Substring(0, $split) -split "`n" -match '^rcpt: <b@example\.test>; rules-sha256=') | Should -HaveCount 1
        $text.Substring($split + 2) | Should -BeLike 'Received: *'
        $sent = [System.IO.File]::ReadAllBytes($message)
        [System.Linq.Enumerable]::SequenceEqual(
            [System.ArraySegment[byte]]::new($file, $file.Length - $sent.Length, $sent.Length), [byte[]]$sent) |
            Should -BeTrue -Because 'the message file ends with the bytes sent'
    }

    It 'counts a session as Active while it is open' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-active"
        $s = Open-IdleSession $p.LocalEndPoints[0].Port
        try {
            $s.Greeting | Should -BeLike '220 *'
            Wait-Until { $p.Active -eq 1 } -Because 'the session is counted' -Context { "Active = $($p.Active)" }
            $p.Sessions | Should -Be 1
        }
        finally { $s.Client.Dispose() }
        Wait-Until { $p.Active -eq 0 } -Because 'the closed session is no longer counted' -Context { "Active = $($p.Active)" }
    }

    It 'writes every event as a JSON line to -LogPath: connect, decision and accepted for a message' {
        $log = Join-Path $TestDrive 'logs/new-folder/proxy.jsonl'
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-log" -More @{ LogPath = $log }
        $r = Send-TestMail -Port $p.LocalEndPoints[0].Port -BodyFile $message
        $r.data[0] | Should -Be 250
        $id = ($r.data[1] -split ' ')[-1]
        Stop-SmtpdProxy -InputObject $p -Confirm:$false

        $lines = @(Get-Content -LiteralPath $log)
        $lines.Count | Should -BeGreaterThan 4
        $events = foreach ($line in $lines) { $line | ConvertFrom-Json -ErrorAction Stop }
        $events.event | Should -Contain 'start'
        $events.event | Should -Contain 'connect'
        $events.event | Should -Contain 'stop'
        $decision = @($events | Where-Object event -eq 'decision')
        $decision | Should -HaveCount 1
        $decision[0].action | Should -Be 'Allow'
        $decision[0].to | Should -Be '<b@example.test>'
        $decision[0].line | Should -Be 1
        $accepted = @($events | Where-Object event -eq 'accepted')
        $accepted | Should -HaveCount 1
        $accepted[0].id | Should -Be $id
        $accepted[0].bytes | Should -Be $messageBytes
        $accepted[0].session | Should -Be $decision[0].session
    }

    It 'follows edits of the rules file without a restart, and keeps the last good rules after a broken edit' {
        $rules = New-RulesFile 'reloading_rules' 'allow:ALL:ALL:ALL'
        $log = Join-Path $TestDrive 'reload.jsonl'
        $p = Start-TestProxy -RulesPath $rules -SpoolPath "$TestDrive/spool-reload" -More @{ LogPath = $log }
        $port = $p.LocalEndPoints[0].Port
        (Send-TestMail -Port $port -To '<x@reload.test>').rcpt[0][0] | Should -Be 250

        # Longer than before, so the change shows in the length whatever the time stamp resolution.
        $null = New-RulesFile 'reloading_rules' @('noto:ALL:ALL:*@reload.test:550 5.7.1 refused by the new rule', 'allow:ALL:ALL:ALL')
        Wait-Until { (Send-TestMail -Port $port -To '<x@reload.test>').rcpt[0][0] -eq 550 } `
            -Because 'a RCPT is decided by the edited file' -Context { Get-Content -LiteralPath $log }
        $r = Send-TestMail -Port $port -To '<x@reload.test>', '<y@other.test>'
        $r.rcpt[0] | Should -Be @(550, '5.7.1 refused by the new rule')
        $r.rcpt[1][0] | Should -Be 250
        $p.IsRunning | Should -BeTrue
        (Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object event -eq 'rules') | Should -Not -BeNullOrEmpty

        $null = New-RulesFile 'reloading_rules' @('alow:ALL:ALL:ALL', 'allow:ALL:ALL:ALL # a longer broken file')
        Wait-Until {
            (Send-TestMail -Port $port -To '<x@reload.test>').rcpt[0][0] | Should -Be 550 -Because 'the last good rules stay in force'
            @(Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object { $_.event -eq 'error' -and $_.message -like 'rules not reloaded*' }).Count -gt 0
        } -Because 'the broken edit is reported' -Context { Get-Content -LiteralPath $log }
    }

    It 'removes the header fields named by -RemoveHeader (wildcards, replacing the default list)' {
        $spool = "$TestDrive/spool-firewall"
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath $spool -More @{ RemoveHeader = 'X-Corp-*' }
        $body = Join-Path $TestDrive 'firewall.eml'
        $text = "X-Corp-Secret: 1`r`n folded`r`nX-MS-Exchange-Organization-SCL: -1`r`nSubject: fw`r`n`r`nX-Corp-Secret: body`r`n"
        [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes($text))
        (Send-TestMail -Port $p.LocalEndPoints[0].Port -BodyFile $body).data[0] | Should -Be 250
        $stored = [System.IO.File]::ReadAllText((Get-ChildItem -LiteralPath "$spool/ready" -Filter *.msg)[0].FullName)
        $stored | Should -BeLike "*`r`nX-MS-Exchange-Organization-SCL: -1`r`nSubject: fw`r`n`r`nX-Corp-Secret: body`r`n"
        $stored | Should -Not -BeLike '*X-Corp-Secret: 1*'
        $stored | Should -Not -BeLike '*folded*'
    }

    It 'refuses a message with a bare LF under -BareLineEnding Reject and keeps the session' {
        $spool = "$TestDrive/spool-bare"
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath $spool -More @{ BareLineEnding = 'Reject' }
        # smtplib turns bare LFs into CRLF itself: a raw socket sends them.
        $s = Open-IdleSession -Port $p.LocalEndPoints[0].Port
        $w = [System.IO.StreamWriter]::new($s.Client.GetStream(), [System.Text.Encoding]::ASCII)
        $w.NewLine = "`r`n"
        $w.AutoFlush = $true
        try {
            foreach ($line in 'HELO client.test', 'MAIL FROM:<a@example.org>', 'RCPT TO:<b@example.test>', 'DATA') {
                $w.WriteLine($line)
                $null = $s.Reader.ReadLine()
            }
            $w.Write("Subject: bare`r`n`r`none`ntwo`r`n.`r`n")
            $s.Reader.ReadLine() | Should -BeLike '550 5.5.2 *'
            $w.WriteLine('NOOP')
            $s.Reader.ReadLine() | Should -BeLike '250 *'
        }
        finally { $s.Client.Dispose() }
        @(Get-ChildItem -LiteralPath "$spool/ready" -File) | Should -HaveCount 0
    }

    It 'warns at start with file, line and column, and logs the warnings of every reload' {
        $rules = New-RulesFile 'warning_rules' @('allow:192.0.2:ALL:ALL', 'allow:ALL:ALL:ALL')
        $log = Join-Path $TestDrive 'warnings.jsonl'
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath "$TestDrive/spool-warn" `
            -LogPath $log -WarningVariable w -WarningAction SilentlyContinue
        $started.Add($p)
        @($w) | Should -HaveCount 1
        "$($w[0])" | Should -BeLike "$($rules):1:*: warning: partial address '192.0.2' never matches a full address*"
        @(Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object event -eq 'warning').message |
            Should -BeLike "$($rules):1:*: warning: *"

        # An edit that brings a new warning (line 2): the running proxy reports it when it reloads
        # (the rules are checked for changes when a recipient is decided).
        $null = New-RulesFile 'warning_rules' @('allow:ALL:ALL:*@example.test', 'allow:198.51.100:ALL:ALL', 'allow:ALL:ALL:ALL')
        Wait-Until {
            $null = Send-TestMail -Port $p.LocalEndPoints[0].Port
            @(Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object { $_.event -eq 'warning' -and $_.message -like "$($rules):2:*partial address '198.51.100'*" }).Count -eq 1
        } -Because 'the reload logs the warning of the new file' -Context { Get-Content -LiteralPath $log }
    }

    It 'announces the -SmartHost server''s smaller SIZE, without the SMTPUTF8 it lacks, and refuses a larger message' {
        $downstream = Start-DownstreamServer -Python (Get-AiosmtpdPython) -Capture (Join-Path $TestDrive 'smarthost') `
            -Processes $children -Option '--size', '1000000'
        $log = Join-Path $TestDrive 'smarthost.jsonl'
        $p = Start-TestProxy $allowRules (Join-Path $TestDrive 'spool-smarthost') @{ SmartHost = "127.0.0.1:$($downstream.Port)"; LogPath = $log }

        $small = Send-TestMail -Port $p.LocalEndPoints[0].Port -BodyFile $message
        $small.ehlo[1] | Should -Match '(?m)^SIZE 1000000$'
        $small.ehlo[1] | Should -Not -Match 'SMTPUTF8'
        $small.data[0] | Should -Be 250
        $p.SmartHostLimits.MaxSize | Should -Be 1000000

        $big = Join-Path $TestDrive 'big.eml'
        [System.IO.File]::WriteAllText($big, "Subject: big`r`n`r`n" + ((('z' * 98) + "`r`n") * 12000))
        $refused = Send-TestMail -Port $p.LocalEndPoints[0].Port -BodyFile $big   # pester_send.py declares no SIZE
        $refused.data[0] | Should -Be 552
        $refused.data[1] | Should -BeLike '5.3.4 *'
        @(Get-SmtpdSpool (Join-Path $TestDrive 'spool-smarthost')) | Should -HaveCount 1
        $learned = Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object event -EQ 'downstream'
        $learned.size | Should -Be 1000000
        $learned.smtputf8 | Should -BeFalse
        $p | Stop-SmtpdProxy -Confirm:$false
    }

    It 'offers STARTTLS with a PFX certificate and its password' {
        $cert = & "$PSScriptRoot/../tools/New-TestCertificate.ps1" -Directory "$TestDrive/tls-ok"
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-tls" -More @{
            CertificatePath = $cert.PfxPath; CertificatePassword = $cert.SecurePassword }
        $r = Send-TestMail -Port $p.LocalEndPoints[0].Port -BodyFile $message -StartTls
        $r.starttls[0] | Should -Be 220
        $r.data[0] | Should -Be 250
        $stored = @(Get-ChildItem -LiteralPath "$TestDrive/spool-tls/ready" -Filter *.msg)
        $stored | Should -HaveCount 1
        $envelope = ([System.IO.File]::ReadAllText($stored[0].FullName) -split "`n`n", 2)[0] -split "`n"
        $envelope | Should -Contain 'protocol: ESMTPS'
    }
}

Describe 'Get-SmtpdProxy' {
    BeforeAll {
        $a = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-get-a"
        $b = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-get-b"
    }

    It 'lists the running proxies in id order' {
        $all = @(Get-SmtpdProxy)
        $all.Id | Should -Contain $a.Id
        $all.Id | Should -Contain $b.Id
        $all | Should -BeOfType ([SmtpdModule.Engine.Smtp.SmtpProxy])
        ($all.Id -join ',') | Should -Be (($all.Id | Sort-Object) -join ',')
    }

    It 'filters by -Id, by position and by property name' {
        $one = @(Get-SmtpdProxy -Id $b.Id)
        $one | Should -HaveCount 1
        $one[0] | Should -Be $b
        (Get-SmtpdProxy $a.Id).Id | Should -Be $a.Id
        ([pscustomobject]@{ Id = $a.Id } | Get-SmtpdProxy).Id | Should -Be $a.Id
    }

    It 'reports an unknown id as a non-terminating SmtpdProxyNotFound error and writes the others' {
        $out = Get-SmtpdProxy -Id 2147483646, $a.Id -ErrorVariable err -ErrorAction SilentlyContinue
        @($out).Id | Should -Be $a.Id
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpdProxyNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 2147483646
    }
}

Describe 'Stop-SmtpdProxy' {
    It 'stops what Get-SmtpdProxy pipes to it: the port refuses connections and the proxy is no longer listed' {
        $a = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-a"
        $b = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-b"
        $ports = $a.LocalEndPoints[0].Port, $b.LocalEndPoints[0].Port

        $out = Get-SmtpdProxy | Stop-SmtpdProxy -Confirm:$false
        $out | Should -BeNullOrEmpty -Because 'nothing is written without -PassThru'
        $a.IsRunning | Should -BeFalse
        $b.IsRunning | Should -BeFalse
        foreach ($port in $ports) { Test-Port $port | Should -BeFalse -Because "port $port is closed" }
        @(Get-SmtpdProxy).Id | Should -Not -Contain $a.Id
        @(Get-SmtpdProxy).Id | Should -Not -Contain $b.Id
        Get-SmtpdProxy -Id $a.Id -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpdProxyNotFound,*'
    }

    It 'stops by -Id and writes the stopped proxy with -PassThru' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-id"
        $out = Stop-SmtpdProxy -Id $p.Id -PassThru -Confirm:$false
        $out | Should -HaveCount 1
        $out | Should -BeOfType ([SmtpdModule.Engine.Smtp.SmtpProxy])
        $out.Id | Should -Be $p.Id
        $out.IsRunning | Should -BeFalse
        Test-Port $p.LocalEndPoints[0].Port | Should -BeFalse
    }

    It 'takes the id by position and by property name' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-pos"
        $q = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-prop"
        Stop-SmtpdProxy $p.Id -Confirm:$false
        [pscustomobject]@{ Id = $q.Id } | Stop-SmtpdProxy -Confirm:$false
        $p.IsRunning | Should -BeFalse
        $q.IsRunning | Should -BeFalse
    }

    It 'leaves the proxy running with -WhatIf' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-whatif"
        Stop-SmtpdProxy -Id $p.Id -WhatIf
        $p | Stop-SmtpdProxy -WhatIf
        $p.IsRunning | Should -BeTrue
        (Get-SmtpdProxy -Id $p.Id).Id | Should -Be $p.Id
        $s = Open-IdleSession $p.LocalEndPoints[0].Port
        try { $s.Greeting | Should -BeLike '220 *' } finally { $s.Client.Dispose() }
    }

    It 'supports -WhatIf and -Confirm' {
        $parameters = (Get-Command Stop-SmtpdProxy).Parameters
        $parameters.Keys | Should -Contain 'WhatIf'
        $parameters.Keys | Should -Contain 'Confirm'
    }

    It 'reports an unknown id as a non-terminating SmtpdProxyNotFound error and stops the others' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-unknown"
        Stop-SmtpdProxy -Id 2147483647, $p.Id -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SmtpdProxyNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 2147483647
        $p.IsRunning | Should -BeFalse
    }

    It 'tells an idle session 421 and closes it, without waiting for -TimeoutSeconds' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-idle"
        $s = Open-IdleSession $p.LocalEndPoints[0].Port
        try {
            $s.Greeting | Should -BeLike '220 *'
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 20 -Confirm:$false
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
            $s.Reader.ReadLine() | Should -BeLike '421 *'
        }
        finally { $s.Client.Dispose() }
    }

    It 'closes the idle session in order after the 421 (FIN, not a reset)' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath "$TestDrive/spool-stop-fin"
        $s = Open-IdleSession $p.LocalEndPoints[0].Port
        try {
            Stop-SmtpdProxy -InputObject $p -Confirm:$false
            $s.Reader.ReadLine() | Should -BeLike '421 *'
            $s.Reader.ReadLine() | Should -BeNullOrEmpty -Because 'the server closed the connection in order'
        }
        finally { $s.Client.Dispose() }
    }
}

Describe 'Start-SmtpdProxy errors' {
    BeforeAll {
        $errorSpool = Join-Path $TestDrive 'spool-errors'
        function Assert-NothingRunsOn([string] $Spool) {
            @(Get-SmtpdProxy | Where-Object SpoolPath -eq $Spool) | Should -HaveCount 0 -Because 'a refused start leaves no proxy'
        }
    }

    AfterEach {
        # A start that should have failed and did not must not outlive its test.
        Get-SmtpdProxy | Where-Object SpoolPath -eq $errorSpool | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
    }

    It 'refuses -Listen <Listen> with InvalidListenEndPoint' -ForEach @(
        @{ Listen = 'nonsense' }
        @{ Listen = '1.2.3.4:99999' }
        @{ Listen = 'localhost:2525'; Shows = '127.0.0.1:2525' }
        @{ Listen = '::1:2525'; Shows = '[::1]:2525' }
        @{ Listen = '127.0.0.1'; Shows = '127.0.0.1:25' }
    ) {
        $e = { Start-SmtpdProxy -Listen $Listen -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidListenEndPoint,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $Listen
        if ($Shows) { $e.Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Shows))*" -Because 'the message shows the form to write' }
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses -SmartHost <SmartHost> with InvalidSmartHost' -ForEach @(
        @{ SmartHost = 'mail.example.test:99999' }
        @{ SmartHost = 'bad host' }
    ) {
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool -SmartHost $SmartHost } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidSmartHost,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -BeExactly $SmartHost
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses a -SpoolPath that is a file with SpoolPathIsFile' {
        $file = Join-Path $TestDrive 'spool-is-a-file'
        Set-Content -LiteralPath $file -Value 'not a folder'
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $file } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolPathIsFile,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $file
        @(Get-SmtpdProxy | Where-Object SpoolPath -eq $file) | Should -HaveCount 0
    }

    It 'refuses a -RulesPath that is a folder with RuleFileIsDirectory' {
        $folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'rules-is-a-folder')).FullName
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $folder -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'RuleFileIsDirectory,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $folder
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses a port already in use with ListenerBindFailed' {
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        try {
            $port = $busy.LocalEndpoint.Port
            $e = { Start-SmtpdProxy -Listen "127.0.0.1:$port" -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'ListenerBindFailed,*'
            $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $e.TargetObject | Should -Be "127.0.0.1:$port"
        }
        finally { $busy.Stop() }
        Assert-NothingRunsOn $errorSpool
    }

    It 'releases the end points it had bound when a later one is in use' {
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $free = $probe.LocalEndpoint.Port; $probe.Stop()
        try {
            $e = { Start-SmtpdProxy -Listen "127.0.0.1:$free", "127.0.0.1:$($busy.LocalEndpoint.Port)" -DnsServer $dns.EndPoint `
                    -RulesPath $allowRules -SpoolPath $errorSpool } | Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'ListenerBindFailed,*'
        }
        finally { $busy.Stop() }
        Test-Port $free | Should -BeFalse -Because 'the first listener was closed again'
        Assert-NothingRunsOn $errorSpool
    }

    It 'names the one end point that could not be bound, of several' {
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        try {
            $port = $busy.LocalEndpoint.Port
            $e = { Start-SmtpdProxy -Listen '127.0.0.1:0', "127.0.0.1:$port" -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'ListenerBindFailed,*'
            $e.TargetObject | Should -Be "127.0.0.1:$port"
        }
        finally { $busy.Stop() }
    }

    It 'refuses a rules file that does not exist with RuleFileNotFound' {
        $missing = Join-Path $TestDrive 'no_such_rules'
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $missing -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'RuleFileNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be $missing
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses a rules file with an error with RuleFileSyntax naming file, line and column' {
        $bad = New-RulesFile 'broken_rules' @('allow:ALL:ALL:*@example.test', 'alow:ALL:ALL:ALL')
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $bad -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        $e.CategoryInfo.Category | Should -Be 'ParserError'
        $e.TargetObject | Should -Be $bad
        $e.Exception.Message | Should -BeLike "*broken_rules:2:1:*"
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses -DnsServer <DnsServer> with InvalidDnsServer' -ForEach @(
        @{ DnsServer = 'dns.example' }
        @{ DnsServer = '127.0.0.1:99999' }
    ) {
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $DnsServer -RulesPath $allowRules -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidDnsServer,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $DnsServer
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses a PFX with a wrong password with CertificateUnusable' {
        $cert = & "$PSScriptRoot/../tools/New-TestCertificate.ps1" -Directory "$TestDrive/tls-bad"
        $wrong = ConvertTo-SecureString 'not-the-password' -AsPlainText -Force
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool `
                -CertificatePath $cert.PfxPath -CertificatePassword $wrong } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CertificateUnusable,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $cert.PfxPath
        Assert-NothingRunsOn $errorSpool
    }
    It 'reports a -LogPath that names a directory against the log, not the spool' {
        $logDir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'log-is-a-directory') -Force).FullName
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool -LogPath $logDir } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Not -BeLike 'SpoolAccessDenied,*'
        $e.TargetObject | Should -Be $logDir
    }

    It 'reports a -LogPath under a file with a stable error id' {
        $file = Join-Path $TestDrive 'a-file'
        Set-Content -LiteralPath $file -Value 'x'
        $log = Join-Path $file 'proxy.jsonl'
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool -LogPath $log } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Not -BeLike 'System.*'
        $e.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
        $e.TargetObject | Should -Be $log
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses a -RemoveHeader name with a colon with InvalidProxyOption' {
        { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool `
                -RemoveHeader 'X-Ok', 'X-Bad: yes' } | Should -Throw -ErrorId 'InvalidProxyOption,*'
        Assert-NothingRunsOn $errorSpool
    }

    It 'refuses an unknown -BareLineEnding value at binding' {
        { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool `
                -BareLineEnding Sometimes } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,*'
    }

    It 'refuses a -HostName with a line break in it' {
        { Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $allowRules -SpoolPath $errorSpool `
                -HostName "mx.test`r`nX-Injected: yes" } | Should -Throw -ErrorId 'InvalidProxyOption,*'
        Assert-NothingRunsOn $errorSpool
    }
}

Describe 'Start-SmtpdProxy -LdapServer (slapd on the loopback)' -Skip:($IsWindows -eq $true) {
    BeforeAll {
        $ldap = & "$PSScriptRoot/../tools/Start-TestLdap.ps1"
        $ldapSpool = Join-Path $TestDrive 'spool-ldap'
    }
    AfterAll {
        Get-SmtpdProxy | Where-Object SpoolPath -eq $ldapSpool | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
        if ($ldap) { $ldap.Stop() }
    }

    It 'accepts the users the directory holds and refuses the others with 550 5.1.1 at RCPT' {
        $p = Start-TestProxy -RulesPath $allowRules -SpoolPath $ldapSpool -More @{
            LdapServer = $ldap.Server; LdapSearchBase = $ldap.SearchBase; LdapCredential = $ldap.Credential }
        $port = $p.LocalEndPoints[0].Port
        $r = Send-TestMail -Port $port -To '<alice@example.test>', '<carol@example.test>', '<bob@example.test>' -BodyFile $message
        $r.rcpt | ForEach-Object { $_[0] } | Should -Be @(250, 550, 250)
        $r.rcpt[1][1] | Should -BeLike '5.1.1 *'
        $r.data[0] | Should -Be 250
    }

    It 'refuses <Case> with <Id> and starts nothing' -ForEach @(
        @{ Case = 'a server with a path'; Id = 'InvalidLdapServer'; Target = 'ldap://dc1.example.test/dc=example'
           More = @{ LdapServer = 'ldap://dc1.example.test/dc=example'; LdapSearchBase = 'dc=example,dc=test' } }
        @{ Case = 'a filter with unbalanced parentheses'; Id = 'InvalidLdapFilter'; Target = '(|(mail={0})'
           More = @{ LdapServer = 'dc1.example.test'; LdapSearchBase = 'dc=example,dc=test'; LdapFilter = '(|(mail={0})' } }
        @{ Case = '-LdapStartTls without a server'; Id = 'LdapServerMissing'; Target = 'LdapStartTls'
           More = @{ LdapStartTls = $true } }
    ) {
        $running = @(Get-SmtpdProxy | Where-Object SpoolPath -eq $ldapSpool).Count
        $e = { Start-TestProxy -RulesPath $allowRules -SpoolPath $ldapSpool -More $More } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -BeExactly $Target
        @(Get-SmtpdProxy | Where-Object SpoolPath -eq $ldapSpool) | Should -HaveCount $running -Because 'a refused start leaves no proxy'
    }
}

Describe 'Start-SmtpdProxy -Wait' {
    It 'serves mail in the foreground of its process and shows every event on the verbose stream' {
        $spool = Join-Path $TestDrive 'wait/spool'
        $child = Start-ChildPwsh -Name 'wait' -Command ("Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) " +
            "-RulesPath $(Quote $allowRules) -SpoolPath $(Quote $spool) -Wait -Verbose | Out-Null")
        try {
            Wait-Until { (Get-Content -LiteralPath $child.Out -Raw -ErrorAction SilentlyContinue) -match 'VERBOSE: .* start: listening on 127\.0\.0\.1:(\d+)' } `
                -Seconds 30 -Because 'the child proxy listens' -Context $child.Log
            $port = [int]([regex]::Match((Get-Content -LiteralPath $child.Out -Raw), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)

            $r = Send-TestMail -Port $port -BodyFile $message
            $r.data[0] | Should -Be 250
            $id = ($r.data[1] -split ' ')[-1]
            Wait-Until { (Get-Content -LiteralPath $child.Out -Raw) -match "VERBOSE: .* accepted 127\.0\.0\.1: $id" } `
                -Because 'the accepted event reaches the verbose stream' -Context $child.Log
            $child.Process.HasExited | Should -BeFalse -Because '-Wait keeps serving'
            Join-Path $spool "ready/$id.msg" | Should -Exist
        }
        finally {
            if (-not $child.Process.HasExited) { $child.Process.Kill() }
            [void]$child.Process.WaitForExit(10000)
        }
    }

    It 'shows the rules warnings as warnings on its console, at start and at each reload' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'wait-warn') -Force
        $rules = Join-Path $dir 'smtpd_check_rules'
        [System.IO.File]::WriteAllText($rules, "allow:192.0.2:ALL:ALL`nallow:ALL:ALL:ALL`n")
        $child = Start-ChildPwsh -Name 'wait-warn' -Command ("Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) " +
            "-RulesPath $(Quote $rules) -SpoolPath $(Quote (Join-Path $dir 'spool')) -Wait -Verbose | Out-Null")
        $out = $child.Out
        $show = $child.Log
        try {
            Wait-Until { (Get-Content -LiteralPath $out -Raw -ErrorAction SilentlyContinue) -match "WARNING: .*smtpd_check_rules:1:\d+: warning: partial address '192\.0\.2'" } `
                -Seconds 30 -Because 'the start shows the warning' -Context $show
            $port = [int]([regex]::Match((Get-Content -LiteralPath $out -Raw), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)
            (Get-Content -LiteralPath $out -Raw) | Should -Not -Match 'VERBOSE: .* warning' -Because 'a warning is shown once, as a warning'
            [System.IO.File]::WriteAllText($rules, "allow:ALL:ALL:*@example.test`nallow:198.51.100:ALL:ALL`nallow:ALL:ALL:ALL`n")
            Wait-Until {
                $null = Send-TestMail -Port $port -BodyFile $message
                (Get-Content -LiteralPath $out -Raw) -match "WARNING: .*smtpd_check_rules:2:\d+: warning: partial address '198\.51\.100'" } `
                -Seconds 30 -Because 'the reload shows the new warning' -Context $show
            $child.Process.HasExited | Should -BeFalse
        }
        finally {
            if (-not $child.Process.HasExited) { $child.Process.Kill() }
            [void]$child.Process.WaitForExit(10000)
        }
    }

    It 'returns when Stop-SmtpdProxy stops its proxy from another runspace' {
        $waiting = Start-WaitingProxy -SpoolPath (Join-Path $TestDrive 'spool-wait-stop')
        $ps = $waiting.PowerShell
        $async = $waiting.Async
        $p = $waiting.Proxy
        try {
            $async.IsCompleted | Should -BeFalse -Because '-Wait serves until stopped'

            Stop-SmtpdProxy -InputObject $p -Confirm:$false
            $async.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because 'Start-SmtpdProxy -Wait returns once its proxy stops'
            $out = $ps.EndInvoke($async)
            @($out).Id | Should -Be $p.Id -Because '-Wait writes the proxy before serving'
            $ps.Streams.Error | Should -BeNullOrEmpty
        }
        finally {
            Stop-WaitingProxy $waiting
        }
    }

    It 'stops its proxy gracefully within a second when the pipeline is stopped (Ctrl+C)' {
        $waiting = Start-WaitingProxy -SpoolPath (Join-Path $TestDrive 'spool-wait-ctrl-c')
        $ps = $waiting.PowerShell
        $p = $waiting.Proxy
        try {
            $port = $p.LocalEndPoints[0].Port

            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1.5   # CONVENTIONS: -Wait stops within a second
            $p.IsRunning | Should -BeFalse
            Test-Port $port | Should -BeFalse
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $ps.Streams.Error | Should -BeNullOrEmpty -Because 'stopping is not an error'
        }
        finally {
            Stop-WaitingProxy $waiting
        }
    }
}
