#Requires -Version 7.0
# Compare-SmtpdRule replays what a live proxy decided: a proxy on the loopback, asking the test
# knotd (tests/fixtures/dns), takes real sessions from python's smtplib and from swaks, each from
# its own 127/8 address, and logs its decisions; the replay of that log against the same rules
# changes nothing, and against rules with one line changed, exactly the decisions that line touches.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"

    $lines = @(
        'allow:127.0.0.2:ALL:ALL'                             # the own host
        'noto:RBL.bl2.test:ALL:ALL:550 5.7.1 %I is listed'    # bl2.test lists 127.0.0.3
        'noto:ALL:*@spam.test:ALL:550 5.7.1 no mail from %F'
        'allow:ALL:ALL:*@example.test'
        'noto:ALL:ALL:ALL:550 5.7.1 relaying denied')
    $rules = New-RulesFile -Name rules -Line $lines
    $log = Join-Path $TestDrive 'smtpd.log'
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive spool) `
        -LogPath $log -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -NoReverseLookup
    $port = $proxy.LocalEndPoints[0].Port

    function Send-Smtplib([string] $Source, [string] $From, [string[]] $To) { Send-SmtplibMail -Port $port -Source $Source -From $From -To $To }
    function Send-Swaks([string] $Source, [string] $From, [string] $To) { Send-SwaksMail -Port $port -Source $Source -From $From -To $To -QuitAfterRcpt }

    # Six recipients in four sessions; each comment says the line that decides.
    $a = Send-Smtplib 127.0.0.2 '<a@corp.test>' '<out@elsewhere.test>'                        # 1: allow, a relay for the own host
    $b = Send-Swaks 127.0.0.3 'x@example.org' 'b@example.test'                                # 2: listed
    $c = Send-Swaks 127.0.0.4 'offers@spam.test' 'b@example.test'                             # 3: refused sender
    $d = Send-Smtplib 127.0.0.5 '<ok@example.org>' '<b@example.test>', '<c@example.test>', '<out@elsewhere.test>'   # 4, 4, 5
    Wait-Until -Seconds 15 -Because 'the proxy logs each of the six decisions' -Condition {
        @(Select-String -LiteralPath $log -Pattern '"event":"decision"' -SimpleMatch -ErrorAction SilentlyContinue).Count -ge 6
    }
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'Compare-SmtpdRule on a live proxy''s log' {
    It 'saw the traffic decided as the rules say' {
        $a.rcpt[0][0] | Should -Be 250
        $b | Should -Match '<\*\* 550 5\.7\.1 127\.0\.0\.3 is listed'
        $c | Should -Match '<\*\* 550 5\.7\.1 no mail from <offers@spam\.test>'
        $d.rcpt | ForEach-Object { $_[0] } | Should -Be 250, 250, 550
    }

    It 'finds no difference when the rules are the same' {
        $changes = @(Compare-SmtpdRule -Path $rules -LogPath $log -DnsServer $dns.EndPoint -NoReverseLookup -InformationVariable info)
        $changes | Should -BeNullOrEmpty
        $summary = $info | Where-Object { $_.Tags -contains 'RuleComparisonSummary' } | ForEach-Object MessageData
        $summary.Total | Should -Be 6
        $summary.Unchanged | Should -Be 6
        $summary.AskedLive | Should -Be 0 -Because 'the log holds every fact the same rules need'
    }

    It 'finds no difference asking DNS again with -Live' {
        $summary = Compare-SmtpdRule -Path $rules -LogPath $log -DnsServer $dns.EndPoint -NoReverseLookup -Live -Summary
        $summary.Total | Should -Be 6
        $summary.Changed | Should -Be 0
    }

    It 'reports exactly the decision a changed line touches, from the recorded facts' {
        $candidate = New-RulesFile -Name candidate-sender -Line (@($lines[0, 1]) + 'noto:ALL:*@bulk.test:ALL:550 5.7.1 no mail from %F' + $lines[3, 4])
        $changes = @(Compare-SmtpdRule -Path $candidate -LogPath $log -DnsServer $dns.EndPoint -NoReverseLookup -InformationVariable info)
        $changes.Count | Should -Be 1
        $changes[0].ClientAddress | Should -Be '127.0.0.4'
        $changes[0].From | Should -Be '<offers@spam.test>'
        $changes[0].To | Should -Be '<b@example.test>'
        $changes[0].Before | Should -Be 'Refused'
        $changes[0].BeforeLine | Should -Be 3
        $changes[0].BeforeReply | Should -BeLike '550 5.7.1 no mail from <offers@spam.test>*'
        $changes[0].After | Should -Be 'Accepted'
        $changes[0].AfterLine | Should -Be 4
        $changes[0].AskedLive | Should -BeNullOrEmpty
        $summary = ($info | Where-Object { $_.Tags -contains 'RuleComparisonSummary' }).MessageData
        $summary.Changes['Refused->Accepted'] | Should -Be 1
        $summary.Changed | Should -Be 1
    }

    It 'asks DNS for a fact the log never held, and says so' {
        # bl.test does not list 127.0.0.3: the listed client's mail would now be accepted.
        $candidate = New-RulesFile -Name candidate-list -Line (@($lines[0]) + 'noto:RBL.bl.test:ALL:ALL:550 5.7.1 %I is listed' + $lines[2..4])
        $changes = @(Compare-SmtpdRule -Path $candidate -LogPath $log -DnsServer $dns.EndPoint -NoReverseLookup)
        $changes.Count | Should -Be 1
        $changes[0].ClientAddress | Should -Be '127.0.0.3'
        $changes[0].Before | Should -Be 'Refused'
        $changes[0].After | Should -Be 'Accepted'
        $changes[0].AfterLine | Should -Be 4
        $changes[0].AskedLive | Should -Contain 'Dns 3.0.0.127.bl.test A'
    }

    It 'keeps to a time window' {
        $summary = Compare-SmtpdRule -Path $rules -LogPath $log -DnsServer $dns.EndPoint -NoReverseLookup -After ([DateTime]::UtcNow.AddDays(1)) -Summary
        $summary.Total | Should -Be 0
    }

    It 'reports a line it cannot read, names it, and goes on' {
        $damaged = Join-Path $TestDrive 'damaged.log'
        $text = [System.IO.File]::ReadAllLines($log)
        [System.IO.File]::WriteAllLines($damaged, [string[]](@('{"time":"2026-12-01T00:00:00Z","event":"decision","v":1,"stage"') + $text))
        $summary = Compare-SmtpdRule -Path $rules -LogPath $damaged -DnsServer $dns.EndPoint -NoReverseLookup -Summary -ErrorVariable err -ErrorAction SilentlyContinue
        $summary.Total | Should -Be 6
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ReplayLogLineUnreadable,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be "${damaged}:1"
    }

    It 'refuses a log that is not there with a stable error' {
        { Compare-SmtpdRule -Path $rules -LogPath (Join-Path $TestDrive 'none.log') -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReplayLogNotFound,SmtpdModule.Commands.CompareSmtpdRuleCommand'
    }
}

# Logs of other servers, written for this test (tests/fixtures/traffic-logs): Postfix accepted
# mail.partner.example's and mx.bulk.example's mail for example.test and refused unknown[198.51.100.7]
# a relay; Exchange's tracking log holds only the three messages it received.
Describe 'Compare-SmtpdRule on a Postfix log and an Exchange message tracking log' {
    BeforeAll {
        $fixtures = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/traffic-logs").ProviderPath
        $postfixLog = Join-Path $fixtures 'postfix-maillog.txt'
        $exchangeLog = Join-Path $fixtures 'exchange-msgtrk.log'
        $policy = @(
            'noto:ALL:*@spam.example:ALL:550 5.7.1 no mail from %F'
            'allow:ALL:ALL:*@example.test'
            'noto:ALL:ALL:ALL:554 5.7.1 relay access denied')
        $samePolicy = New-RulesFile -Name import-policy -Line $policy
        $noBulkSender = New-RulesFile -Name import-no-bulk-sender -Line (@('noto:ALL:*@bulk.example:ALL:550 5.7.1 no mail from %F') + $policy[1, 2])
        $noBulkHost = New-RulesFile -Name import-no-bulk-host -Line (@('noto:*.bulk.example:ALL:ALL:550 5.7.1 no mail from %H') + $policy[1, 2])
    }

    It 'finds no difference in Postfix''s log under rules that decide as Postfix did' {
        $changes = @(Compare-SmtpdRule -Path $samePolicy -LogPath $postfixLog -DnsServer $dns.EndPoint -InformationVariable info)
        $changes | Should -BeNullOrEmpty
        $summary = ($info | Where-Object { $_.Tags -contains 'RuleComparisonSummary' }).MessageData
        $summary.Total | Should -Be 3 -Because 'two accepted recipients and one refused relay; the local pickup message is not SMTP traffic'
        $summary.AskedLive | Should -Be 0 -Because 'Postfix''s log says each client''s verified name'
    }

    It 'reports exactly the Postfix decisions a changed line touches: by sender, and by the logged client name' {
        $bySender = @(Compare-SmtpdRule -Path $noBulkSender -LogPath $postfixLog -DnsServer $dns.EndPoint -LogFormat Postfix)
        $bySender.Count | Should -Be 1 -Because 'the refused relay from bulk.example stays refused'
        $bySender[0].ClientAddress | Should -Be '203.0.113.5'
        $bySender[0].ClientName | Should -Be 'mx.bulk.example'
        $bySender[0].To | Should -Be '<bob@example.test>'
        $bySender[0].Before | Should -Be 'Accepted'
        $bySender[0].BeforeLine | Should -BeNullOrEmpty -Because 'Postfix has no rules line'
        $bySender[0].After | Should -Be 'Refused'
        $bySender[0].AfterLine | Should -Be 1

        $byHost = @(Compare-SmtpdRule -Path $noBulkHost -LogPath $postfixLog -DnsServer $dns.EndPoint)
        $byHost.Count | Should -Be 1
        $byHost[0].ClientName | Should -Be 'mx.bulk.example'
        $byHost[0].AfterReply | Should -Be '550 5.7.1 no mail from mx.bulk.example'
        $byHost[0].AskedLive | Should -BeNullOrEmpty
    }

    It 'finds no difference in Exchange''s tracking log under rules that decide as Exchange did' {
        # Exchange logs no verified client name: the replay decides as a proxy without reverse lookups.
        $summary = Compare-SmtpdRule -Path $samePolicy -LogPath $exchangeLog -DnsServer $dns.EndPoint -NoReverseLookup -Summary
        $summary.Total | Should -Be 3 -Because 'three recipients received over SMTP; the store driver''s delivery is not'
        $summary.Changed | Should -Be 0
    }

    It 'reports exactly the Exchange decisions a changed line touches' {
        $changes = @(Compare-SmtpdRule -Path $noBulkSender -LogPath $exchangeLog -DnsServer $dns.EndPoint -NoReverseLookup -LogFormat ExchangeTracking)
        $changes.Count | Should -Be 2
        @($changes | ForEach-Object { "$($_.From) $($_.To) $($_.Before)->$($_.After) $($_.AfterLine)" }) |
            Should -Be '<spam@bulk.example> <victim@example.test> Accepted->Refused 1', '<promo@bulk.example> <bob@example.test> Accepted->Refused 1'
    }

    It 'refuses a log whose format it cannot tell, with a stable error' {
        $other = Join-Path $TestDrive 'other.log'
        Set-Content -LiteralPath $other -Value 'just some text', 'and more'
        Compare-SmtpdRule -Path $samePolicy -LogPath $other -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ReplayLogUnreadable,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be $other
    }
}
