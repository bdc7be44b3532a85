<#
.SYNOPSIS
    The latency the pregreet test adds: the first connection from an address (it pays the greet
    wait) and later ones (remembered as passing), against a proxy without the test.
.DESCRIPTION
    Starts two proxies of the built module on 127.0.0.1 (-DnsServer 127.0.0.1:9 -NoReverseLookup,
    so no DNS is asked): one with the defaults (the pregreet test does not run: its action is
    Ignore and no rule names it) and one with -PregreetAction Log and -GreetWaitSeconds
    $GreetWaitSeconds. python's smtplib sends one message per connection from each of $Clients
    loopback addresses (127.0.0.2 ...), first once, then $Later times more. Prints the median and
    90th percentile of the whole transaction and of the time to the end of the greeting, in ms.
    Run: dotnet pwsh -NoProfile bench/postscreen/latency.ps1 (after build.ps1 -Task Build).
#>
param([int] $Clients = 10, [int] $Later = 10, [double] $GreetWaitSeconds = 3)
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path "$PSScriptRoot/../..").Path
Import-Module "$root/out/SmtpdModule/SmtpdModule.psd1" -Force
$work = Join-Path ([IO.Path]::GetTempPath()) ("postscreen-latency-" + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory $work | Out-Null
$proxies = @()

function Stat([double[]] $values) {
    $sorted = $values | Sort-Object
    [pscustomobject]@{ Median = [math]::Round($sorted[[int][math]::Floor(($sorted.Count - 1) / 2)], 1)
                       P90 = [math]::Round($sorted[[int][math]::Ceiling(0.9 * $sorted.Count) - 1], 1) }
}

try {
    $rules = Join-Path $work 'rules'; Set-Content $rules 'allow:ALL:ALL:*@example.test'
    $common = @{ Listen = '127.0.0.1:0'; RulesPath = $rules; DnsServer = '127.0.0.1:9'; NoReverseLookup = $true; IdentTimeoutSeconds = 0 }
    $cases = [ordered]@{
        'tests off (default)' = @{}
        "pregreet, wait $GreetWaitSeconds s" = @{ PregreetAction = 'Log'; GreetWaitSeconds = $GreetWaitSeconds }
    }
    $sources = (2..($Clients + 1) | ForEach-Object { "127.0.0.$_" }) -join ','
    $i = 0
    foreach ($case in $cases.Keys) {
        $extra = $cases[$case]
        $p = Start-SmtpdProxy @common @extra -SpoolPath (Join-Path $work "spool-$(($i++))")
        $proxies += $p
        $r = python3 "$PSScriptRoot/latency.py" $p.LocalEndPoints[0].Port $sources $Later | ConvertFrom-Json
        foreach ($kind in 'first', 'later') {
            $total = Stat $r."${kind}_ms"
            $greet = Stat $r."${kind}_greeting_ms"
            [pscustomobject]@{ Proxy = $case; Connection = $kind; Count = $r."${kind}_ms".Count
                               TransactionMedianMs = $total.Median; TransactionP90Ms = $total.P90
                               GreetingMedianMs = $greet.Median; GreetingP90Ms = $greet.P90 }
        }
    }
}
finally {
    foreach ($p in $proxies) { $p | Stop-SmtpdProxy -TimeoutSeconds 5 }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
