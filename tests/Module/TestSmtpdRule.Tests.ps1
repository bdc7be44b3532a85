#Requires -Version 5.1
# Test-SmtpdRule: binding, output, errors. Every call passes -DnsServer pointing at the test knotd
# on the loopback, so no test asks this machine's own resolver.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"
    $server = $dns.EndPoint

    $rules = New-RulesFile 'smtpd_check_rules' @(
        '# refuse one recipient, close the session for another, accept local mail'
        'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        'deny:ALL:*@evil.test:ALL:550 go away %I'
        'allow:ALL:ALL:*@example.test'
    )
}

AfterAll {
    if ($dns) { $dns.Stop() }
}

Describe 'Test-SmtpdRule decisions' {
    It 'refuses one recipient with noto and names the deciding line and reply' {
        $d = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>' -DnsServer $server
        $d | Should -HaveCount 1
        $d.Action | Should -Be 'Noto'
        $d.LineNumber | Should -Be 2
        $d.Rule | Should -BeExactly 'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        $d.Reply | Should -BeExactly '550 no mail for <x@spam.test>'
        $d.Basis | Should -Be 'Rule'
    }

    It 'denies with the rendered reply' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<bad@evil.test>' `
            -To '<y@example.test>' -DnsServer $server
        $d.Action | Should -Be 'Deny'
        $d.LineNumber | Should -Be 3
        $d.Reply | Should -BeExactly '550 go away 192.0.2.10'
    }

    It 'allows without a reply' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<y@example.test>' -DnsServer $server
        $d.Action | Should -Be 'Allow'
        $d.LineNumber | Should -Be 4
        $d.Rule | Should -BeExactly 'allow:ALL:ALL:*@example.test'
        $d.Reply | Should -BeNullOrEmpty
    }

    It 'writes one decision per recipient, in order' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>', '<y@example.test>', '<z@elsewhere.test>' -DnsServer $server
        $d | Should -HaveCount 3
        $d[0].To | Should -BeExactly '<x@spam.test>'
        $d[0].Action | Should -Be 'Noto'
        $d[1].To | Should -BeExactly '<y@example.test>'
        $d[1].Action | Should -Be 'Allow'
        $d[2].To | Should -BeExactly '<z@elsewhere.test>'
        $d[2].Action | Should -Be 'Allow'
        $d[2].LineNumber | Should -BeNullOrEmpty
        $d[2].Basis | Should -Be 'DefaultNoMatch'
    }

    It 'outputs RuleDecision objects' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<y@example.test>' -DnsServer $server
        $d | Should -BeOfType ([SmtpdModule.Engine.Rules.RuleDecision])
        (Get-Command Test-SmtpdRule).OutputType.Type | Should -Contain ([SmtpdModule.Engine.Rules.RuleDecision])
    }

    It 'takes the default action Deny with -DefaultAction Deny when no rule matches' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<z@elsewhere.test>' -DefaultAction Deny -DnsServer $server
        $d.Action | Should -Be 'Deny'
        $d.LineNumber | Should -BeNullOrEmpty
        $d.Basis | Should -Be 'DefaultNoMatch'
        $d.Reply | Should -BeExactly '550 Mail from <a@example.org> to <z@elsewhere.test> prohibited from your location (UNKNOWN@mail.example.org ip=192.0.2.10)'
    }

    It 'explains every line with -Explain' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<bad@evil.test>' `
            -To '<y@example.test>' -Explain -DnsServer $server
        $d.Explanation | Should -HaveCount 3
        $d.Explanation[0].LineNumber | Should -Be 2
        $d.Explanation[0].Result | Should -Be 'NoMatch'
        $d.Explanation[0].FailedList | Should -Be 'To'
        $d.Explanation[1].LineNumber | Should -Be 3
        $d.Explanation[1].Result | Should -Be 'Decided'
        $d.Explanation[2].LineNumber | Should -Be 4
        $d.Explanation[2].Result | Should -Be 'NotReached'
    }

    It 'records no explanation without -Explain' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<bad@evil.test>' `
            -To '<y@example.test>' -DnsServer $server
        $d.Explanation | Should -BeNullOrEmpty
    }

    It 'treats an empty -From as the null sender <>' {
        $null_rules = New-RulesFile 'null_sender' 'noto:ALL:ALL:ALL:550 from %F'
        $empty = Test-SmtpdRule -Path $null_rules -ClientAddress 192.0.2.10 -ClientName '' -From '' -To '<y@example.test>' -DnsServer $server
        $brackets = Test-SmtpdRule -Path $null_rules -ClientAddress 192.0.2.10 -ClientName '' -From '<>' -To '<y@example.test>' -DnsServer $server
        $empty.From | Should -BeExactly '<>'
        $empty.Reply | Should -BeExactly '550 from <>'
        $brackets.Reply | Should -BeExactly $empty.Reply
    }

    It 'uses -ClientName as the verified name and an empty -ClientName as UNKNOWN' {
        $names = New-RulesFile 'names' @(
            'noto:*.example.org:ALL:ALL:550 named %H'
            'noto:UNKNOWN:ALL:ALL:550 nameless %H'
        )
        $named = Test-SmtpdRule -Path $names -ClientAddress 192.0.2.10 -ClientName 'relay.example.org' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $named.LineNumber | Should -Be 1
        $named.ClientName | Should -BeExactly 'relay.example.org'
        $named.Reply | Should -BeExactly '550 named relay.example.org'
        $nameless = Test-SmtpdRule -Path $names -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $nameless.LineNumber | Should -Be 2
        $nameless.ClientName | Should -BeNullOrEmpty
        $nameless.Reply | Should -BeExactly '550 nameless UNKNOWN'
    }

    It 'answers ident only from -Ident, and an empty -Ident is no answer' {
        $identRules = New-RulesFile 'ident' @(
            'noto:KNOWN@ALL:ALL:ALL:550 user %U'
            'noto:ALL:ALL:ALL:550 nobody %U'
        )
        $with = Test-SmtpdRule -Path $identRules -ClientAddress 192.0.2.10 -ClientName '' -Ident 'Joe' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $with.LineNumber | Should -Be 1
        $with.Ident | Should -BeExactly 'joe'
        $with.Reply | Should -BeExactly '550 user joe'
        $empty = Test-SmtpdRule -Path $identRules -ClientAddress 192.0.2.10 -ClientName '' -Ident '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $empty.LineNumber | Should -Be 2
        $empty.Reply | Should -BeExactly '550 nobody UNKNOWN'
    }

    It 'accepts an IPv6 client address and matches bracketed IPv6 source patterns' {
        $v6 = New-RulesFile 'v6' 'noto:[2001:db8::]/32:ALL:ALL:550 v6 %I'
        $d = Test-SmtpdRule -Path $v6 -ClientAddress 2001:db8::77 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $d.Action | Should -Be 'Noto'
        $d.Reply | Should -BeExactly '550 v6 2001:db8::77'
    }

    It 'reads a rules file with CRLF line endings' {
        $crlf = New-RulesFile 'crlf' @('# CRLF file', 'noto:ALL:ALL:*@spam.test:550 no', 'allow:ALL:ALL:ALL') -NewLine "`r`n"
        $d = Test-SmtpdRule -Path $crlf -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<x@spam.test>', '<y@ok.test>' -DnsServer $server
        $d[0].LineNumber | Should -Be 2
        $d[0].Reply | Should -BeExactly '550 no'
        $d[1].Action | Should -Be 'Allow'
        $d[1].LineNumber | Should -Be 3
    }

    It 'resolves a relative -Path against the current PowerShell location' {
        Push-Location $TestDrive
        try {
            $d = Test-SmtpdRule -Path ./smtpd_check_rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<x@spam.test>' -DnsServer $server
        }
        finally { Pop-Location }
        $d.LineNumber | Should -Be 2
        $d.RulesPath | Should -BeExactly $rules
    }
}

Describe 'Test-SmtpdRule pipeline input' {
    It 'binds ClientAddress, ClientName, Ident, Helo, From and To from Import-Csv' {
        $csv = Join-Path $TestDrive 'transactions.csv'
        @(
            [pscustomobject]@{ ClientAddress = '192.0.2.10'; ClientName = 'mail.example.org'; Ident = ''; Helo = 'mail.example.org'; From = '<a@example.org>'; To = '<x@spam.test>' }
            [pscustomobject]@{ ClientAddress = '192.0.2.11'; ClientName = ''; Ident = 'joe'; Helo = 'x'; From = '<bad@evil.test>'; To = '<y@example.test>' }
            [pscustomobject]@{ ClientAddress = '192.0.2.12'; ClientName = ''; Ident = ''; Helo = ''; From = ''; To = '<y@example.test>' }
        ) | Export-Csv -LiteralPath $csv -NoTypeInformation

        $d = Import-Csv -LiteralPath $csv | Test-SmtpdRule -Path $rules -DnsServer $server
        $d | Should -HaveCount 3
        $d[0].Action | Should -Be 'Noto'
        $d[0].ClientName | Should -BeExactly 'mail.example.org'
        $d[1].Action | Should -Be 'Deny'
        $d[1].ClientAddress | Should -BeExactly '192.0.2.11'
        $d[1].Reply | Should -BeExactly '550 go away 192.0.2.11'
        $d[2].Action | Should -Be 'Allow'
        $d[2].From | Should -BeExactly '<>'
        $d[2].LineNumber | Should -Be 4
    }

    It 'loads the rules once for all records and warns once' {
        $warn = New-RulesFile 'warn_once' @(
            'noto:192.168.1:ALL:ALL:550 partial address'
            'allow:ALL:ALL:ALL'
        )
        $records = 1..3 | ForEach-Object {
            [pscustomobject]@{ ClientAddress = "192.0.2.$_"; ClientName = ''; From = '<a@b.test>'; To = '<c@d.test>' }
        }
        $d = $records | Test-SmtpdRule -Path $warn -DnsServer $server -WarningVariable w -WarningAction SilentlyContinue
        $d | Should -HaveCount 3
        $w | Should -HaveCount 1
    }

    It 'reports a bad ClientAddress as a non-terminating error and goes on with the next record' {
        $records = @(
            [pscustomobject]@{ ClientAddress = '192.0.2.300'; ClientName = ''; From = '<a@b.test>'; To = '<x@spam.test>' }
            [pscustomobject]@{ ClientAddress = 'not-an-address'; ClientName = ''; From = '<a@b.test>'; To = '<x@spam.test>' }
            [pscustomobject]@{ ClientAddress = '192.0.2.10'; ClientName = ''; From = '<a@b.test>'; To = '<x@spam.test>' }
        )
        $d = $records | Test-SmtpdRule -Path $rules -DnsServer $server -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidClientAddress,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -BeExactly '192.0.2.300'
        $err[1].TargetObject | Should -BeExactly 'not-an-address'
        $d | Should -HaveCount 1
        $d.ClientAddress | Should -BeExactly '192.0.2.10'
        $d.Action | Should -Be 'Noto'
    }
}

Describe 'Test-SmtpdRule errors' {
    It 'refuses a rules file with an error: terminating RuleFileSyntax naming the line' {
        $bad = New-RulesFile 'bad_rules' @(
            'allow:ALL:ALL:*@example.test'
            'alow:ALL:ALL:ALL'
        )
        $caught = $null
        try {
            Test-SmtpdRule -Path $bad -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        }
        catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        $caught.CategoryInfo.Category | Should -Be 'ParserError'
        $caught.TargetObject | Should -BeExactly $bad
        $caught.Exception.Message | Should -Match ':2:\d+:'
    }

    It 'stops the pipeline at a refused rules file' {
        $bad = New-RulesFile 'bad_pipeline' 'noto:ALL:ALL'
        $records = 1..2 | ForEach-Object { [pscustomobject]@{ ClientAddress = '192.0.2.10'; ClientName = ''; From = '<a@b.test>'; To = '<c@d.test>' } }
        $caught = $null
        try { $records | Test-SmtpdRule -Path $bad -DnsServer $server } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        $caught.TargetObject | Should -BeExactly $bad
    }

    It 'reports a missing rules file as RuleFileNotFound' {
        $missing = Join-Path $TestDrive 'no_such_rules'
        $caught = $null
        try {
            Test-SmtpdRule -Path $missing -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $caught.TargetObject | Should -BeExactly $missing
    }

    It 'reports a rules path that is a directory as RuleFileIsDirectory' {
        $folder = Join-Path $TestDrive 'a_folder'
        $null = New-Item -ItemType Directory -Path $folder
        $caught = $null
        try {
            Test-SmtpdRule -Path $folder -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileIsDirectory,*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly $folder
    }

    It 'refuses a bad -DnsServer with InvalidDnsServer' {
        $caught = $null
        try {
            Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server, 'dns.example.test'
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'InvalidDnsServer,*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly 'dns.example.test'
    }

    It 'writes the warnings of a rules file to the warning stream and still decides' {
        $warn = New-RulesFile 'warnings' @(
            'noto:10/8:ALL:ALL:550 partial'
            'noto:ALL:ALL:*@spam.test:no code'
            'allow:ALL:ALL:ALL'
        )
        $d = Test-SmtpdRule -Path $warn -ClientAddress 10.1.2.3 -ClientName '' -From '<a@b.test>' -To '<x@spam.test>' `
            -DnsServer $server -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -HaveCount 2
        "$($w[0])" | Should -BeLike "$warn`:1:*"
        "$($w[1])" | Should -BeLike "$warn`:2:*"
        $d.LineNumber | Should -Be 2
        $d.Reply | Should -BeExactly '550 Recipient not allowed'
    }
}

Describe 'Test-SmtpdRule with DNS (knotd on the loopback)' {
    BeforeAll {
        $dnsRules = New-RulesFile 'dns_rules' @(
            'noto:KNOWN:ALL:*@known.test:550 known %H'
            'noto:UNKNOWN:ALL:*@known.test:550 unknown %H'
            'noto:RBL.bl.test:ALL:*@rbl.test:550 listed %I'
            'noto:ALL:NS=192.0.2.53:*@ns.test:550 name server of %F'
        )
        # Source lists are evaluated first, so a failing lookup gets a file of its own.
        $refusedRules = New-RulesFile 'refused_rules' 'noto:RBL.notserved.test:ALL:ALL:550 listed elsewhere %I'
    }

    It 'looks up the reverse name and confirms it forwards: 192.0.2.10 is KNOWN' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.10 -From '<a@b.test>' -To '<c@known.test>' -DnsServer $server
        $d.LineNumber | Should -Be 1
        $d.ClientName | Should -BeExactly 'mail.example.test'
        $d.Reply | Should -BeExactly '550 known mail.example.test'
    }

    It 'does not honour a PTR that does not point back: 192.0.2.11 is UNKNOWN' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.11 -From '<a@b.test>' -To '<c@known.test>' -DnsServer $server
        $d.LineNumber | Should -Be 2
        $d.ClientName | Should -BeNullOrEmpty
        $d.Reply | Should -BeExactly '550 unknown UNKNOWN'
        $d.ReverseLookupNote | Should -BeLike '*forged.example.test*does not resolve back*'
    }

    It 'trusts the PTR with -SkipForwardConfirmation: 192.0.2.11 is KNOWN' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.11 -From '<a@b.test>' -To '<c@known.test>' -SkipForwardConfirmation -DnsServer $server
        $d.LineNumber | Should -Be 1
        $d.ClientName | Should -BeExactly 'forged.example.test'
    }

    It 'treats an address without PTR as UNKNOWN' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.12 -From '<a@b.test>' -To '<c@known.test>' -DnsServer $server
        $d.LineNumber | Should -Be 2
    }

    It 'treats a failed reverse lookup as not knowing the name, defers, and says so in the verbose stream' {
        # 198.51.100.0/24 is not served by the test server: REFUSED. Whether the client has a name
        # is unknown, so neither KNOWN nor UNKNOWN may decide: the recipient is deferred.
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 198.51.100.1 -From '<a@b.test>' -To '<c@known.test>' -DnsServer $server -Verbose 4>&1
        $verbose = @($d | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $decision = @($d | Where-Object { $_ -is [SmtpdModule.Engine.Rules.RuleDecision] })
        $decision | Should -HaveCount 1
        "$($decision[0].Action)" | Should -Be 'Defer'
        "$($decision[0].Basis)" | Should -Be 'LookupFailure'
        $decision[0].FailureReason | Should -BeLike '*reverse lookup of 198.51.100.1 failed*'
        $verbose | Should -HaveCount 1
        $verbose[0].Message | Should -BeLike '*failed*'
    }

    It 'finds a forward-confirmed IPv6 reverse name' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 2001:db8::10 -From '<a@b.test>' -To '<c@known.test>' -DnsServer $server
        $d.LineNumber | Should -Be 1
        $d.ClientName | Should -BeExactly 'mail.example.test'
    }

    It 'sees 192.0.2.10 listed in RBL.bl.test' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@example.test>' -To '<c@rbl.test>' -DnsServer $server
        $d.LineNumber | Should -Be 3
        $d.Reply | Should -BeExactly '550 listed 192.0.2.10'
    }

    It 'sees an address without a record as not listed' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.20 -ClientName '' -From '<a@example.test>' -To '<c@rbl.test>' -DnsServer $server
        $d.Action | Should -Be 'Allow'
        $d.Basis | Should -Be 'DefaultNoMatch'
    }

    It 'does not count a DNSBL answer outside 127.0.0.0/8 as a listing' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.11 -ClientName '' -From '<a@example.test>' -To '<c@rbl.test>' -DnsServer $server
        $d.Action | Should -Be 'Allow'
        $d.Basis | Should -Be 'DefaultNoMatch'
    }

    It 'defers, never takes the default action, when a lookup fails (REFUSED)' {
        foreach ($default in 'Allow', 'Deny') {
            $d = Test-SmtpdRule -Path $refusedRules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@refused.test>' -DefaultAction $default -DnsServer $server
            "$($d.Action)" | Should -Be 'Defer'
            "$($d.Basis)" | Should -Be 'LookupFailure'
            $d.LineNumber | Should -BeNullOrEmpty
            $d.Reply | Should -BeLike '451 4.4.3 *'
            $d.FailureReason | Should -BeLike '*line 1*'
        }
    }

    It 'shows the failed line with -Explain and lets -OnLookupFailure Defer defer any failure' {
        $rules = New-RulesFile 'refused_then_local' "noto:RBL.notserved.test:ALL:ALL`nallow:ALL:ALL:*@example.test`nnoto:ALL:ALL:ALL:550 no relay"
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@example.test>', '<c@far.test>' -DnsServer $server -Explain
        "$($d[0].Action)" | Should -Be 'Allow'
        "$($d[0].Explanation[0].Result)" | Should -Be 'Failed'
        $d[0].Explanation[0].Note | Should -BeLike '*passed over*'
        "$($d[1].Action)" | Should -Be 'Noto'
        $d[1].Reply | Should -Be '550 no relay'
        $strict = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@example.test>' -DnsServer $server -OnLookupFailure Defer
        "$($strict.Action)" | Should -Be 'Defer'
    }

    It 'matches NS= on the name-server address of the sender domain' {
        $d = Test-SmtpdRule -Path $dnsRules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@example.test>' -To '<c@ns.test>' -DnsServer $server
        $d.LineNumber | Should -Be 4
        $d.Reply | Should -BeExactly '550 name server of <a@example.test>'
    }
}

Describe 'NS= on hosts in today''s DNS (knotd serving corp.test)' {
    BeforeAll {
        # A host answers NODATA to NS and MX: its name servers are those of its zone, corp.test
        # (ns1/ns2.corp.test at 192.0.2.201/202; the zone's MX mx.corp.test is at 198.51.100.25).
        # Senders are in served zones: an unserved one would fail line 3's lookup first.
        $nsRules = New-RulesFile 'ns_rules' @(
            'noto:NS=mx.corp.test:ALL:*@apexmx.test:550 apex MX of %H'
            'noto:NS=192.0.2.*:ALL:*@glob.test:550 %H is served from 192.0.2.*'
            'noto:ALL:NS=ns2.corp.test:*@sender.test:550 %F is served by ns2.corp.test'
            'noto:ALL:NS=UNKNOWN:*@unknown.test:550 %F does not exist'
            'allow:ALL:ALL:ALL'
        )
    }

    It 'matches an IP glob on the name servers of a client whose reverse name is a host' {
        $d = Test-SmtpdRule -Path $nsRules -ClientAddress 192.0.2.80 -From '<a@corp.test>' -To '<x@glob.test>' -DnsServer $server
        $d.ClientName | Should -BeExactly 'www.corp.test'
        $d.LineNumber | Should -Be 2
        $d.Reply | Should -BeExactly '550 www.corp.test is served from 192.0.2.*'
    }

    It 'does not count the zone''s MX as a name server of a host' {
        $d = Test-SmtpdRule -Path $nsRules -ClientAddress 192.0.2.80 -From '<a@corp.test>' -To '<x@apexmx.test>' -DnsServer $server
        $d.Basis | Should -Be 'Rule'
        $d.LineNumber | Should -Be 5
    }

    It 'matches the name servers of a sender domain that is a host' {
        $d = Test-SmtpdRule -Path $nsRules -ClientAddress 192.0.2.12 -From '<user@www.corp.test>' -To '<x@sender.test>' -DnsServer $server
        $d.LineNumber | Should -Be 3
        $d.Reply | Should -BeExactly '550 <user@www.corp.test> is served by ns2.corp.test'
    }

    It 'crops a sender domain that does not exist and finds it UNKNOWN, as before' {
        $d = Test-SmtpdRule -Path $nsRules -ClientAddress 192.0.2.12 -From '<user@nosuch.corp.test>' -To '<x@unknown.test>' -DnsServer $server
        $d.LineNumber | Should -Be 4
        $d.Reply | Should -BeExactly '550 <user@nosuch.corp.test> does not exist'
        $known = Test-SmtpdRule -Path $nsRules -ClientAddress 192.0.2.12 -From '<user@www.corp.test>' -To '<x@unknown.test>' -DnsServer $server
        $known.LineNumber | Should -Be 5
    }
}

Describe 'The example rules file' {
    BeforeAll {
        $example = (Resolve-Path "$PSScriptRoot/../../examples/smtpd_check_rules").ProviderPath
    }

    It 'accepts mail for example.test from anywhere' {
        $d = Test-SmtpdRule -Path $example -ClientAddress 203.0.113.9 -ClientName '' -From '<a@elsewhere.test>' -To '<postmaster@example.test>' -DnsServer $server
        $d.Action | Should -Be 'Allow'
        $d.LineNumber | Should -Not -BeNullOrEmpty
    }

    It 'answers with the proxy''s address check, before the rules, as the proxy does' {
        $d = Test-SmtpdRule -Path $example -ClientAddress 127.0.0.1 -ClientName '' -From '<a@example.test>' -To '<b%far.test@example.test>', '<c@example.test>' -DnsServer $server
        "$($d[0].Action)" | Should -Be 'Noto'
        "$($d[0].Basis)" | Should -Be 'AddressCheck'
        $d[0].AddressCheck | Should -Be 'RCPT'
        $d[0].Reply | Should -BeLike '553 5.1.3 *'
        $d[0].LineNumber | Should -BeNullOrEmpty
        $table = $d[0] | Format-Table | Out-String -Width 120
        $table | Should -Match '553 5\.1\.3'
        $table | Should -Not -Match '550 '
        $d[1].AddressCheck | Should -BeNullOrEmpty
        "$($d[1].Action)" | Should -Be 'Allow'
        $lenient = Test-SmtpdRule -Path $example -ClientAddress 127.0.0.1 -ClientName '' -From '<a@example.test>' -To '<b%far.test@example.test>' -DnsServer $server -AcceptRoutedAddresses
        $lenient.AddressCheck | Should -BeNullOrEmpty
        "$($lenient.Basis)" | Should -Be 'Rule'
    }

    It 'treats the rest of 127.0.0.0/8 as a stranger' {
        $d = Test-SmtpdRule -Path $example -ClientAddress 127.0.0.2 -ClientName '' -From '<a@example.test>' -To '<c@far.test>' -DnsServer $server
        "$($d.Action)" | Should -Be 'Noto'
    }

    It 'accepts anything from the local network' {
        $d = Test-SmtpdRule -Path $example -ClientAddress 127.0.0.1 -ClientName '' -From '<a@example.test>' -To '<b@elsewhere.test>', '<c@far.test>' -DnsServer $server
        $d.Action | Should -Be 'Allow', 'Allow'
        $d6 = Test-SmtpdRule -Path $example -ClientAddress ::1 -ClientName '' -From '<a@example.test>' -To '<b@elsewhere.test>' -DnsServer $server
        $d6.Action | Should -Be 'Allow'
    }

    It 'refuses relaying for everyone else' {
        $d = Test-SmtpdRule -Path $example -ClientAddress 203.0.113.9 -ClientName '' -From '<a@elsewhere.test>' -To '<b@far.test>' -DnsServer $server
        $d.Action | Should -Be 'Noto'
        $d.Reply | Should -Match '^5\d\d '
    }

    It 'blocks the relay trick <_> even for example.test' -ForEach @('<a%far.test@example.test>', '<far.test!a@example.test>', '<a@far.test@example.test>') {
        $d = Test-SmtpdRule -Path $example -ClientAddress 203.0.113.9 -ClientName '' -From '<a@elsewhere.test>' -To $_ -DnsServer $server
        $d.Action | Should -Be 'Noto'
    }
}

Describe 'Test-SmtpdRule and the DNSBL health guard' {
    BeforeAll {
        # all.test lists every address (127.0.0.1 too), err.test answers 127.255.255.254, good.test is healthy.
        $guardRules = New-RulesFile 'guard_rules' @(
            'deny:RBL.all.test:ALL:ALL:550 listed everywhere'
            'noto:RBL.err.test:ALL:ALL:550 error code'
            'noto:RBL.good.test=127.0.0.[10..11]:ALL:*@range.test:550 range %I'
            'noto:RBL.good.test&0.0.0.4:ALL:ALL:550 mask %I'
        )
    }

    It 'explains that an unhealthy zone matches nothing, and decides by the default' {
        $d = Test-SmtpdRule $guardRules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' `
            -DnsServer $server -Explain
        $d.Action | Should -Be 'Allow'
        $d.Basis | Should -Be 'DefaultNoMatch'
        $d.Explanation[0].Note | Should -BeLike '*RBL.all.test: zone unhealthy: lists 127.0.0.1*'
        $d.Explanation[1].Note | Should -BeLike '*RBL.err.test: zone unhealthy: answers error code 127.255.255.254*'
    }

    It 'decides by the answer filters of a healthy zone' {
        $mask = Test-SmtpdRule $guardRules -ClientAddress 127.0.0.3 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $mask.LineNumber | Should -Be 4
        $mask.Reply | Should -BeExactly '550 mask 127.0.0.3'
        $range = Test-SmtpdRule $guardRules -ClientAddress 127.0.0.4 -ClientName '' -From '<a@b.test>' -To '<c@range.test>' -DnsServer $server
        $range.LineNumber | Should -Be 3
        $outside = Test-SmtpdRule $guardRules -ClientAddress 127.0.0.5 -ClientName '' -From '<a@b.test>' -To '<c@range.test>' `
            -DnsServer $server -Explain
        $outside.Action | Should -Be 'Allow'
        $outside.Explanation[2].Note | Should -BeLike '*answered 127.0.0.2, outside the filter =127.0.0.`[10..11`]*'
    }

    It 'refuses a file with a bad answer filter with RuleFileSyntax at its column' {
        $bad = New-RulesFile 'bad_filter' 'noto:RBL.good.test=127.0.0.[4..2]:ALL:ALL'
        { Test-SmtpdRule $bad -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server -ErrorAction Stop } |
            Should -Throw -ErrorId 'RuleFileSyntax*'
        $err = $null
        try { Test-SmtpdRule $bad -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server -ErrorAction Stop }
        catch { $err = $_ }
        "$err" | Should -BeLike '*bad_filter:1:33: error: *'
    }
}

Describe 'Stopping Test-SmtpdRule' {
    It 'ends quietly when stopped while it waits for DNS' {
        # A loopback "server" that reads questions and never answers.
        $blackhole = New-Object System.Net.Sockets.UdpClient (New-Object System.Net.IPEndPoint ([System.Net.IPAddress]::Loopback), 0)
        $ps = [powershell]::Create()
        try {
            $port = $blackhole.Client.LocalEndPoint.Port
            $slow = New-RulesFile 'slow_rules' 'noto:RBL.bl.test:ALL:ALL:550 listed'
            # Imported on its own: a stopped multi-statement invocation reports PipelineStopped itself.
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").Invoke()
            $ps.Commands.Clear()
            $null = $ps.AddCommand('Test-SmtpdRule').AddParameters(@{
                    Path = $slow; ClientAddress = '192.0.2.10'; ClientName = ''; From = '<a@b.test>'; To = '<c@d.test>'
                    DnsServer = "127.0.0.1:$port"
                })
            $async = $ps.BeginInvoke()

            # The first question arriving means the command is waiting for its answer.
            $blackhole.Client.ReceiveTimeout = 10000
            $sender = New-Object System.Net.IPEndPoint ([System.Net.IPAddress]::Any), 0
            $null = $blackhole.Receive([ref]$sender)

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $ps.Streams.Error | Should -BeNullOrEmpty
        }
        finally {
            $ps.Dispose()
            $blackhole.Dispose()
        }
    }
}

Describe 'Test-SmtpdRule -RecipientListPath' {
    BeforeAll {
        $list = New-RulesFile 'recipients' @('# mailboxes downstream', 'alice@example.test', 'sales-*@example.test')
    }

    It 'verifies what the rules allow: a known user is allowed and says which entry knew it' {
        $d = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<sales-eu@example.test>' -RecipientListPath $list -DnsServer $server
        $d.Action | Should -Be 'Allow'
        $d.Verification | Should -BeExactly 'list: Known (line 3: sales-*@example.test)'
    }

    It 'refuses an unknown user with 550 5.1.1, keeping the line that allowed it' {
        $d = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<carol@example.test>' -RecipientListPath $list -DnsServer $server -EachStage
        $rcpt = $d | Where-Object Stage -eq 'Rcpt'
        $rcpt.Replies | Should -Be @('550 5.1.1 Recipient address rejected: user unknown')
        $rcpt.Decision.Basis | Should -Be 'RecipientVerification'
        $rcpt.Decision.LineNumber | Should -Be 4
        ($rcpt.Decision | Format-List | Out-String -Width 200) | Should -Match '(?m)^Verification\s+: list: Unknown \(no entry for this address\)'
    }

    It 'does not verify what the rules refuse' {
        $d = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>' -RecipientListPath $list -DnsServer $server
        $d.Action | Should -Be 'Noto'
        $d.Verification | Should -BeNullOrEmpty
    }

    It 'says under -Explain why verification was not asked, and shows it with the lines' {
        $d = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>', '<postmaster>', '<alice@example.test>' -RecipientListPath $list -DnsServer $server -Explain
        $d[0].Verification | Should -BeExactly 'not asked: the rules did not allow the recipient'
        $d[0].Action | Should -Be 'Noto'
        $d[0].Basis | Should -Be 'Rule'
        $d[1].Verification | Should -BeLike 'not asked: a local postmaster*'
        $d[2].Verification | Should -BeExactly 'list: Known (line 2: alice@example.test)'
        $shown = $d[2] | Format-List | Out-String -Width 200
        $shown | Should -Match '(?m)^Verification\s+: list: Known'
        $shown | Should -Match '(?m)^Explanation\s+: \d+ NoMatch'
    }

    It 'refuses a callahead host that is no host[:port] with InvalidCallaheadHost' {
        $caught = $null
        try {
            Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@example.test>' `
                -CallaheadHost 'mx.example.test:99999' -DnsServer $server
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'InvalidCallaheadHost,*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly 'mx.example.test:99999'
    }

    It 'stops at a broken list with RecipientListSyntax and its line and column' {
        $bad = New-RulesFile 'recipients-bad' @('alice@example.test', 'bob@*.example.test')
        $caught = $null
        try {
            Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@example.test>' `
                -RecipientListPath $bad -DnsServer $server
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RecipientListSyntax,*'
        $caught.CategoryInfo.Category | Should -Be 'ParserError'
        $caught.TargetObject | Should -BeExactly $bad
        $caught.Exception.Message | Should -Match ':2:\d+:'
    }
}

Describe 'Test-SmtpdRule -SmartHost' {
    BeforeAll {
        $helpers = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
        $downstream = Start-DownstreamServer -Python (Get-AiosmtpdPython) -Capture (Join-Path $TestDrive 'smarthost') `
            -Processes $helpers -Option '--size', '1000000'
    }

    AfterAll {
        Stop-TestProcess $helpers
    }

    It 'decides with the smart host''s SIZE and without the SMTPUTF8 it lacks, as the proxy would' {
        $stages = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<ü@example.test>' -SmartHost "127.0.0.1:$($downstream.Port)" -DnsServer $server -EachStage
        $ehlo = ($stages | Where-Object Stage -eq 'Helo').Replies
        $ehlo | Should -Contain '250-SIZE 1000000'
        $ehlo | Where-Object { $_ -match 'SMTPUTF8' } | Should -BeNullOrEmpty
        ($stages | Where-Object Stage -eq 'Mail').Replies[0] | Should -BeLike '555 5.5.4 *'
    }

    It 'warns and keeps the proxy''s own limits when the smart host cannot be asked' {
        $closed = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $closed.Start(); $port = $closed.LocalEndpoint.Port; $closed.Stop()   # nothing listens there now
        $stages = Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<b@example.test>' -SmartHost "127.0.0.1:$port" -DnsServer $server -EachStage `
            -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -HaveCount 1
        "$warned" | Should -BeLike "*127.0.0.1:$port*"
        ($stages | Where-Object Stage -eq 'Helo').Replies | Should -Contain '250-SIZE 26214400'
    }

    It 'refuses a smart host that is no host[:port] with InvalidSmartHost' {
        $caught = $null
        try {
            Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@example.test>' `
                -SmartHost 'mx.example.test:99999' -DnsServer $server
        }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'InvalidSmartHost,*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly 'mx.example.test:99999'
    }
}

Describe 'Test-SmtpdRule -LdapServer (slapd on the loopback)' -Skip:($IsWindows -eq $true -or $PSVersionTable.PSEdition -eq 'Desktop') {
    BeforeAll {
        $ldap = & "$PSScriptRoot/../tools/Start-TestLdap.ps1"
        $directory = @{ LdapServer = $ldap.Server; LdapSearchBase = $ldap.SearchBase; LdapCredential = $ldap.Credential }
        $mail = @{ ClientAddress = '192.0.2.10'; ClientName = 'mail.example.org'; From = '<a@example.org>'; DnsServer = $server }
    }
    AfterAll {
        if ($ldap) { $ldap.Stop() }
    }

    It 'knows an Exchange alias through proxyAddresses with the default filter, and says which entry' {
        $d = Test-SmtpdRule $rules @mail -To '<al@example.test>' @directory
        $d.Action | Should -Be 'Allow'
        $d.Verification | Should -BeExactly "ldap: Known ($($ldap.Server): uid=alice,ou=people,dc=example,dc=test)"
    }

    It 'refuses a user the directory does not hold with 550 5.1.1' {
        $d = Test-SmtpdRule $rules @mail -To '<carol@example.test>' @directory -EachStage
        $rcpt = $d | Where-Object Stage -eq 'Rcpt'
        $rcpt.Replies | Should -Be @('550 5.1.1 Recipient address rejected: user unknown')
        $rcpt.Decision.Basis | Should -Be 'RecipientVerification'
        $rcpt.Decision.Verification | Should -BeLike 'ldap: Unknown (*no entry matches (|(proxyAddresses=smtp:carol@example.test)(mail=carol@example.test))*'
    }

    It 'searches with -LdapFilter: mail only knows bob, not alice' {
        $filter = @{ LdapFilter = '(mail={0})' }
        (Test-SmtpdRule $rules @mail -To '<bob@example.test>' @directory @filter).Verification | Should -BeLike 'ldap: Known (*uid=bob,*'
        (Test-SmtpdRule $rules @mail -To '<alice@example.test>' @directory @filter).Verification | Should -BeLike 'ldap: Unknown (*'
    }

    It 'binds anonymously without -LdapCredential' {
        (Test-SmtpdRule $rules @mail -To '<bob@example.test>' -LdapServer $ldap.Server -LdapSearchBase $ldap.SearchBase).Verification |
            Should -BeLike 'ldap: Known (*'
    }

    It 'defers with 450 4.4.3 when the bind fails, or accepts under fail mode Accept' {
        $wrong = New-Object System.Management.Automation.PSCredential $ldap.Credential.UserName, (ConvertTo-SecureString 'wrong' -AsPlainText -Force)
        $d = Test-SmtpdRule $rules @mail -To '<alice@example.test>' -LdapServer $ldap.Server -LdapSearchBase $ldap.SearchBase -LdapCredential $wrong -EachStage
        $rcpt = $d | Where-Object Stage -eq 'Rcpt'
        $rcpt.Replies | Should -Be @('450 4.4.3 Recipient verification unavailable, try again later')
        $rcpt.Decision.Verification | Should -BeLike 'ldap: Unavailable (bind as cn=smtpd,*'

        $accepted = Test-SmtpdRule $rules @mail -To '<alice@example.test>' -LdapServer $ldap.Server -LdapSearchBase $ldap.SearchBase `
            -LdapCredential $wrong -RecipientVerificationFailMode Accept
        $accepted.Action | Should -Be 'Allow'
    }

    It 'sends StartTLS with -LdapStartTls (a certificate this process does not trust: unavailable, never unknown)' {
        $d = Test-SmtpdRule $rules @mail -To '<alice@example.test>' @directory -LdapStartTls
        $d.Verification | Should -BeLike 'ldap: Unavailable (StartTLS *'
        [System.IO.File]::ReadAllText($ldap.LogPath) | Should -Match 'EXT oid=1\.3\.6\.1\.4\.1\.1466\.20037'
        [System.IO.File]::ReadAllText($ldap.LogPath) | Should -Not -Match 'BIND dn="cn=smtpd,ou=services,dc=example,dc=test" mech=SIMPLE ssf=0 tls_ssf'
    }

    It 'refuses <Case> with <Id>' -TestCases @(
        @{ Case = 'a server that is no LDAP address'; Id = 'InvalidLdapServer'; Target = 'http://dc1.example.test'
           Extra = @{ LdapServer = 'http://dc1.example.test'; LdapSearchBase = 'dc=example,dc=test' } }
        @{ Case = 'ldaps:// with -LdapStartTls'; Id = 'InvalidLdapServer'; Target = 'ldaps://dc1.example.test'
           Extra = @{ LdapServer = 'ldaps://dc1.example.test'; LdapSearchBase = 'dc=example,dc=test'; LdapStartTls = $true } }
        @{ Case = 'a filter without {0}'; Id = 'InvalidLdapFilter'; Target = '(mail=alice@example.test)'
           Extra = @{ LdapServer = 'dc1.example.test'; LdapSearchBase = 'dc=example,dc=test'; LdapFilter = '(mail=alice@example.test)' } }
        @{ Case = 'a server without a search base'; Id = 'LdapSearchBaseMissing'; Target = 'dc1.example.test'
           Extra = @{ LdapServer = 'dc1.example.test' } }
        @{ Case = 'a search base without a server'; Id = 'LdapServerMissing'; Target = 'LdapSearchBase'
           Extra = @{ LdapSearchBase = 'dc=example,dc=test' } }
    ) {
        param($Case, $Id, $Target, $Extra)
        $caught = $null
        try { Test-SmtpdRule $rules @mail -To '<c@example.test>' @Extra }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly $Target
    }
}

Describe 'Test-SmtpdRule with a DNSBL score (knotd serving good.test, bl2.test, wl.test)' {
    BeforeAll {
        $scoreRules = New-RulesFile 'score_rules' @(
            'score:spam:good.test*3 bl2.test*2 wl.test=127.0.[0..255].[1..3]*-2'
            'deny:SCORE.spam>=3:ALL:ALL:550 5.7.1 %I scores too high'
            'allow:ALL:ALL:ALL'
        )
    }

    It 'shows the score and the lists that made it for a refused client' {
        $d = Test-SmtpdRule -Path $scoreRules -ClientAddress 127.0.0.3 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server
        $d.Action | Should -Be 'Deny'
        $d.Score | Should -Be 5
        $d.ScoreDetail | Should -BeExactly 'spam: good.test=127.0.0.4 +3, bl2.test=127.0.0.2 +2 = 5 (threshold 3)'
        $text = $d | Format-List | Out-String -Width 250
        $text | Should -Match '(?m)^Score\s+: 5\r?$'
        $text | Should -Match '(?m)^ScoreDetail\s+: spam: good\.test=127\.0\.0\.4 \+3, bl2\.test=127\.0\.0\.2 \+2 = 5 \(threshold 3\)\r?$'
    }

    It 'shows an allowlist taking its weight off, and -Explain says the score on the line' {
        $d = Test-SmtpdRule -Path $scoreRules -ClientAddress 127.0.0.4 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server -Explain
        $d.Action | Should -Be 'Allow'
        $d.Score | Should -Be 1
        $d.Explanation[0].Note | Should -BeLike '*SCORE.spam>=3: good.test=127.0.0.10 +3, wl.test=127.0.10.2 -2 = 1, below 3*'
    }

    It 'shows no score for rules without one' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' -To '<y@example.test>' -DnsServer $server
        $d.Score | Should -BeNullOrEmpty
        ($d | Format-List | Out-String -Width 250) | Should -Not -Match '(?m)^Score'
    }

    It 'refuses an undefined score name: RuleFileSyntax naming line and column' {
        $bad = New-RulesFile 'bad_score' 'deny:SCORE.nope>=3:ALL:ALL'
        $caught = $null
        try { Test-SmtpdRule -Path $bad -ClientAddress 192.0.2.10 -ClientName '' -From '<a@b.test>' -To '<c@d.test>' -DnsServer $server -ErrorAction Stop }
        catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        "$($caught.Exception.Message)" | Should -Match 'bad_score:1:12: error: '
    }
}
