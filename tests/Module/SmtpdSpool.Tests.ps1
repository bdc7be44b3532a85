#Requires -Version 7.0
# Get-SmtpdSpool, Suspend-, Resume-, Remove- and Export-SmtpdSpoolItem: binding, filters, output,
# ShouldProcess, errors and -Id completion. The messages are real: BeforeAll sends them with python3's
# smtplib through a proxy on 127.0.0.1 port 0 that asks only the NXDOMAIN knotd on the loopback, then
# puts them into their states by renaming files as about_SmtpdSpool describes, with a status/<id>.status
# record where a forwarder would have written one. Tests that change a spool work on a copy of it.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython

    $utf8 = [System.Text.UTF8Encoding]::new($false)

    # One SMTP transaction with smtplib; returns the id of the message it left in ready/.
    function Send-SpoolMail {
        param([string] $From, [string[]] $To, [string] $Subject)
        $before = @(Get-ChildItem -LiteralPath (Join-Path $spool 'ready') -Filter *.msg -File).BaseName
        $body = Join-Path $TestDrive "$Subject.eml"
        # CRLF lines, UTF-8 text and a line smtplib dot-stuffs: the export must give it all back.
        $text = "From: $From`r`nTo: $($To -join ', ')`r`nSubject: $Subject`r`n`r`nhello $Subject`r`n.dotted line`r`nna$([char]0xEF)ve$([char]0x2019)s`r`n"
        [System.IO.File]::WriteAllBytes($body, $utf8.GetBytes($text))
        $arguments = @($sendScript, '--port', $port, '--from', $From, '--body-file', $body)
        foreach ($t in $To) { $arguments += '--to', $t }
        $out = & $python @arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $r = $out | ConvertFrom-Json
        if ($r.data[0] -ne 250) { throw "The proxy did not accept the message: $out" }
        $new = @(Get-ChildItem -LiteralPath (Join-Path $spool 'ready') -Filter *.msg -File).BaseName |
            Where-Object { $_ -notin $before }
        if (@($new).Count -ne 1) { throw "Expected one new message in ready/, found: $new" }
        $new
    }

    # Moves a message file between state directories, as a forwarder's rename would.
    function Move-SpoolFile {
        param([string] $SpoolPath, [string] $Id, [string] $To, [string] $From = 'ready')
        $target = Join-Path $SpoolPath $To
        $null = New-Item -ItemType Directory -Path $target -Force
        Move-Item -LiteralPath (Join-Path $SpoolPath "$From/$Id.msg") -Destination (Join-Path $target "$Id.msg")
    }

    # A delivery record in the format of DeliveryStatusSerializer.
    function Set-SpoolStatus {
        param([string] $SpoolPath, [string] $Id, [string[]] $Line)
        $text = ((@('smtpd-status 1') + $Line) -join "`n") + "`n"
        [System.IO.File]::WriteAllText((Join-Path $SpoolPath "status/$Id.status"), $text, $utf8)
    }

    # A private copy of the fixture spool for a test that changes it.
    function Copy-TestSpool {
        param([string] $Name)
        $copy = Join-Path $TestDrive $Name
        Copy-Item -LiteralPath $spool -Destination $copy -Recurse
        $copy
    }

    # The bytes after the envelope's empty line: the message as spooled.
    function Get-SpooledMessage {
        param([string] $Path)
        $bytes = [System.IO.File]::ReadAllBytes($Path)
        for ($i = 1; $i -lt $bytes.Length; $i++) {
            if ($bytes[$i] -eq 10 -and $bytes[$i - 1] -eq 10) { return , [byte[]]$bytes[($i + 1)..($bytes.Length - 1)] }
        }
        throw "$Path has no empty line ending an envelope."
    }

    function Get-MessageFile {
        param([string] $SpoolPath, [string] $Id)
        Get-ChildItem -LiteralPath $SpoolPath -Filter "$Id.msg" -Recurse -File
    }

    # A valid spool id no message has: for owners under active/ and for unknown-id tests.
    $unknownId = '20200101T000000-aaaaaaaaaaaaaaaaaaaaaaaa'
    $ownerId = '20200101T000000-forwarder222222222222222'

    $rules = New-RulesFile 'allow_all' 'allow:ALL:ALL:ALL'
    $spool = Join-Path $TestDrive 'spool'
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -NoReverseLookup `
        -RulesPath $rules -SpoolPath $spool
    $port = $proxy.LocalEndPoints[0].Port

    $ids = @{
        Ready    = Send-SpoolMail -From '<a@example.org>' -To '<b@example.test>' -Subject 'ready'
        Deferred = Send-SpoolMail -From '<alice@example.org>' -To '<carol@example.test>', '<dave@other.test>' -Subject 'deferred'
        Failed   = Send-SpoolMail -From '<>' -To '<postmaster@example.test>' -Subject 'failed'
        Held     = Send-SpoolMail -From '<Bob@Example.ORG>' -To '<x@example.test>' -Subject 'held'
    }

    Move-SpoolFile $spool $ids.Deferred 'deferred'
    $next = [DateTimeOffset]::new(2099, 1, 2, 3, 4, 5, [TimeSpan]::Zero)
    Set-SpoolStatus $spool $ids.Deferred @(
        'attempts: 2'
        'first-attempt: 2025-01-02T03:04:05.0000000Z'
        'last-attempt: 2025-01-02T03:09:05.0000000Z'
        'next-attempt: 2099-01-02T03:04:05.0000000Z'
        'last-error: 452 4.2.2 Mailbox full'
        'rcpt: 0 delivered 2025-01-02T03:04:06.0000000Z 2.0.0 250 2.0.0 Ok'
        'rcpt: 1 pending 2025-01-02T03:09:05.0000000Z 4.2.2 452 4.2.2 Mailbox full'
    )
    Move-SpoolFile $spool $ids.Failed 'failed'
    Set-SpoolStatus $spool $ids.Failed @(
        'attempts: 1'
        'last-attempt: 2025-01-02T03:04:05.0000000Z'
        'last-error: 550 5.1.1 No such user'
        'rcpt: 0 failed 2025-01-02T03:04:05.0000000Z 5.1.1 550 5.1.1 No such user'
    )
    Move-SpoolFile $spool $ids.Held 'held'
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'Get-SmtpdSpool' {
    It 'writes every message with its envelope and record, state by state' {
        $items = Get-SmtpdSpool -SpoolPath $spool
        $items | Should -HaveCount 4
        $items | Should -BeOfType ([SmtpdModule.Engine.Spool.SpoolItem])
        $items.Id | Should -Be $ids.Ready, $ids.Deferred, $ids.Held, $ids.Failed
        $items.State | Should -Be 'Ready', 'Deferred', 'Held', 'Failed'
        $items.SpoolPath | Should -Be ($spool, $spool, $spool, $spool)

        $r = $items[0]
        $r.Sender | Should -BeExactly 'a@example.org'
        $r.Recipients.Address | Should -BeExactly 'b@example.test'
        $r.Recipients[0].Status | Should -Be 'Pending'
        $r.ClientAddress | Should -Be '127.0.0.1'
        $r.Helo | Should -Be 'client.test'
        $r.Attempts | Should -Be 0
        $r.NextAttempt | Should -BeNullOrEmpty
        $r.Owner | Should -BeNullOrEmpty
        $r.Received | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow)
        $r.Size | Should -Be (Get-SpooledMessage (Get-MessageFile $spool $r.Id).FullName).Length
        "$r" | Should -Be $r.Id
    }

    It 'shows the delivery record of a deferred message' {
        $d = Get-SmtpdSpool $spool -Id $ids.Deferred
        $d.State | Should -Be 'Deferred'
        $d.Attempts | Should -Be 2
        $d.NextAttempt | Should -Be $next
        $d.LastError | Should -Be '452 4.2.2 Mailbox full'
        $d.Recipients.Address | Should -Be 'carol@example.test', 'dave@other.test'
        $d.Recipients.Status | Should -Be 'Delivered', 'Pending'
        $d.Recipients[1].StatusCode | Should -Be '4.2.2'
        $d.Recipients[1].Diagnostic | Should -Be '452 4.2.2 Mailbox full'
    }

    It 'filters by -State, one or several' {
        (Get-SmtpdSpool $spool -State Deferred).Id | Should -Be $ids.Deferred
        (Get-SmtpdSpool $spool -State Failed, Held).Id | Should -Be $ids.Held, $ids.Failed
        Get-SmtpdSpool $spool -State Active | Should -BeNullOrEmpty
    }

    It 'filters by -Id: plain, wildcard, and without regard to case' {
        (Get-SmtpdSpool $spool -Id $ids.Held).Id | Should -Be $ids.Held
        (Get-SmtpdSpool $spool -Id $ids.Held.ToUpperInvariant()).Id | Should -Be $ids.Held
        (Get-SmtpdSpool $spool -Id ($ids.Failed.Substring(0, 20) + '*')).Id | Should -Be $ids.Failed
        (Get-SmtpdSpool $spool -Id ($ids.Failed.Substring(0, 20).ToUpperInvariant() + '*')).Id | Should -Be $ids.Failed
        (Get-SmtpdSpool $spool -Id '2*').Id | Should -HaveCount 4
        (Get-SmtpdSpool $spool -Id $ids.Ready, $ids.Failed).Id | Should -Be $ids.Ready, $ids.Failed
        Get-SmtpdSpool $spool -Id '1999*' -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty -Because 'a wildcard that matches nothing is not an error'
    }

    It 'filters by -Sender with wildcards, without regard to case; an empty -Sender finds bounces' {
        (Get-SmtpdSpool $spool -Sender 'a@example.org').Id | Should -Be $ids.Ready
        (Get-SmtpdSpool $spool -Sender 'BOB@example.org').Id | Should -Be $ids.Held
        (Get-SmtpdSpool $spool -Sender '*@example.org').Id | Should -Be $ids.Ready, $ids.Deferred, $ids.Held
        (Get-SmtpdSpool $spool -Sender 'al*', 'b?b@*').Id | Should -Be $ids.Deferred, $ids.Held
        (Get-SmtpdSpool $spool -Sender '').Id | Should -Be $ids.Failed
        Get-SmtpdSpool $spool -Sender 'nobody@*' | Should -BeNullOrEmpty
    }

    It 'filters by -Recipient with wildcards: a message matches when any of its recipients does' {
        (Get-SmtpdSpool $spool -Recipient 'dave@OTHER.test').Id | Should -Be $ids.Deferred
        (Get-SmtpdSpool $spool -Recipient '*@example.test').Id | Should -HaveCount 4
        (Get-SmtpdSpool $spool -Recipient 'postmaster@*', 'x@*').Id | Should -Be $ids.Held, $ids.Failed
        Get-SmtpdSpool $spool -Recipient '*@nowhere.test' | Should -BeNullOrEmpty
    }

    It 'combines its filters: all of them must match' {
        (Get-SmtpdSpool $spool -Sender '*@example.org' -Recipient '*@other.test').Id | Should -Be $ids.Deferred
        (Get-SmtpdSpool $spool -Sender '*@example.org' -State Ready, Held).Id | Should -Be $ids.Ready, $ids.Held
        (Get-SmtpdSpool $spool -Id $ids.Ready, $ids.Held -State Held).Id | Should -Be $ids.Held
        Get-SmtpdSpool $spool -Id $ids.Ready -State Failed -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty -Because 'the message exists; the state filter left it out'
    }

    It 'reports a plain -Id the spool does not have as SpoolItemNotFound and writes the others' {
        $out = Get-SmtpdSpool $spool -Id $unknownId, $ids.Ready, '../ready' -ErrorVariable err -ErrorAction SilentlyContinue
        $out.Id | Should -Be $ids.Ready
        $err | Should -HaveCount 2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $unknownId
        $err[0].Exception | Should -BeOfType ([SmtpdModule.Engine.Spool.SpoolException])
        $err[1].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[1].TargetObject | Should -Be '../ready'
    }

    It 'reports a plain -Id given among wildcards when the spool does not have it' {
        $out = Get-SmtpdSpool $spool -Id "$($ids.Held.Substring(0, 30))*", $unknownId -ErrorVariable err -ErrorAction SilentlyContinue
        $out.Id | Should -Be $ids.Held
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[0].TargetObject | Should -Be $unknownId
    }

    It 'reports an unreadable message as SpoolItemCorrupt and lists the others' {
        $s = Copy-TestSpool 'spool-corrupt'
        $bad = '20200101T000000-corrupt22222222222222222'
        [System.IO.File]::WriteAllText((Join-Path $s "deferred/$bad.msg"), "not an envelope`n`nbody", $utf8)
        $out = Get-SmtpdSpool $s -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -HaveCount 4
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemCorrupt,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be $bad

        Get-SmtpdSpool $s -Id $bad -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemCorrupt,*'
        $err[0].TargetObject | Should -Be $bad

        Get-SmtpdSpool $s -Id 'zz*' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty -Because 'only the messages -Id asks for are reported'
    }

    It 'resolves -SpoolPath against the current location and PowerShell drives, and takes it by position' {
        Push-Location -LiteralPath $TestDrive
        try { $relative = Get-SmtpdSpool ./spool }
        finally { Pop-Location }
        $relative | Should -HaveCount 4
        $relative[0].SpoolPath | Should -Be $spool
        (Get-SmtpdSpool -SpoolPath 'TestDrive:/spool') | Should -HaveCount 4
    }

    It 'takes -SpoolPath from a proxy on the pipeline' {
        $items = Get-SmtpdProxy -Id $proxy.Id | Get-SmtpdSpool -State Ready
        $items.Id | Should -Be $ids.Ready
    }

    It 'ends with SpoolNotFound, targeting the path, when <Case>' -ForEach @(
        @{ Case = 'the directory has no spool'; Path = 'TestDrive:/not-a-spool'; Make = $true }
        @{ Case = 'the directory does not exist'; Path = 'TestDrive:/missing/spool'; Make = $false }
    ) {
        if ($Make) { $null = New-Item -ItemType Directory -Path $Path -Force }
        $full = (Join-Path $TestDrive ($Path -replace '^TestDrive:/', ''))
        $e = { Get-SmtpdSpool -SpoolPath $Path } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be $full
        Join-Path $full 'ready' | Should -Not -Exist
    }

    It 'ends with SpoolPathIsFile, targeting the path, when -SpoolPath is a file' {
        $file = Join-Path $TestDrive 'spool-is-a-file'
        Set-Content -LiteralPath $file -Value 'not a folder'
        $e = { Get-SmtpdSpool -SpoolPath $file } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolPathIsFile,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $file
    }

    It 'ends with SpoolNotFound for a path outside the file system' {
        $e = { Get-SmtpdSpool -SpoolPath 'Env:/PATH' } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolNotFound,*'
        $e.TargetObject | Should -Be 'Env:/PATH'
    }

    It 'declares SpoolItem as the output type of Get, Suspend and Resume' {
        foreach ($name in 'Get-SmtpdSpool', 'Suspend-SmtpdSpoolItem', 'Resume-SmtpdSpoolItem') {
            (Get-Command $name).OutputType.Type | Should -Contain ([SmtpdModule.Engine.Spool.SpoolItem])
        }
        (Get-Command Export-SmtpdSpoolItem).OutputType.Type | Should -Contain ([System.IO.FileInfo])
    }
}

Describe 'Suspend-SmtpdSpoolItem and Resume-SmtpdSpoolItem' {
    It 'holds a message and releases it again; -PassThru writes the item in its new state' {
        $s = Copy-TestSpool 'spool-hold'
        Suspend-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $s | Should -BeNullOrEmpty
        Join-Path $s "held/$($ids.Ready).msg" | Should -Exist
        Join-Path $s "ready/$($ids.Ready).msg" | Should -Not -Exist
        (Get-SmtpdSpool $s -Id $ids.Ready).State | Should -Be 'Held'

        $held = Suspend-SmtpdSpoolItem $ids.Ready -SpoolPath $s -PassThru
        $held.State | Should -Be 'Held' -Because 'holding a held message does nothing'

        $r = Resume-SmtpdSpoolItem $ids.Ready -SpoolPath $s -PassThru
        $r | Should -BeOfType ([SmtpdModule.Engine.Spool.SpoolItem])
        $r.Id | Should -Be $ids.Ready
        $r.State | Should -Be 'Ready'
        Join-Path $s "ready/$($ids.Ready).msg" | Should -Exist
        Join-Path $s "held/$($ids.Ready).msg" | Should -Not -Exist

        (Resume-SmtpdSpoolItem $ids.Ready -SpoolPath $s -PassThru).State | Should -Be 'Ready' -Because 'resuming a ready message does nothing'
    }

    It 'makes every deferred message due now when Get-SmtpdSpool pipes them to Resume' {
        $s = Copy-TestSpool 'spool-retry'
        Move-SpoolFile $s $ids.Ready 'deferred'
        Get-SmtpdSpool -SpoolPath $s -State Deferred | Resume-SmtpdSpoolItem
        Get-SmtpdSpool $s -State Deferred | Should -BeNullOrEmpty
        $ready = Get-SmtpdSpool $s -State Ready
        $ready.Id | Sort-Object | Should -Be ($ids.Ready, $ids.Deferred | Sort-Object)
        $d = $ready | Where-Object Id -eq $ids.Deferred
        $d.NextAttempt | Should -BeNullOrEmpty
        $d.Attempts | Should -Be 2 -Because 'the record is kept'
        $d.Recipients.Status | Should -Be 'Delivered', 'Pending' -Because 'a delivered recipient is never sent again'
        Get-Content -LiteralPath (Join-Path $s "status/$($ids.Deferred).status") | Should -Contain 'attempts: 2'
    }

    It 'tries the failed recipients of a failed message again' {
        $s = Copy-TestSpool 'spool-failed'
        $r = Get-SmtpdSpool $s -State Failed | Resume-SmtpdSpoolItem -PassThru
        $r.Id | Should -Be $ids.Failed
        $r.State | Should -Be 'Ready'
        $r.Recipients[0].Status | Should -Be 'Pending'
        $r.LastError | Should -Be '550 5.1.1 No such user'
    }

    It 'changes nothing with -WhatIf' {
        $s = Copy-TestSpool 'spool-whatif-hold'
        Suspend-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $s -WhatIf -PassThru | Should -BeNullOrEmpty
        Resume-SmtpdSpoolItem -Id $ids.Held, $ids.Deferred -SpoolPath $s -WhatIf -PassThru | Should -BeNullOrEmpty
        (Get-SmtpdSpool $s).State | Should -Be 'Ready', 'Deferred', 'Held', 'Failed'
    }

    It 'reports an unknown id as SpoolItemNotFound and still handles the others' {
        $s = Copy-TestSpool 'spool-unknown-hold'
        $out = Suspend-SmtpdSpoolItem -Id $unknownId, $ids.Ready, 'NUL' -SpoolPath $s -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
        $out.Id | Should -Be $ids.Ready
        $err | Should -HaveCount 2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $unknownId
        $err[1].TargetObject | Should -Be 'NUL'

        Resume-SmtpdSpoolItem -Id $unknownId -SpoolPath $s -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[0].TargetObject | Should -Be $unknownId
    }

    It 'takes ids exactly as the spool writes them: an id in upper case is unknown' {
        Resume-SmtpdSpoolItem -Id $ids.Held.ToUpperInvariant() -SpoolPath $spool -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        (Get-SmtpdSpool $spool -Id $ids.Held).State | Should -Be 'Held'
    }

    It 'ends with SpoolNotFound when -SpoolPath has no spool' {
        $e = { Resume-SmtpdSpoolItem -Id $ids.Ready -SpoolPath 'TestDrive:/no-spool-here' } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolNotFound,*'
        $e.TargetObject | Should -Be (Join-Path $TestDrive 'no-spool-here')
    }

    It 'declares confirm impact Medium for Suspend and Low for Resume' {
        [System.Management.Automation.CommandMetadata]::new((Get-Command Suspend-SmtpdSpoolItem)).ConfirmImpact | Should -Be 'Medium'
        [System.Management.Automation.CommandMetadata]::new((Get-Command Resume-SmtpdSpoolItem)).ConfirmImpact | Should -Be 'Low'
    }
}

Describe 'A message a forwarder is delivering' {
    BeforeAll {
        $busy = Copy-TestSpool 'spool-busy'
        Move-SpoolFile $busy $ids.Deferred "active/$ownerId" -From 'deferred'
    }

    It 'is listed as Active with its owner' {
        $a = Get-SmtpdSpool $busy -State Active
        $a.Id | Should -Be $ids.Deferred
        $a.Owner | Should -Be $ownerId
    }

    It 'cannot be <Verb>: SpoolItemBusy, targeting the id, and the message stays where it is' -ForEach @(
        @{ Verb = 'held'; Command = 'Suspend-SmtpdSpoolItem' }
        @{ Verb = 'released'; Command = 'Resume-SmtpdSpoolItem' }
        @{ Verb = 'removed'; Command = 'Remove-SmtpdSpoolItem' }
    ) {
        & $Command -Id $ids.Deferred, $ids.Ready -SpoolPath $busy -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "SpoolItemBusy,*$($Command -replace '-', '')*"
        $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $err[0].TargetObject | Should -Be $ids.Deferred
        Join-Path $busy "active/$ownerId/$($ids.Deferred).msg" | Should -Exist
    }

    It 'can still be exported' {
        $f = Export-SmtpdSpoolItem -Id $ids.Deferred -SpoolPath $busy -Destination $TestDrive
        $f.Name | Should -Be "$($ids.Deferred).eml"
    }
}

Describe 'Remove-SmtpdSpoolItem' {
    It 'removes nothing with -WhatIf' {
        $s = Copy-TestSpool 'spool-whatif-remove'
        Get-SmtpdSpool $s | Remove-SmtpdSpoolItem -WhatIf
        Get-SmtpdSpool $s | Should -HaveCount 4
        Join-Path $s "status/$($ids.Deferred).status" | Should -Exist
    }

    It 'removes the messages and their records, and reports the ids it does not know' {
        $s = Copy-TestSpool 'spool-remove'
        Remove-SmtpdSpoolItem -Id $ids.Deferred, $unknownId, $ids.Held -SpoolPath $s -Confirm:$false `
            -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-SmtpdSpool $s).Id | Should -Be $ids.Ready, $ids.Failed
        Get-MessageFile $s $ids.Deferred | Should -BeNullOrEmpty
        Join-Path $s "status/$($ids.Deferred).status" | Should -Not -Exist
        # Nothing on its way out is left; the free slots a proxy made are no messages.
        Get-ChildItem -LiteralPath (Join-Path $s 'incoming') -File | Where-Object { -not (Test-FreeSlot $_) } |
            Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $unknownId
    }

    It 'removes what Get-SmtpdSpool pipes to it' {
        $s = Copy-TestSpool 'spool-remove-pipe'
        Get-SmtpdSpool $s -Sender '*@example.org' | Remove-SmtpdSpoolItem -Confirm:$false
        (Get-SmtpdSpool $s).Id | Should -Be $ids.Failed
    }

    It 'declares confirm impact High' {
        [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-SmtpdSpoolItem)).ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Export-SmtpdSpoolItem' {
    It 'writes one .eml file per message into a directory, with the bytes exactly as spooled, Received: header included' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'export-dir')
        $files = Get-SmtpdSpool $spool | Export-SmtpdSpoolItem -Destination $dir.FullName
        $files | Should -HaveCount 4
        $files | Should -BeOfType ([System.IO.FileInfo])
        foreach ($id in $ids.Values) {
            $exported = [System.IO.File]::ReadAllBytes((Join-Path $dir "$id.eml"))
            $spooled = Get-SpooledMessage (Get-MessageFile $spool $id).FullName
            $exported.Length | Should -Be $spooled.Length
            [System.Linq.Enumerable]::SequenceEqual($exported, $spooled) | Should -BeTrue -Because "$id.eml is the spooled message"
            $utf8.GetString($exported) | Should -BeLike "Received: *`r`n.dotted line`r`n*"
        }
        Get-SmtpdSpool $spool | Should -HaveCount 4 -Because 'exporting changes nothing in the spool'
    }

    It 'writes to a file name, resolved against the current location' {
        Push-Location -LiteralPath $TestDrive
        try { $f = Export-SmtpdSpoolItem $ids.Held ./held-copy.eml -SpoolPath ./spool }
        finally { Pop-Location }
        $f.FullName | Should -Be (Join-Path $TestDrive 'held-copy.eml')
        $spooled = Get-SpooledMessage (Get-MessageFile $spool $ids.Held).FullName
        [System.Linq.Enumerable]::SequenceEqual([System.IO.File]::ReadAllBytes($f.FullName), $spooled) | Should -BeTrue
    }

    It 'refuses to overwrite a file with SpoolExportFileExists unless -Force is given' {
        $target = Join-Path $TestDrive 'existing.eml'
        [System.IO.File]::WriteAllText($target, 'keep me')
        $out = Export-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $spool -Destination $target -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolExportFileExists,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].TargetObject | Should -Be $target
        Get-Content -LiteralPath $target -Raw | Should -Be 'keep me'

        $f = Export-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $spool -Destination $target -Force
        $f.FullName | Should -Be $target
        $spooled = Get-SpooledMessage (Get-MessageFile $spool $ids.Ready).FullName
        [System.Linq.Enumerable]::SequenceEqual([System.IO.File]::ReadAllBytes($target), $spooled) | Should -BeTrue
    }

    It 'refuses to write two messages into one file, even with -Force' {
        $target = Join-Path $TestDrive 'one-file.eml'
        $out = Export-SmtpdSpoolItem -Id $ids.Ready, $ids.Held -SpoolPath $spool -Destination $target -Force `
            -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -HaveCount 1
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolExportFileExists,*'
        $err[0].TargetObject | Should -Be $target
        [System.IO.File]::ReadAllText($target) | Should -BeLike '*Subject: ready*'
    }

    It 'writes nothing with -WhatIf' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'export-whatif')
        Export-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $spool -Destination $dir.FullName -WhatIf | Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath $dir.FullName | Should -BeNullOrEmpty
    }

    It 'reports an unknown or malformed id as SpoolItemNotFound and writes no file for it' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'export-unknown')
        $out = Export-SmtpdSpoolItem -Id $unknownId, '../escape', $ids.Failed -SpoolPath $spool -Destination $dir.FullName `
            -ErrorVariable err -ErrorAction SilentlyContinue
        $out.Name | Should -Be "$($ids.Failed).eml"
        $err | Should -HaveCount 2
        $err.FullyQualifiedErrorId | Should -BeLike 'SpoolItemNotFound,*'
        $err.TargetObject | Should -Be $unknownId, '../escape'
        (Get-ChildItem -LiteralPath $TestDrive -Filter '*escape*' -Recurse) | Should -BeNullOrEmpty
        (Get-ChildItem -LiteralPath $dir.FullName).Name | Should -Be "$($ids.Failed).eml"
    }

    It 'refuses a -Destination in a folder that does not exist with SpoolExportDestinationNotFound, before any message' -ForEach @(
        @{ Name = 'no-such-dir/x.eml'; Folder = 'no-such-dir' }
        @{ Name = 'no-such-dir-either/'; Folder = 'no-such-dir-either' }
    ) {
        $target = Join-Path $TestDrive $Name
        $e = { Export-SmtpdSpoolItem -Id $ids.Ready, $ids.Held -SpoolPath $spool -Destination $target } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'SpoolExportDestinationNotFound,*'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be $target
        $e.Exception.Message | Should -BeLike "*$Folder*does not exist*"
        Test-Path -LiteralPath (Join-Path $TestDrive $Folder) | Should -BeFalse
    }

    It 'reports a file it cannot write as SpoolExportFailed' {
        # A name longer than any file system allows (255 bytes): the folder exists, the write fails.
        $target = Join-Path $TestDrive (('x' * 300) + '.eml')
        Export-SmtpdSpoolItem -Id $ids.Ready -SpoolPath $spool -Destination $target -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SpoolExportFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'WriteError'
        $err[0].TargetObject | Should -Be $target
    }
}

Describe 'Completion of -Id' {
    It 'offers the ids of the -SpoolPath spool on <Command>' -ForEach @(
        @{ Command = 'Get-SmtpdSpool' }
        @{ Command = 'Suspend-SmtpdSpoolItem' }
        @{ Command = 'Resume-SmtpdSpoolItem' }
        @{ Command = 'Remove-SmtpdSpoolItem' }
        @{ Command = 'Export-SmtpdSpoolItem' }
    ) {
        $line = "$Command -SpoolPath $(Quote $spool) -Id "
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Sort-Object | Should -Be ($ids.Values | Sort-Object)

        $line = "$Command -SpoolPath $(Quote $spool) -Id $($ids.Held.Substring(0, 20))"
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Be $ids.Held
    }

    It 'resolves a relative -SpoolPath and a wildcard word' {
        Push-Location -LiteralPath $TestDrive
        try {
            $line = "Get-SmtpdSpool -SpoolPath ./spool -Id *$($ids.Failed.Substring(30))"
            $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        }
        finally { Pop-Location }
        $r.CompletionMatches.CompletionText | Should -Be $ids.Failed
    }

    It 'offers nothing without a spool, and creates nothing' {
        $line = 'Resume-SmtpdSpoolItem -Id '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
        $empty = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'completion-empty')
        $line = "Resume-SmtpdSpoolItem -SpoolPath $(Quote $empty.FullName) -Id "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath $empty.FullName | Should -BeNullOrEmpty
    }
}
