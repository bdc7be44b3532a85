#Requires -Version 7.4
# The headless Chromium harness (tests/tools/HeadlessChromium.ps1) can fail and can pass: it reports
# a clean page as clean and counts its chart's points, reports console errors, uncaught exceptions
# and CSP violations, writes a real PNG, and leaves no Chromium behind, not even after a timeout.

BeforeAll {
    . "$PSScriptRoot/../tools/HeadlessChromium.ps1"

    function New-TestPage([string] $Name, [string] $Html) {
        $path = Join-Path $TestDrive $Name
        [System.IO.File]::WriteAllText($path, $Html, [System.Text.UTF8Encoding]::new($false))
        $path
    }

    function Get-FileUri([string] $Path) { [Uri]::new($Path, [UriKind]::Absolute).AbsoluteUri }

    # Live processes whose command line names the profile: Chromium gives it to every child.
    function Get-ProfileProcess([string] $Profile) {
        foreach ($dir in [System.IO.Directory]::EnumerateDirectories('/proc')) {
            if ((Split-Path $dir -Leaf) -notmatch '^\d+$') { continue }
            try { $commandLine = [System.IO.File]::ReadAllText("$dir/cmdline") } catch { continue }
            if ($commandLine.Replace([char]0, ' ').Contains("--user-data-dir=$Profile")) { Split-Path $dir -Leaf }
        }
    }

    function Assert-NothingLeft([int] $ProcessId, [string] $Profile) {
        $Profile | Should -Not -BeNullOrEmpty
        Get-ProfileProcess $Profile | Should -BeNullOrEmpty -Because 'no Chromium process may outlive the call'
        Get-Process -Id $ProcessId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path -LiteralPath $Profile | Should -BeFalse -Because 'the temporary profile is deleted'
    }

    # width and height from a PNG's IHDR chunk, after checking the signature.
    function Read-PngSize([string] $Path) {
        $bytes = [System.IO.File]::ReadAllBytes($Path)
        [byte[]]$bytes[0..7] | Should -Be ([byte[]](137, 80, 78, 71, 13, 10, 26, 10)) -Because 'a PNG starts with its signature'
        [System.Text.Encoding]::ASCII.GetString($bytes, 12, 4) | Should -Be 'IHDR'
        $bigEndian = { param($offset) ([int]$bytes[$offset] -shl 24) -bor ([int]$bytes[$offset + 1] -shl 16) -bor ([int]$bytes[$offset + 2] -shl 8) -bor $bytes[$offset + 3] }
        [pscustomobject]@{ Width = & $bigEndian 16; Height = & $bigEndian 20 }
    }

    # Listening on 127.0.0.1 without ever accepting: the kernel still completes a connection, so
    # Pending() tells whether anything tried; and a request sent here never gets an answer.
    $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $silent.Start()
    $stall = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $stall.Start()
}

AfterAll {
    if ($silent) { $silent.Stop() }
    if ($stall) { $stall.Stop() }
}

Describe 'Invoke-HeadlessPage' {
    It 'reports a clean page as clean, counts its chart points and writes a PNG as wide as the viewport' {
        $points = 1..7 | ForEach-Object { "<circle cx='$($_ * 20)' cy='50' r='4' fill='#3366cc'/>" }
        $path = New-TestPage 'clean.html' @"
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Delivered per hour</title></head>
<body><svg id="delivered" width="200" height="100" viewBox="0 0 200 100">$($points -join '')</svg>
<script>console.log('drawn', document.querySelectorAll('circle').length);</script></body></html>
"@
        $png = Join-Path $TestDrive 'clean.png'

        $page = Invoke-HeadlessPage -Path $path -Width 800 -Height 600 -ScreenshotPath $png -Evaluate ([ordered]@{
                points = "document.querySelectorAll('#delivered circle').length"
                label  = "Promise.resolve('2026-12-07T05:00:00Z')"
            })

        $page.Errors | Should -BeNullOrEmpty
        $page.Values.points | Should -Be 7
        $page.Values.label | Should -BeOfType [string] -Because 'a value keeps its JSON type, dates stay text'
        $page.Title | Should -Be 'Delivered per hour'
        $page.Console.Count | Should -Be 1
        $page.Console[0].Level | Should -Be 'info'
        $page.Console[0].Text | Should -Be 'drawn 7'
        $page.LoadedUrls | Should -Be @(Get-FileUri $path) -Because 'the page fetched nothing but itself'
        $page.ScreenshotPath | Should -Be $png
        $size = Read-PngSize $png
        $size.Width | Should -Be 800
        $size.Height | Should -Be 600
        Assert-NothingLeft $page.ProcessId $page.ProfileDirectory
    }

    It 'reports console.error and the uncaught exception of an inline script, with the page as their source' {
        $path = New-TestPage 'broken.html' @'
<!DOCTYPE html>
<html><head><title>Broken</title></head><body>
<script>
console.error('chart data missing for', 'delivered');
throw new Error('render failed');
</script></body></html>
'@

        $page = Invoke-HeadlessPage -Path $path

        $page.Errors.Count | Should -Be 2
        $logged = $page.Errors | Where-Object Source -EQ 'console'
        $logged.Text | Should -Be 'chart data missing for delivered'
        $logged.Url | Should -Be (Get-FileUri $path)
        $logged.Line | Should -Be 4
        $thrown = $page.Errors | Where-Object Source -EQ 'exception'
        $thrown.Text | Should -BeLike '*Error: render failed*'
        $thrown.Url | Should -Be (Get-FileUri $path)
        $thrown.Line | Should -Be 5
        Assert-NothingLeft $page.ProcessId $page.ProfileDirectory
    }

    It 'reports a Content-Security-Policy violation and no request gets past the policy' {
        $image = "http://127.0.0.1:$($silent.LocalEndpoint.Port)/x.png"
        $path = New-TestPage 'csp.html' @"
<!DOCTYPE html>
<html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Locked down</title></head><body><img src="$image" alt="external"></body></html>
"@

        $page = Invoke-HeadlessPage -Path $path

        $violation = @($page.Errors | Where-Object Source -EQ 'security')
        $violation.Count | Should -Be 1
        $violation[0].Text | Should -BeLike "*$image*Content Security Policy*"
        $blocked = @($page.Requests | Where-Object Url -EQ $image)
        $blocked.Count | Should -Be 1
        $blocked[0].BlockedReason | Should -Be 'csp'
        $blocked[0].Status | Should -BeNullOrEmpty
        $silent.Pending() | Should -BeFalse -Because 'the image request never left the browser'
        Assert-NothingLeft $page.ProcessId $page.ProfileDirectory
    }

    It 'captures the whole document with -FullPage' {
        $path = New-TestPage 'long.html' @'
<!DOCTYPE html>
<html><head><title>Long</title></head>
<body style="margin:0"><div style="height:2500px;background:linear-gradient(#fff,#36c)"></div></body></html>
'@
        $png = Join-Path $TestDrive 'long.png'

        $page = Invoke-HeadlessPage -Path $path -Width 640 -Height 480 -ScreenshotPath $png -FullPage

        $page.Errors | Should -BeNullOrEmpty
        $size = Read-PngSize $png
        $size.Width | Should -Be 640
        $size.Height | Should -Be 2500
    }

    It 'throws on a timeout with the page errors and Chromium''s stderr, and leaves no Chromium behind' {
        $path = New-TestPage 'stalled.html' @"
<!DOCTYPE html>
<html><head><title>Stalled</title></head><body>
<script>console.error('still loading');</script>
<img src="http://127.0.0.1:$($stall.LocalEndpoint.Port)/never.png"></body></html>
"@

        # Long enough for Chromium to start and navigate on a busy machine, so the wait that times
        # out is the one for the load event.
        $thrown = { Invoke-HeadlessPage -Path $path -TimeoutSeconds 15 } | Should -Throw -PassThru

        $thrown.Exception.Message | Should -BeLike '*Timed out after 15 s*load event*'
        $thrown.Exception.Message | Should -BeLike '*still loading*'
        $thrown.Exception.Message | Should -BeLike "*Chromium's stderr*DevTools listening*"
        Assert-NothingLeft $thrown.Exception.Data['ProcessId'] $thrown.Exception.Data['ProfileDirectory']
    }

    It 'throws when an expression throws, naming it' {
        $path = New-TestPage 'plain.html' '<!DOCTYPE html><title>Plain</title><p>text</p>'

        $thrown = { Invoke-HeadlessPage -Path $path -Evaluate @{ points = "document.querySelector('#nope').children.length" } } |
            Should -Throw -PassThru

        $thrown.Exception.Message | Should -BeLike "*'points'*TypeError*"
        Assert-NothingLeft $thrown.Exception.Data['ProcessId'] $thrown.Exception.Data['ProfileDirectory']
    }
}
