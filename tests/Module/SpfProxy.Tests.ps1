#Requires -Version 7.0
# SPF through a running proxy: a rule `noto:ALL:SPF=fail:ALL` refuses a forged sender and accepts an
# authorised one; the accepted message carries Received-SPF and Authentication-Results under the
# -AuthServId; a forged Authentication-Results claiming that id is gone, one under another id stays.
# The clients are swaks and python's smtplib on 127.0.0.1; DNS is the test knotd (tests/fixtures/dns:
# example.test allows only its MX and mail host, local.example.test allows the loopback).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $swaks = Get-Command -Name swaks -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source
    if (-not $swaks) { throw 'swaks is needed: run tests/tools/install-test-deps.sh.' }
    $rules = New-RulesFile -Name rules -Line @(
        'noto:ALL:SPF=fail:ALL:550 5.7.23 %F is not authorised to send from %I'
        'allow:ALL:ALL:*@example.test')
    $spool = Join-Path $TestDrive spool
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool `
        -NoReverseLookup -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -AuthServId mx.example.test
    $port = $proxy.LocalEndPoints[0].Port
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'SPF= through a running proxy' {
    It 'refuses a forged sender (swaks) for each recipient, with the rule''s message' {
        $out = & $swaks --server 127.0.0.1 --port $port --helo client.test --from a@example.test `
            --to b@example.test --quit-after RCPT --timeout 20 2>&1
        $text = $out -join "`n"
        $text | Should -Match '<\*\* 550 5\.7\.23 <a@example\.test> is not authorised to send from 127\.0\.0\.1'
        Get-ChildItem -LiteralPath (Join-Path $spool ready) -Filter *.msg -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'accepts the authorised sender (smtplib) and adds both fields, above its Received:' {
        $body = Join-Path $TestDrive authorised.eml
        $text = "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=forged@example.test`r`n" +
                "Authentication-Results: (hidden) MX.Example.Test 1;`r`n`tdkim=pass`r`n" +
                "Authentication-Results: sender.example.org; spf=pass`r`n" +
                "Subject: authorised`r`n`r`nhello`r`n"
        [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes($text))
        $r = & $python $sendScript --port $port --helo client.test --from '<a@local.example.test>' --to '<b@example.test>' --body-file $body | ConvertFrom-Json
        $r.rcpt[0][0] | Should -Be 250
        $r.data[0] | Should -Be 250

        $stored = @(Get-ChildItem -LiteralPath (Join-Path $spool ready) -Filter *.msg)
        $stored.Count | Should -Be 1
        $message = [System.IO.File]::ReadAllText($stored[0].FullName)
        $headers = $message.Substring($message.IndexOf('Authentication-Results: mx.example.test;', [StringComparison]::Ordinal))
        $headers | Should -BeLike ("Authentication-Results: mx.example.test;`r`n`tspf=pass smtp.mailfrom=a@local.example.test`r`n" +
            "Received-SPF: pass (*: domain of a@local.example.test designates 127.0.0.1 as permitted sender)`r`n" +
            "`tclient-ip=127.0.0.1;`r`n`tenvelope-from=`"a@local.example.test`";`r`n`thelo=client.test;`r`n*" +
            "`tidentity=mailfrom;`r`n`tmechanism=`"ip4:127.0.0.0/8`";`r`nReceived: from client.test *")
        # The forged claims are gone; the field under another authserv-id stays.
        ([regex]::Matches($message, '(?m)^Authentication-Results:')).Count | Should -Be 2
        $message | Should -Not -Match 'forged@example\.test'
        $message | Should -Not -Match 'dkim=pass'
        $message | Should -Match '(?m)^Authentication-Results: sender\.example\.org; spf=pass\r$'
    }

    It 'tells Test-SmtpdRule the same, from the same DNS' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 127.0.0.1 -ClientName '' -Helo client.test -From '<a@example.test>' -To '<b@example.test>' -DnsServer $dns.EndPoint
        $d.Action | Should -Be 'Noto'
        $d.LineNumber | Should -Be 1
        $d = Test-SmtpdRule -Path $rules -ClientAddress 127.0.0.1 -ClientName '' -Helo client.test -From '<a@local.example.test>' -To '<b@example.test>' -DnsServer $dns.EndPoint
        $d.Action | Should -Be 'Allow'
        $d.LineNumber | Should -Be 2
    }
}
