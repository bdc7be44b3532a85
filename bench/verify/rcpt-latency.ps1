<#
.SYNOPSIS
    RCPT latency with each recipient verification source, cold and cached, against no verification.
.DESCRIPTION
    Starts a downstream SMTP server (aiosmtpd, tests/fixtures/downstream/smtp_server.py) that knows
    200 users, the test directory (slapd, tests/tools/Start-TestLdap.ps1) with the same 200 users
    added (mail attribute), and four proxies of the built module on 127.0.0.1 (no verification, a
    recipient list, the directory over plain LDAP with the default Active Directory filter and a
    bound service account, a callahead to that server); every proxy's -DnsServer is 127.0.0.1:9 with -NoReverseLookup,
    so no DNS is asked. A python client times each RCPT. "cold": each address asked once; "cached":
    the same addresses again. A callahead allows 10 new probes a second (a burst of 10): the median
    of a cold pass of 200 is that rate; First10MedianUs, within the burst, is a probe's own cost. Run: dotnet pwsh -NoProfile bench/verify/rcpt-latency.ps1 (after
    build.ps1 -Task Build).
#>
param([int] $Users = 200)
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path "$PSScriptRoot/../..").Path
Import-Module "$root/out/SmtpdModule/SmtpdModule.psd1" -Force
$work = Join-Path ([IO.Path]::GetTempPath()) ("rcpt-latency-" + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory $work | Out-Null
$names = 1..$Users | ForEach-Object { "user$_" }
$downstream = $null
$ldap = $null
$proxies = @()
try {
    # A python3 that has aiosmtpd: a pyenv or venv python on PATH does not see Debian's python3-aiosmtpd.
    $python = @('python3', '/usr/bin/python3') | Where-Object { & $_ -c 'import aiosmtpd' 2>$null; $LASTEXITCODE -eq 0 } | Select-Object -First 1
    if (-not $python) { throw 'No python3 with aiosmtpd: run tests/tools/install-test-deps.sh' }
    $psi = [Diagnostics.ProcessStartInfo]::new($python)
    foreach ($a in @("$root/tests/fixtures/downstream/smtp_server.py", '--capture', (Join-Path $work 'capture'), '--users', ($names -join ','), '--enhanced-status-codes')) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardInput = $true   # the server runs until its standard input closes
    $psi.UseShellExecute = $false
    $downstream = [Diagnostics.Process]::Start($psi)
    $port = (ConvertFrom-Json $downstream.StandardOutput.ReadLine()).port

    # The directory: the test one, and the same users as the downstream, added by its root DN.
    $ldap = & "$root/tests/tools/Start-TestLdap.ps1"
    $ldif = Join-Path $work 'users.ldif'
    Set-Content $ldif ($names | ForEach-Object { "dn: uid=$_,ou=people,dc=example,dc=test`nobjectClass: inetOrgPerson`nuid: $_`ncn: $_`nsn: $_`nmail: $_@example.test`n" })
    & ldapadd -x -H $ldap.Server -D 'cn=admin,dc=example,dc=test' -w admin-secret -f $ldif > $null
    if ($LASTEXITCODE -ne 0) { throw "ldapadd failed ($LASTEXITCODE)" }

    $rules = Join-Path $work 'rules'; Set-Content $rules 'allow:ALL:ALL:*@example.test'
    $list = Join-Path $work 'list'; Set-Content $list ($names | ForEach-Object { "$_@example.test" })
    $common = @{ Listen = '127.0.0.1:0'; RulesPath = $rules; DnsServer = '127.0.0.1:9'; NoReverseLookup = $true }
    $cases = [ordered]@{
        'none'      = @{}
        'list'      = @{ RecipientListPath = $list }
        'ldap'      = @{ LdapServer = $ldap.Server; LdapSearchBase = $ldap.SearchBase; LdapCredential = $ldap.Credential }
        'callahead' = @{ CallaheadHost = "127.0.0.1:$port" }
    }
    $known = ($names | ForEach-Object { "$_@example.test" }) -join ','
    $unknown = (1..$Users | ForEach-Object { "nobody$_@example.test" }) -join ','
    foreach ($case in $cases.Keys) {
        $spool = Join-Path $work "spool-$case"
        $extra = $cases[$case]
        $p = Start-SmtpdProxy @common @extra -SpoolPath $spool
        $proxies += $p
        $endpoint = "$($p.LocalEndPoints[0])"; $pport = [int]$endpoint.Split(':')[-1]
        foreach ($kind in 'known', 'unknown') {
            $addresses = if ($kind -eq 'known') { $known } else { $unknown }
            foreach ($pass in 'cold', 'cached') {
                $r = python3 "$PSScriptRoot/rcpt_latency.py" $pport $addresses | ConvertFrom-Json
                [pscustomobject]@{ Source = $case; Users = $kind; Pass = $pass; Count = $r.count; First10MedianUs = $r.first10_median_us; MedianUs = $r.median_us; P90Us = $r.p90_us
                                   Replies = ($r.replies.PSObject.Properties | ForEach-Object { "$($_.Name)x$($_.Value)" }) -join ' ' }
            }
        }
    }
}
finally {
    foreach ($p in $proxies) { $p | Stop-SmtpdProxy -TimeoutSeconds 5 }
    if ($downstream -and -not $downstream.HasExited) { $downstream.Kill() }
    if ($ldap) { $ldap.Stop() }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
