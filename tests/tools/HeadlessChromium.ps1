# Opens a local HTML file in headless Chromium (Debian's chromium) and reports what a browser saw:
# every console message and page error, values computed in the page, a PNG screenshot. It speaks
# the Chrome DevTools Protocol (CDP) over a WebSocket to the Chromium it starts, on 127.0.0.1.
# Dot-source it (`. "$PSScriptRoot/../tools/HeadlessChromium.ps1"`); it defines Invoke-HeadlessPage.
#
# Trusts the page it is given, and nothing else: the browser gets no proxy and no name resolution
# (every host name maps to nothing), so a page reaches only file:// and 127.0.0.1. The browser,
# every process it spawned and its temporary profile are gone when the call returns or throws.

<#
.SYNOPSIS
    Loads an HTML file in a fresh headless Chromium and returns its errors, console, values and screenshot.

.DESCRIPTION
    Starts Chromium with a new temporary profile and --remote-debugging-port=0, navigates its page to
    the file:// URI of -Path, waits for the load event and one rendered frame (after web fonts are
    ready), evaluates each -Evaluate expression, takes the screenshot, then closes the browser (killing
    whatever of it lingers) and deletes the profile. A page error is a result, not an exception: the
    caller asserts on Errors. The call throws when the harness cannot do its job (no Chromium, a
    timeout, an expression that throws, Chromium closing the connection); the message then ends with
    the errors the page had caused so far and the tail of Chromium's stderr.

    Chromium is found with -Chromium, else $env:SMTPD_TEST_CHROMIUM, else chromium, chromium-browser,
    google-chrome on PATH (tests/tools/install-test-deps.sh installs Debian's chromium).

.OUTPUTS
    One object with:
      Errors           the Console entries of level 'error': console.error and console.assert, uncaught
                       exceptions, failed loads, CSP violations, ...
      Console          every entry the DevTools console would show, in arrival order, each with Level
                       (verbose, info, warning, error), Source ('console' for the console API, 'exception'
                       for an uncaught exception, else the Log domain's: 'security', 'network',
                       'javascript', ...), Text, Url and Line (1-based, 0 when unknown)
      Values           ordered dictionary: each -Evaluate name to the JSON value its expression returned
                       (a promise is awaited): string, int/long/double, bool, $null, array, hashtable
      Title            document.title
      ScreenshotPath   the full path of the PNG written, $null without -ScreenshotPath
      Requests         every request the page started, in order, each with Url, Type (Document, Image, ...),
                       Status (HTTP status, $null without a response), Error (net::ERR_..., $null when
                       it finished) and BlockedReason ('csp', ..., $null when not blocked)
      LoadedUrls       the Url of each of Requests: the page itself first
      ProcessId        the browser's process id, and
      ProfileDirectory its profile: both gone on return, there to prove that nothing outlived the call
    A thrown exception carries ProcessId and ProfileDirectory in its Data too.

.EXAMPLE
    $page = Invoke-HeadlessPage -Path "$TestDrive/report.html" -ScreenshotPath "$TestDrive/report.png" `
        -Evaluate @{ points = "document.querySelectorAll('#delivered circle').length" }
    $page.Errors | Should -BeNullOrEmpty
    $page.Values.points | Should -Be 24
#>
function Invoke-HeadlessPage {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        # The HTML file to load (a PowerShell path: TestDrive: works).
        [Parameter(Mandatory)] [string] $Path,
        # Name -> JavaScript expression, evaluated in the page after it loaded, in the order given.
        [System.Collections.IDictionary] $Evaluate = @{},
        # Where to write a PNG of the page; no screenshot without it.
        [string] $ScreenshotPath,
        # The viewport, in CSS pixels at scale 1: a screenshot is this wide.
        [ValidateRange(100, 10000)] [int] $Width = 1280,
        [ValidateRange(100, 10000)] [int] $Height = 900,
        # Capture the whole document height, not only the viewport.
        [switch] $FullPage,
        # For starting Chromium, loading, evaluating and capturing together; closing has its own bound.
        [ValidateRange(1, 3600)] [double] $TimeoutSeconds = 60,
        # The Chromium executable, when it is not found on PATH.
        [string] $Chromium
    )

    Set-StrictMode -Version 3.0
    $ErrorActionPreference = 'Stop'

    # --- finding things -------------------------------------------------------------------------

    function Find-Chromium {
        if ($Chromium) {
            if (Test-Path -LiteralPath $Chromium -PathType Leaf) { return $Chromium }
            throw "Chromium '$Chromium' does not exist."
        }
        if ($env:SMTPD_TEST_CHROMIUM) {
            if (Test-Path -LiteralPath $env:SMTPD_TEST_CHROMIUM -PathType Leaf) { return $env:SMTPD_TEST_CHROMIUM }
            throw "SMTPD_TEST_CHROMIUM is set to '$env:SMTPD_TEST_CHROMIUM', which does not exist."
        }
        $names = 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'
        $found = Get-Command -Name $names -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($found) { return $found.Source }
        throw ("No Chromium found on PATH (looked for $($names -join ', ')). The report tests render pages " +
            'in headless Chromium: run tests/tools/install-test-deps.sh (on Debian: apt-get install chromium ' +
            'fonts-dejavu-core), or set SMTPD_TEST_CHROMIUM to the executable.')
    }

    # Ids of the live processes whose command line names the profile: the browser and all it spawned
    # (each child gets --user-data-dir too), whoever their parent is by now.
    function Get-ProfileProcessId {
        if (-not [System.IO.Directory]::Exists('/proc')) { return }    # not Linux: Kill($true) has to do
        $needle = "--user-data-dir=$profileDir"
        foreach ($dir in [System.IO.Directory]::EnumerateDirectories('/proc')) {
            $name = [System.IO.Path]::GetFileName($dir)
            if ($name -notmatch '^\d+$') { continue }
            try { $commandLine = [System.IO.File]::ReadAllText("$dir/cmdline") } catch { continue }
            if ($commandLine.Replace([char]0, ' ').Contains($needle)) { [int]$name }
        }
    }

    # The last lines of Chromium's stderr. Lines about D-Bus are left out: a machine without a
    # session bus (a container, CI) gets dozens of them and they never explain a failure.
    function Get-StderrTail {
        if (-not (Test-Path -LiteralPath $stderrPath)) { return '(no stderr file)' }
        $lines = @([System.IO.File]::ReadAllLines($stderrPath) | Where-Object { $_ -and $_ -notmatch 'dbus' })
        if ($lines.Count -eq 0) { return '(empty)' }
        ($lines | Select-Object -Last 25) -join "`n"
    }

    # --- the protocol ----------------------------------------------------------------------------

    # CDP JSON to hashtables, arrays and plain values. Not ConvertFrom-Json: it turns strings that
    # look like dates into DateTime, which would change what a page's expression returned.
    function ConvertFrom-JsonElement([System.Text.Json.JsonElement] $Element) {
        switch ($Element.ValueKind) {
            'Object' {
                $table = @{}
                foreach ($property in $Element.EnumerateObject()) { $table[$property.Name] = ConvertFrom-JsonElement $property.Value }
                return $table
            }
            'Array' { return , @(foreach ($item in $Element.EnumerateArray()) { ConvertFrom-JsonElement $item }) }
            'String' { return $Element.GetString() }
            'Number' {
                $int = 0; if ($Element.TryGetInt32([ref] $int)) { return $int }
                $long = 0L; if ($Element.TryGetInt64([ref] $long)) { return $long }
                return $Element.GetDouble()
            }
            'True' { return $true }
            'False' { return $false }
            default { return $null }
        }
    }

    function New-Cancellation([DateTime] $Until) {
        $left = $Until - [DateTime]::UtcNow
        if ($left -le [TimeSpan]::Zero) { $left = [TimeSpan]::FromMilliseconds(1) }
        [System.Threading.CancellationTokenSource]::new($left)
    }

    function Send-CdpMessage([string] $Json, [DateTime] $Until) {
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($Json)
        $cancel = New-Cancellation $Until
        try {
            $null = $session.Socket.SendAsync([ArraySegment[byte]]::new($bytes), [System.Net.WebSockets.WebSocketMessageType]::Text,
                $true, $cancel.Token).GetAwaiter().GetResult()
        }
        finally { $cancel.Dispose() }
    }

    # One whole message (a reply or an event can span many frames), by -Until.
    function Receive-CdpMessage([DateTime] $Until, [string] $Waiting) {
        $cancel = New-Cancellation $Until
        $message = [System.IO.MemoryStream]::new()
        try {
            do {
                $frame = $session.Socket.ReceiveAsync([ArraySegment[byte]]::new($session.Buffer), $cancel.Token).GetAwaiter().GetResult()
                if ($frame.MessageType -eq [System.Net.WebSockets.WebSocketMessageType]::Close) {
                    throw "Chromium closed the DevTools connection while the harness waited for $Waiting."
                }
                $message.Write($session.Buffer, 0, $frame.Count)
            } until ($frame.EndOfMessage)
        }
        catch {
            if ($cancel.IsCancellationRequested) {
                throw "Timed out after $TimeoutSeconds s: still waiting for $Waiting."
            }
            throw
        }
        finally { $cancel.Dispose() }
        $document = [System.Text.Json.JsonDocument]::Parse([ReadOnlyMemory[byte]]::new($message.GetBuffer(), 0, [int]$message.Length))
        try { ConvertFrom-JsonElement $document.RootElement } finally { $document.Dispose() }
    }

    # Sends a command and returns its result; events that arrive meanwhile are recorded, not lost.
    function Invoke-Cdp([string] $Method, [System.Collections.IDictionary] $Params = @{}) {
        $id = ++$session.NextId
        Send-CdpMessage (ConvertTo-Json -InputObject @{ id = $id; method = $Method; params = $Params } -Depth 20 -Compress) $deadline
        while ($true) {
            $message = Receive-CdpMessage $deadline "the reply to $Method"
            if (-not $message.ContainsKey('id')) { Add-CdpEvent $message; continue }
            if ($message['id'] -ne $id) { continue }
            if ($message.ContainsKey('error')) {
                throw "DevTools command $Method failed: $($message['error']['message']) $($message['error']['data'])"
            }
            return $message['result']
        }
    }

    # Records events until -Done holds.
    function Wait-CdpEvent([scriptblock] $Done, [string] $Waiting) {
        while (-not (& $Done)) {
            $message = Receive-CdpMessage $deadline $Waiting
            if (-not $message.ContainsKey('id')) { Add-CdpEvent $message }
        }
    }

    # --- what the page did -----------------------------------------------------------------------

    # A console.log argument as the DevTools console prints it.
    function Format-RemoteObject([hashtable] $Object) {
        if ($Object.ContainsKey('value')) {
            $value = $Object['value']
            if ($value -is [string]) { return $value }
            return ConvertTo-Json -InputObject $value -Depth 10 -Compress
        }
        if ($Object.ContainsKey('unserializableValue')) { return $Object['unserializableValue'] }
        if ($Object.ContainsKey('description')) { return $Object['description'] }
        $Object['type']
    }

    function Add-ConsoleEntry([string] $Level, [string] $Source, [string] $Text, [string] $Url, $Line) {
        $entry = [pscustomobject]@{
            Level  = $Level
            Source = $Source
            Text   = $Text
            Url    = $Url
            Line   = if ($null -ne $Line) { [int]$Line + 1 } else { 0 }    # CDP counts from 0
        }
        $session.Console.Add($entry)
        if ($Level -eq 'error') { $session.Errors.Add($entry) }
    }

    function Add-CdpEvent([hashtable] $Message) {
        $params = $Message['params']
        switch ($Message['method']) {
            'Page.loadEventFired' { $session.Loaded = $true }
            'Runtime.consoleAPICalled' {
                $level = switch ($params['type']) {
                    { $_ -in 'error', 'assert' } { 'error' }
                    'warning' { 'warning' }
                    'debug' { 'verbose' }
                    default { 'info' }
                }
                $text = @($params['args'] | ForEach-Object { Format-RemoteObject $_ }) -join ' '
                $url = $null; $line = $null
                if ($params['stackTrace'] -and $params['stackTrace']['callFrames'].Count -gt 0) {
                    $top = $params['stackTrace']['callFrames'][0]
                    $url = $top['url']; $line = $top['lineNumber']
                }
                Add-ConsoleEntry $level 'console' $text $url $line
            }
            'Runtime.exceptionThrown' {
                $details = $params['exceptionDetails']
                $text = if ($details['exception'] -and $details['exception']['description']) {
                    "$($details['text']) $($details['exception']['description'])"
                } else { $details['text'] }
                Add-ConsoleEntry 'error' 'exception' $text $details['url'] $details['lineNumber']
            }
            'Log.entryAdded' {
                $entry = $params['entry']
                Add-ConsoleEntry $entry['level'] $entry['source'] $entry['text'] $entry['url'] $entry['lineNumber']
            }
            'Network.requestWillBeSent' {
                $request = [pscustomobject]@{
                    Url           = $params['request']['url']
                    Type          = $params['type']
                    Status        = $null
                    Error         = $null
                    BlockedReason = $null
                }
                $session.Requests.Add($request)
                $session.RequestById[$params['requestId']] = $request    # a redirect's hop replaces its predecessor
            }
            'Network.responseReceived' {
                $request = $session.RequestById[$params['requestId']]
                if ($request) { $request.Status = $params['response']['status'] }
            }
            'Network.loadingFailed' {
                $request = $session.RequestById[$params['requestId']]
                if ($request) { $request.Error = $params['errorText']; $request.BlockedReason = $params['blockedReason'] }
            }
        }
    }

    # --- starting and stopping Chromium ----------------------------------------------------------

    function Start-Browser {
        $null = New-Item -ItemType Directory -Path $profileDir
        # --disable-background-networking and friends: without them Chromium keeps dialling Google's
        # services, which a closed network refuses. The resolver rule and --no-proxy-server keep the
        # page itself on file:// and 127.0.0.1 (a page cannot even look a name up).
        $arguments = @(
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--disable-default-apps', '--disable-extensions', '--no-default-browser-check', '--mute-audio',
            '--no-proxy-server', '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"',
            "--window-size=$Width,$Height", '--remote-debugging-port=0', "--user-data-dir=`"$profileDir`"", 'about:blank'
        )
        $session.Process = Start-Process -FilePath $browserPath -ArgumentList $arguments -PassThru `
            -RedirectStandardOutput (Join-Path $root 'chromium.out') -RedirectStandardError $stderrPath

        # Chromium writes the port it bound into the profile once DevTools listens.
        $portFile = Join-Path $profileDir 'DevToolsActivePort'
        $port = 0
        while ($port -eq 0) {
            if ($session.Process.HasExited) { throw "Chromium exited with code $($session.Process.ExitCode) before DevTools listened." }
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s: Chromium did not write $portFile." }
            $lines = @(try { [System.IO.File]::ReadAllLines($portFile) } catch { })
            if ($lines.Count -ge 2 -and [int]::TryParse($lines[0], [ref] $port) -and $port -gt 0) { break }
            $port = 0
            Start-Sleep -Milliseconds 25    # polling interval while Chromium starts, not an assumed duration
        }
        $session.Port = $port

        # The page target: the about:blank tab of the command line, or a new one (PUT since Chromium 111).
        $base = "http://127.0.0.1:$port"
        $askNewAt = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            # Invoke-RestMethod writes the JSON array as one object: the pipe below enumerates it.
            $targets = try { Invoke-RestMethod -Uri "$base/json/list" -NoProxy -TimeoutSec 10 } catch { $null }
            $target = $targets | ForEach-Object { $_ } | Where-Object { $_.type -eq 'page' } | Select-Object -First 1
            if (-not $target -and [DateTime]::UtcNow -gt $askNewAt) {
                $target = Invoke-RestMethod -Method Put -Uri "$base/json/new?about:blank" -NoProxy -TimeoutSec 10
            }
            if ($target) { break }
            if ($session.Process.HasExited) { throw "Chromium exited with code $($session.Process.ExitCode) before it had a page." }
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s: Chromium listed no page target at $base/json/list." }
            Start-Sleep -Milliseconds 25
        }

        $socket = [System.Net.WebSockets.ClientWebSocket]::new()
        $socket.Options.Proxy = $null
        $session.Socket = $socket
        $cancel = New-Cancellation $deadline
        try { $null = $socket.ConnectAsync([Uri]$target.webSocketDebuggerUrl, $cancel.Token).GetAwaiter().GetResult() }
        finally { $cancel.Dispose() }
    }

    # Never throws: returns what went wrong, so that the caller's own failure is not hidden.
    function Stop-Browser {
        $problems = [System.Collections.Generic.List[string]]::new()
        $process = $session.Process
        if ($process) {
            # Politely first: Browser.close lets Chromium end its children and flush the profile. No
            # reply is awaited, the connection drops as the browser goes.
            $asked = $false
            if ($session.Socket -and $session.Socket.State -eq [System.Net.WebSockets.WebSocketState]::Open) {
                try { Send-CdpMessage '{"id":999999,"method":"Browser.close","params":{}}' ([DateTime]::UtcNow.AddSeconds(5)); $asked = $true } catch { }
            }
            try {
                if (-not ($asked -and $process.WaitForExit(15000))) { $process.Kill($true) }
            }
            catch { $problems.Add("stopping Chromium $($process.Id): $($_.Exception.Message)") }
        }
        if ($session.Socket) { $session.Socket.Dispose() }

        # Children that lost their parent (a renderer, a zygote) still name the profile: end them too.
        $until = [DateTime]::UtcNow.AddSeconds(15)
        while ($left = @(Get-ProfileProcessId)) {
            if ([DateTime]::UtcNow -gt $until) { $problems.Add("Chromium processes outlived the browser: $($left -join ', ')"); break }
            foreach ($id in $left) { try { [System.Diagnostics.Process]::GetProcessById($id).Kill() } catch { } }
            Start-Sleep -Milliseconds 25    # polling while the kernel ends them
        }
        $problems
    }

    # --- the call --------------------------------------------------------------------------------

    $pagePath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
    if (-not (Test-Path -LiteralPath $pagePath -PathType Leaf)) { throw "Invoke-HeadlessPage: no file at '$Path'." }
    $uri = [Uri]::new($pagePath, [UriKind]::Absolute).AbsoluteUri    # not [Uri]$pagePath: PowerShell makes that a relative Uri
    $pngPath = if ($ScreenshotPath) { $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ScreenshotPath) } else { $null }
    $browserPath = Find-Chromium

    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    $root = Join-Path ([System.IO.Path]::GetTempPath()) ('smtpd-test-chromium-' + [Guid]::NewGuid().ToString('N'))
    $profileDir = Join-Path $root 'profile'
    $stderrPath = Join-Path $root 'chromium.err'
    $session = @{
        Process     = $null
        Port        = 0
        Socket      = $null
        Buffer      = [byte[]]::new(1MB)
        NextId      = 0
        Loaded      = $false
        Console     = [System.Collections.Generic.List[object]]::new()
        Errors      = [System.Collections.Generic.List[object]]::new()
        Requests    = [System.Collections.Generic.List[object]]::new()
        RequestById = @{}
    }
    $null = New-Item -ItemType Directory -Path $root

    $result = $null
    $failure = $null
    $cleanup = @()
    $stderr = ''
    try {
        Start-Browser
        foreach ($domain in 'Runtime', 'Log', 'Network', 'Page') { $null = Invoke-Cdp "$domain.enable" }
        $null = Invoke-Cdp 'Emulation.setDeviceMetricsOverride' @{ width = $Width; height = $Height; deviceScaleFactor = 1; mobile = $false }

        $session.Loaded = $false
        $navigation = Invoke-Cdp 'Page.navigate' @{ url = $uri }
        if ($navigation['errorText']) { throw "Chromium could not open $($uri): $($navigation['errorText'])" }
        Wait-CdpEvent { $session.Loaded } "the load event of $uri"

        # Settled: web fonts ready, then two animation frames, so that layout and paint have run once
        # after the load event (a script may draw on load).
        $settle = 'new Promise(function (resolve) {' +
            ' var frames = function () { requestAnimationFrame(function () { requestAnimationFrame(function () { resolve(document.readyState); }); }); };' +
            ' (document.fonts ? document.fonts.ready : Promise.resolve()).then(frames, frames); })'
        $null = Invoke-Cdp 'Runtime.evaluate' @{ expression = $settle; awaitPromise = $true; returnByValue = $true }

        $values = [ordered]@{}
        foreach ($name in @($Evaluate.Keys)) {
            $expression = [string]$Evaluate[$name]
            $reply = Invoke-Cdp 'Runtime.evaluate' @{ expression = $expression; awaitPromise = $true; returnByValue = $true }
            if ($reply.ContainsKey('exceptionDetails')) {
                $details = $reply['exceptionDetails']
                $why = if ($details['exception'] -and $details['exception']['description']) { $details['exception']['description'] } else { $details['text'] }
                throw "The expression '$name' ($expression) threw: $why"
            }
            $values[$name] = $reply['result']['value']
        }
        $title = (Invoke-Cdp 'Runtime.evaluate' @{ expression = 'document.title'; returnByValue = $true })['result']['value']

        if ($pngPath) {
            $capture = @{ format = 'png'; fromSurface = $true }
            if ($FullPage) {
                $metrics = Invoke-Cdp 'Page.getLayoutMetrics'
                $documentHeight = [Math]::Max([Math]::Ceiling([double]$metrics['cssContentSize']['height']), 1)
                $capture['clip'] = @{ x = 0; y = 0; width = $Width; height = $documentHeight; scale = 1 }
                $capture['captureBeyondViewport'] = $true
            }
            $shot = Invoke-Cdp 'Page.captureScreenshot' $capture
            [System.IO.File]::WriteAllBytes($pngPath, [Convert]::FromBase64String($shot['data']))
        }

        $result = [pscustomobject]@{
            Errors           = $session.Errors.ToArray()
            Console          = $session.Console.ToArray()
            Values           = $values
            Title            = $title
            ScreenshotPath   = $pngPath
            Requests         = $session.Requests.ToArray()
            LoadedUrls       = [string[]]@($session.Requests | ForEach-Object Url)
            ProcessId        = $session.Process.Id
            ProfileDirectory = $profileDir
        }
    }
    catch { $failure = $_ }
    finally {
        $cleanup = @(Stop-Browser)
        if ($failure -or $cleanup) { $stderr = Get-StderrTail }
        try { Remove-Item -LiteralPath $root -Recurse -Force } catch { $cleanup += "removing $($root): $($_.Exception.Message)" }
    }

    if ($failure -or $cleanup) {
        $text = if ($failure) { $failure.Exception.Message } else { 'Chromium did not stop cleanly.' }
        if ($cleanup) { $text += "`nWhile stopping Chromium: " + ($cleanup -join '; ') }
        if ($session.Errors.Count) { $text += "`nPage errors so far:`n" + (($session.Errors | ForEach-Object { "  [$($_.Source)] $($_.Text) ($($_.Url):$($_.Line))" }) -join "`n") }
        $text += "`nChromium's stderr (last lines):`n$stderr"
        $exception = [System.Exception]::new("Invoke-HeadlessPage $($Path): $text", $(if ($failure) { $failure.Exception }))
        $exception.Data['ProcessId'] = if ($session.Process) { $session.Process.Id } else { $null }
        $exception.Data['ProfileDirectory'] = $profileDir
        throw $exception
    }
    $result
}
