#Requires -Version 7.0
# Why each spooled recipient was accepted (issue: evidence): a real proxy on 127.0.0.1 port 0, asking
# only the NXDOMAIN knotd on the loopback, takes one message from python's smtplib for two recipients
# that two different allow lines accept; Get-SmtpdSpool shows each recipient's own line, that line's
# text and the rules file's hash, the one Get-FileHash computes.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: why`r`n`r`nhello`r`n"))
    # The second allow line holds what the envelope must escape: ';', '%' and trailing spaces.
    $rules = New-RulesFile -Name rules -Line '# who may receive', 'allow:ALL:ALL:a@example.test',
        'noto:ALL:ALL:x@example.test', 'allow:ALL:ALL:b@example.test:550 no; 100%% sure  ', 'noto:ALL:ALL:ALL'
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive spool) `
        -NoReverseLookup -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -DenyDelaySeconds 0
    $out = & $python $sendScript --port $proxy.LocalEndPoints[0].Port --from '<s@example.org>' --to '<a@example.test>' --to '<x@example.test>' `
        --to '<b@example.test>' --body-file $body | ConvertFrom-Json
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'The provenance of spooled recipients' {
    It 'shows each recipient''s deciding line, its text and the rules file''s hash' {
        "$($out.rcpt | ForEach-Object { $_[0] })" | Should -Be '250 550 250'
        $out.data[0] | Should -Be 250
        $item = @(Get-SmtpdSpool -SpoolPath $proxy.Options.SpoolPath)
        $item | Should -HaveCount 1
        $hash = (Get-FileHash -LiteralPath $rules -Algorithm SHA256).Hash.ToLowerInvariant()

        $r = $item[0].Recipients
        $r.Address | Should -Be 'a@example.test', 'b@example.test'
        $r[0].Line | Should -Be 2
        $r[0].Rule | Should -BeExactly 'allow:ALL:ALL:a@example.test'
        $r[1].Line | Should -Be 4
        $r[1].Rule | Should -BeExactly 'allow:ALL:ALL:b@example.test:550 no; 100%% sure  '
        $r.RulesSha256 | Should -Be $hash, $hash
        $r[0].Basis | Should -BeNullOrEmpty
        $r[0].Checks | Should -BeOfType ([System.Collections.Generic.IReadOnlyDictionary[string, string]])
    }

    It 'shows provenance as a table of address, line, hash, rule and checks' {
        $r = (Get-SmtpdSpool -SpoolPath $proxy.Options.SpoolPath).Recipients
        $text = $r | Format-Table -View Provenance | Out-String -Width 120
        $text | Should -Match 'Address\s+Line\s+Rules\s+Rule\s+Checks'
        $hash = (Get-FileHash -LiteralPath $rules -Algorithm SHA256).Hash.ToLowerInvariant()
        $text | Should -Match ('a@example\.test\s+2\s+' + $hash.Substring(0, 12) + '\s+allow:ALL:ALL:a@example\.test')
        ($r[1] | Format-List | Out-String -Width 200) | Should -Match ('RulesSha256\s+: ' + $hash)
    }
}
