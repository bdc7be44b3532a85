#Requires -Version 7.0
# Every example in the docs runs (issue 5: "docs that work").
#
# WHAT IS AN EXAMPLE. Every ```powershell block in the EXAMPLES section of a cmdlet page
# (docs/en-US/<Verb-Noun>.md), every ```powershell block of an about page (docs/en-US/about_*.md) and
# of README.md. An ```Output block that follows one is its expected output. A `pwsh ... -Command "..."`
# line inside any other block (a crontab line, a systemd unit) is an example too, checked for syntax.
#
# HOW ONE RUNS. Each example runs in its own child pwsh (`-File`, a fresh process, so proxies and
# forwarders it starts are its own), with the module imported and the current location set to a fresh
# directory that holds:
#   smtpd_check_rules   a copy of the shipped examples/smtpd_check_rules
#   spool/              a copy of a spool filled through a real proxy (below)
#   log/, tmp/, home/   empty; tmp/ is the child's temporary folder (TMPDIR), so New-TemporaryFile
#                       leaves nothing behind, and home/ holds its XDG data, config and cache folders,
#                       so settings an example might write (a PSResource repository) stay in there
# and with $PSDefaultParameterValues giving Start-SmtpdProxy, Test-SmtpdRule, Test-SmtpdDnsbl, Test-SmtpdSpf and Compare-SmtpdRule `-DnsServer` the test's
# knotd (NXDOMAIN for every name): no example asks this machine's resolver. The example's text runs
# as it stands, piped through `Out-String -Width 200 -Stream` (so tables are not cut at the width of a
# redirected console), then every proxy and forwarder it left running is stopped. It must end with exit
# code 0 and write nothing to the error stream (warnings are allowed); when the page shows an Output
# block, each of its lines must appear, in order, in what the example printed, blanks collapsed.
#
# THE LOOPBACK ENVIRONMENT (BeforeAll). The NXDOMAIN knotd of tests/tools/Start-TestDns.ps1; a downstream
# SMTP server (tests/fixtures/downstream/smtp_server.py, aiosmtpd) standing in for "the real mail
# server"; and a template spool filled by a real proxy on 127.0.0.1 (the shipped rules) from python's
# smtplib, then partly forwarded to the downstream server, so it holds messages in every state the
# examples talk about (see $Ids).
#
# THE SUBSTITUTIONS: how examples stay true to readers and still run here. Readers see real-world names
# (mail.example.com, /var/spool/smtpd, port 2525, a spool id); the test replaces them before running,
# by the table $Substitutions below (applied in order to the code and to the expected output alike), plus
# a few per-example `Replace` entries in $Examples (interactive prompts get the answer a user would
# type). Nothing else of the example is changed. Tokens in replacements:
#   {Dir} the example's directory  {Port} {Port2} free loopback ports  {Downstream} 127.0.0.1:<port>
#   of the downstream server  {Dns} the knotd end point  {Module} the built module  {Id} a spool id
#   {PostfixLog} the Postfix log of tests/fixtures/traffic-logs (quoted)
#   of the template spool, chosen by the entry's `Id` (default: a Ready message)
#
# MODES (per example, in $Examples; an example without an entry is Run with no extras):
#   Run     as above, with a deadline of 60 s.
#   CtrlC   examples that serve until Ctrl+C (-Wait, `Get-Content -Wait`, a loop): run until their
#           output matches `Ready` (after `Poke: SendMail` sent a message to {Port}), then get SIGINT,
#           as a terminal's Ctrl+C sends, and must stop within 15 s without writing an error. The exit
#           code is not checked: after Ctrl+C it only says that the script was stopped. (On Windows the
#           process is killed instead, so only the part before Ctrl+C is checked there.)
#   Syntax  examples that only make sense on Windows, or as root under systemd, or that change this
#           machine: parsed with the PowerShell parser, no errors, and every command they call exists
#           in the module or in this PowerShell (or, for `Windows` entries, is one of $WindowsCommands).
#           The reason is in the test's name.
# `Unix` examples run a Unix program (a stand-in /usr/sbin/sendmail that keeps what it is given) and
# are skipped on Windows.
# Other keys: `Before` hidden setup code run in the child before the example (said in the entry why);
# `Answers` lines typed at the prompts (the child then runs without -NonInteractive); `CompareLines` how
# many Output lines to compare (the rest depend on the server); `ExpectError` a regex the error output
# must match (an example that shows an error); `Check` PowerShell run here afterwards, with $Dir, $Ids
# and $Out (the child's output), that must not throw.

BeforeDiscovery {
    $root = (Resolve-Path -LiteralPath "$PSScriptRoot/../..").ProviderPath

    # Applied in order; keys are regular expressions.
    $Substitutions = [ordered]@{
        'smtp:mail\.example\.com:25'             = 'smtp:{Downstream}'
        'mail[12]?\.example\.com'                = '{Downstream}'
        'smtp\.example\.net:587'                 = '{Downstream}'
        '192\.0\.2\.25:2526'                     = '{Downstream}'
        '/var/spool/smtpd'                       = '{Dir}/spool'
        'C:\\ProgramData\\Smtpd\\spool'          = '{Dir}/spool'
        'C:\\inetpub\\mailroot\\Pickup'          = '{Dir}/pickup'
        '/var/log/smtpd'                         = '{Dir}/log'
        '/usr/sbin/sendmail'                     = '{Dir}/sendmail'
        '/etc/smtpd(?=/)'                        = '{Dir}'
        '127\.0\.0\.1:2626'                         = '{Downstream}'
        'Import-Module SmtpdModule(?![\w/.])'    = 'Import-Module {Module}'
        '127\.0\.0\.1:5353|192\.0\.2\.53'        = '{Dns}'
        '(?<![\d.])2525(?!\d)'                   = '{Port}'
        '(?<![\d.])2526(?!\d)'                   = '{Port2}'
        '(?<![\d.])9325(?!\d)'                   = '{Port2}'   # -MetricsListen
        '\./out/SmtpdModule(?![/\w])'            = '{Module}'
        '\./examples/smtpd_check_rules'          = './smtpd_check_rules'
        '20250102T030405-abcdefghijklmnopqrstuvwx' = '{Id}'
    }

    $secure = "(ConvertTo-SecureString 'example-password' -AsPlainText -Force)"
    # A proxy on ./spool whose grey line deferred one message (SmtpClient gets 450), so the greylist has an entry.
    $greylisted = "Set-Content ./grey_rules 'grey:ALL:ALL:ALL', 'allow:ALL:ALL:ALL'; `$grey = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./grey_rules -SpoolPath ./spool; " +
        "try { [System.Net.Mail.SmtpClient]::new('127.0.0.1', `$grey.LocalEndPoints[0].Port).Send('sender@example.org', 'user@example.test', 'hello', 'hello') } catch [System.Net.Mail.SmtpException] { }" +
        "  # the proxy of a service (here of this process), which greylisted a message"
    # A proxy of the shipped rules logs two decisions (a local recipient, a relay for the own host); the candidate
    # no longer lets the own host relay.
    $replayed = "`$logging = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool -LogPath ./log/smtpd.jsonl; " +
        "`$client = [System.Net.Mail.SmtpClient]::new('127.0.0.1', `$logging.LocalEndPoints[0].Port); " +
        "`$client.Send('sender@example.org', 'user@example.test', 'hello', 'hello'); `$client.Send('sender@example.org', 'friend@elsewhere.test', 'hello', 'hello'); " +
        "(Get-Content ./smtpd_check_rules) -replace '^allow:127\.0\.0\.1 \[::1\]:ALL:ALL$', '# the own host relays no more' | Set-Content ./smtpd_check_rules.new" +
        "  # a proxy's log of two decisions, and a candidate rules file"
    $logged = "Set-Content ./log_rules 'noto:ALL:ALL:*@spam.test', 'allow:ALL:ALL:ALL'; " +
        "`$p = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./log_rules -SpoolPath ./spool -LogPath ./log/smtpd.log -NotoDelaySeconds 0; " +
        "foreach (`$to in 'user@example.test', 'x@spam.test') { try { [System.Net.Mail.SmtpClient]::new('127.0.0.1', `$p.LocalEndPoints[0].Port).Send('sender@example.org', `$to, 'hello', 'hello') } catch [System.Net.Mail.SmtpException] { } }; " +
        "`$p | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:`$false  # a proxy that logged one message accepted and one refused"
    $Examples = @{
        # --- cmdlet pages
        'Compare-SmtpdRule.md: Example 1'      = @{ Before = $replayed; Check = '$Out | Should -Match ''friend@elsewhere\.test>\s+Accepted\s+\d+\s+Refused\s+\d+''' }
        'Compare-SmtpdRule.md: Example 2'      = @{ Before = $replayed; Check = '$Out | Should -Match ''\s2\s+1\s+1\s+Accepted->Refused 1''' }
        'Compare-SmtpdRule.md: Example 3'      = @{ Before = $replayed }
        'Compare-SmtpdRule.md: Example 4'      = @{ Before = 'Copy-Item {PostfixLog} ./log/maillog  # a Postfix log (tests/fixtures/traffic-logs)'
            Check = '$Out | Should -Match ''\b3\s+3\s+0\b''' }
        'Compare-SmtpdRule.md: Example 5'      = @{ Before = $replayed }
        'about_SmtpdEvidence.md: The decision log' = @{ Before = $replayed; Check = '$Out | Should -Match ''Continue''' }
        'Export-SmtpdReport.md: Example 1'     = @{ Before = $logged; Check = '(Get-Content -Raw (Join-Path $Dir mail-report.html)) | Should -Match ''<td>Rule: noto</td><td class="n">1</td>''' }
        'Export-SmtpdReport.md: Example 2'     = @{ Before = $logged; Check = 'Test-Path (Join-Path $Dir yesterday.html) | Should -BeTrue' }
        'Export-SmtpdReport.md: Example 3'     = @{ Before = $logged; Check = '$Out | Should -Match ''Interval\s+: 00:05:00''; $Out | Should -Match ''MessagesAccepted\s+: 1''' }
        'about_SmtpdService.md: Every morning: the report by mail' = @{ Before = $replayed
            Replace = @{ '-SmtpServer mail.example.com -Port 25' = "-SmtpServer ([uri]'smtp://{Downstream}').Host -Port ([uri]'smtp://{Downstream}').Port" } }
        'Get-SmtpdLog.md: Example 1'           = @{ Before = $logged; Check = '$Out | Should -Match ''Refused\s+1\s+<sender@example\.''' }
        'Get-SmtpdLog.md: Example 2'           = @{ Before = $logged }
        'Get-SmtpdLog.md: Example 3'           = @{ Before = $logged; Check = '$Out | Should -Match ''1\s+1''' }
        'Get-SmtpdLog.md: Example 4'           = @{ Before = $logged; Check = '$Out | Should -Match ''disconnect''; $Out | Should -Match ''Outcome\s+: Refused''' }
        'Export-SmtpdSpoolItem.md: Example 2'  = @{ Id = 'Failed'; Answers = 'A'
            Check = 'Test-Path (Join-Path $Dir "failed-mail/$($Ids.Failed).eml") | Should -BeTrue; Test-Path (Join-Path $Dir "spool/failed/$($Ids.Failed).msg") | Should -BeFalse' }
        'Export-SmtpdSpoolItem.md: Example 1'  = @{ Check = 'Test-Path (Join-Path $Dir "$($Ids.Ready).eml") | Should -BeTrue' }
        'Get-SmtpFwd.md: Example 2'            = @{ Mode = 'CtrlC'; Ready = 'Forwarded' }
        'Get-SmtpFwd.md: Example 3'            = @{ Before = 'Start-SmtpFwd -SpoolPath ./spool -SmartHost {Downstream} | Out-Null  # a forwarder to list' }
        'Get-SmtpdProxy.md: Example 2'         = @{ Mode = 'CtrlC'; Ready = 'Accepted' }
        'about_SmtpdScaling.md: What a proxy''s greylisting holds' = @{ Before = $greylisted; Check = '$Out | Should -Match ''Triplet\s+1''' }
        'Get-SmtpdGreylistEntry.md: Example 1' = @{ Before = $greylisted; Check = '$Out | Should -Match ''Triplet\s+Waiting\s+127\.0\.0\.1\s+sender@example\.org''' }
        'Get-SmtpdGreylistEntry.md: Example 2' = @{ Before = $greylisted; Check = '$Out | Should -Match ''From\s+: sender@example\.org''' }
        'Get-SmtpdGreylistEntry.md: Example 3' = @{ Before = $greylisted }
        'Remove-SmtpdGreylistEntry.md: Example 1' = @{ Before = $greylisted }
        'Remove-SmtpdGreylistEntry.md: Example 2' = @{ Before = $greylisted; Check = '$Out | Should -Match ''Triplet\s+127\.0\.0\.1\s+sender@example\.org''' }
        'Remove-SmtpdGreylistEntry.md: Example 3' = @{ Before = $greylisted }
        'Get-SmtpdRule.md: Example 2'          = @{ Before = 'Copy-Item ./smtpd_check_rules ./smtpd_check_rules.new  # the new file to check'
            Check = 'Test-Path (Join-Path $Dir smtpd_check_rules) | Should -BeTrue' }
        'Get-SmtpdSpool.md: Example 5'         = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # a running proxy' }
        'Get-SmtpdSpool.md: Example 6'         = @{ Id = 'Partial'; CompareLines = 2 }
        'Get-SmtpdSpool.md: Example 7'         = @{ Check = '$Out | Should -Match ''True''' }
        'Get-SmtpdRuleHit.md: Example 1'       = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # the proxy of a service (here of this process)'
            Check = '$Out | Should -Match ''Line\s+Accepted\s+Refused\s+Deferred\s+Closed\s+Rule''' }
        'Get-SmtpdRuleHit.md: Example 2'       = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # the proxy of a service (here of this process)' }
        'Get-SmtpdRuleHit.md: Example 3'       = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # the proxy of a service (here of this process)'
            Check = '$Out | Should -Match ''Accepted\s+0''' }
        'Remove-SmtpdSpoolItem.md: Example 1'  = @{ Answers = 'Y'; Check = 'Test-Path (Join-Path $Dir "spool/ready/$($Ids.Ready).msg") | Should -BeFalse' }
        'Remove-SmtpdSpoolItem.md: Example 2'  = @{ Check = '@(Get-ChildItem (Join-Path $Dir spool/ready) -Filter *.msg).Count | Should -Be ($Ids.ReadyCount - 1)' }
        'Remove-SmtpdSpoolItem.md: Example 3'  = @{ Id = 'Failed' }
        'Resume-SmtpdSpoolItem.md: Example 2'  = @{ Id = 'Held'; Check = 'Test-Path (Join-Path $Dir "spool/ready/$($Ids.Held).msg") | Should -BeTrue' }
        'Resume-SmtpdSpoolItem.md: Example 3'  = @{ Id = 'Failed' }
        'Start-SmtpFwd.md: Example 2'          = @{ Mode = 'CtrlC'; Ready = ' forwarded ' }
        'Start-SmtpFwd.md: Example 3'          = @{ Replace = @{ "Get-Credential -UserName smtpfwd@example.net -Message 'Relay password'" = "[pscredential]::new('smtpfwd@example.net', $secure)" } }
        'Start-SmtpFwd.md: Example 5'          = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: registers a scheduled task' }
        'Start-SmtpFwd.md: Example 6'          = @{ Unix = $true; Check = '@(Get-ChildItem (Join-Path $Dir sendmail-runs)).Count | Should -BeGreaterThan 0' }
        'Start-SmtpdProxy.md: Example 1'       = @{ Check = '@(Get-ChildItem (Join-Path $Dir spool/ready) -Filter *.msg).Count | Should -Be ($Ids.ReadyCount + 1)' }
        'Start-SmtpdProxy.md: Example 3'       = @{ Mode = 'CtrlC'; Ready = 'start: listening on' }
        'Start-SmtpdProxy.md: Example 6'       = @{ Mode = 'Syntax'; Reason = 'needs an Active Directory Global Catalog' }
        'Start-SmtpdProxy.md: Example 4'       = @{ Mode = 'CtrlC'; Poke = 'SendMail'; Ready = 'Allow by line \d+'
            Before = '$null = & {TestCertificate} -Directory . -Password example-password  # ./server.pfx'
            Replace = @{ "Read-Host -AsSecureString -Prompt 'PFX password'" = $secure } }
        'Stop-SmtpFwd.md: Example 1'           = @{ Before = 'Start-SmtpFwd -SpoolPath ./spool -SmartHost {Downstream} | Out-Null  # a forwarder to stop' }
        'Stop-SmtpFwd.md: Example 3'           = @{ Before = 'Start-SmtpFwd -SpoolPath {Dir}/spool -SmartHost {Downstream} -PollInterval 01:00:00 | Out-Null  # forwarder 1' }
        'Stop-SmtpFwd.md: Example 4'           = @{ Before = 'Start-SmtpFwd -SpoolPath ./spool -SmartHost {Downstream} | Out-Null  # the old forwarder' }
        'Stop-SmtpdProxy.md: Example 1'        = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # a proxy to stop' }
        'Stop-SmtpdProxy.md: Example 3'        = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:{Port} -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # proxy 1' }
        'Stop-SmtpdProxy.md: Example 5'        = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # the proxy of a service (here of this process)'
            Check = '$Out | Should -Match ''\(stopped\)''' }
        'Get-SmtpdProxy.md: Example 3'         = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool | Out-Null  # the proxy of a service (here of this process)'
            Check = '$Out | Should -Match ''ProcessId''' }
        'Get-SmtpFwd.md: Example 4'            = @{ Before = 'Start-SmtpFwd -SpoolPath ./spool -SmartHost {Downstream} | Out-Null  # the forwarder of a service (here of this process)'
            Check = '$Out | Should -Match ''ProcessId''' }
        'Stop-SmtpFwd.md: Example 5'           = @{ Before = 'Start-SmtpFwd -SpoolPath ./spool -SmartHost {Downstream} | Out-Null  # the forwarder of a service (here of this process)'
            Check = '$Out | Should -Match ''\(stopped\)''' }
        'Suspend-SmtpdSpoolItem.md: Example 3' = @{ Id = 'ExampleNet' }
        'Test-SmtpdDnsbl.md: Example 3'        = @{ Before = "Set-Content ./dnsbl_rules 'deny:RBL.zen.spamhaus.org:ALL:ALL'; Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./dnsbl_rules -SpoolPath ./spool | Out-Null  # a proxy whose rules name a list"
            Check = '$Out | Should -Match ''(True|False)''' }
        'Test-SmtpdRule.md: Example 2'         = @{ Before = "Set-Content ./transactions.csv 'ClientAddress,ClientName,Ident,Helo,From,To','192.0.2.10,mail.example.org,,mail.example.org,<a@example.org>,<b@example.test>','203.0.113.9,,,x,<a@example.org>,<c@far.test>'  # two transactions" }
        # --- about pages and README
        'about_SmtpdModule.md: Installing'            = @{ Mode = 'Syntax'; Reason = 'installs the module: changes this machine' }
        'about_SmtpdModule.md: Active Directory and Exchange' = @{ Mode = 'Syntax'; Reason = 'needs an Active Directory Global Catalog' }
        'about_SmtpdRules.md: Check the old file'     = @{ ExpectError = ':2:41: error: junk at end of line' }
        'about_SmtpdModule.md: Getting started'       = @{ Mode = 'CtrlC'; Ready = 'start: listening on' }
        'about_SmtpdModule.md: Getting started (3)'   = @{ Mode = 'CtrlC'; Ready = ' forwarded ' }
        'about_SmtpdService.md: Windows: a scheduled task at start-up' = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: registers scheduled tasks' }
        'about_SmtpdService.md: Windows: flushing the spool every five minutes' = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: registers a scheduled task' }
        'about_SmtpdService.md: Windows: the report every morning at 06:30' = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: registers a scheduled task' }
        'about_SmtpdService.md: Windows: stopping and removing the tasks' = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: stops scheduled tasks' }
        "about_SmtpdService.md: Linux: the proxy's script, /usr/local/lib/smtpd/smtpd.ps1" = @{ Mode = 'CtrlC'; Ready = '127\.0\.0\.1:\d+'
            Replace = @{ "-Listen 0.0.0.0:25, '[::]:25'" = '-Listen 127.0.0.1:{Port}' } }
        "about_SmtpdService.md: Linux: the forwarder's script, /usr/local/lib/smtpd/smtpfwd.ps1" = @{ Mode = 'CtrlC'; Ready = 'smtp:127' }
        'about_SmtpdService.md: Windows: the metrics endpoint under a service account' = @{ Mode = 'Syntax'; Windows = $true; Reason = 'Windows only: changes the firewall' }
        'about_SmtpdService.md: Reading the logs' = @{ Before = 'Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath ./smtpd_check_rules -SpoolPath ./spool -LogPath ./log/smtpd.jsonl | Stop-SmtpdProxy  # a log to read' }
        'README.md: From nothing to a forwarded message' = @{ Check = '$Out | Should -Match ''X-Receiver: <you@example.test>''' }
    }

    $WindowsCommands = 'Register-ScheduledTask', 'Unregister-ScheduledTask', 'New-ScheduledTaskAction',
        'New-ScheduledTaskTrigger', 'New-ScheduledTaskPrincipal', 'New-ScheduledTaskSettingsSet',
        'Start-ScheduledTask', 'Stop-ScheduledTask', 'Get-ScheduledTask', 'Get-ScheduledTaskInfo',
        'icacls', 'icacls.exe', 'Get-Acl', 'Set-Acl', 'New-NetFirewallRule'

    # The fenced blocks of a markdown file: language, text, and the heading above each.
    function Get-FencedBlock {
        param([string] $Path, [switch] $ExamplesOnly)
        $lines = [System.IO.File]::ReadAllLines($Path)
        $inSection = -not $ExamplesOnly
        $heading = ''
        for ($i = 0; $i -lt $lines.Count; $i++) {
            $line = $lines[$i]
            if ($ExamplesOnly -and $line -match '^## ') { $inSection = $line -match '^## EXAMPLES\s*$'; continue }
            if ($line -match '^#{1,6}\s+(.+?)\s*$') { $heading = $Matches[1]; continue }
            if ($line -match '^```\s*([\w-]*)\s*$') {
                $lang = $Matches[1]
                $body = [System.Collections.Generic.List[string]]::new()
                for ($i++; $i -lt $lines.Count -and $lines[$i] -notmatch '^```\s*$'; $i++) { $body.Add($lines[$i]) }
                if ($inSection) { [pscustomobject]@{ Lang = $lang; Text = $body -join "`n"; Heading = $heading } }
            }
        }
    }

    $pages = @(Get-ChildItem -LiteralPath (Join-Path $root 'docs/en-US') -Filter '*.md' | Sort-Object Name) +
        @(Get-Item -LiteralPath (Join-Path $root 'README.md'))
    $all = foreach ($page in $pages) {
        $isCmdlet = $page.Name -match '^\w+-\w+\.md$'
        $blocks = @(Get-FencedBlock -Path $page.FullName -ExamplesOnly:$isCmdlet)
        $seen = @{}
        $lineNo = 0
        for ($b = 0; $b -lt $blocks.Count; $b++) {
            $block = $blocks[$b]
            # "Example 3: Serve in the foreground" is keyed "Example 3"; other headings as they are.
            $title = if ($block.Heading -match '^(Example \d+)\b') { $Matches[1] } else { $block.Heading }
            if ($block.Lang -eq 'powershell') {
                $seen[$title] = 1 + [int]$seen[$title]
                $key = "$($page.Name): $title" + $(if ($seen[$title] -gt 1) { " ($($seen[$title]))" } else { '' })
                $output = if ($b + 1 -lt $blocks.Count -and $blocks[$b + 1].Lang -eq 'Output') { $blocks[$b + 1].Text } else { '' }
                $entry = if ($Examples.ContainsKey($key)) { $Examples[$key] } else { @{} }
                @{ Key = $key; Code = $block.Text; Output = $output; Entry = $entry; Mode = $(if ($entry.Mode) { $entry.Mode } else { 'Run' }) }
            }
            elseif ($block.Lang -ne 'Output') {
                # pwsh command lines inside other blocks (crontab, systemd units, shell).
                $found = [regex]::Matches($block.Text, '\bpwsh(?:\.exe)?\b[^\n]*?-Command\s+(?:"([^"]*)"|''([^'']*)'')')
                foreach ($m in $found) {
                    $lineNo++
                    $command = if ($m.Groups[1].Success) { $m.Groups[1].Value } else { $m.Groups[2].Value }
                    @{ Key = "$($page.Name): $title (pwsh command line $lineNo)"; Code = $command; Output = ''
                       Mode = 'Syntax'; Entry = @{ Reason = "a pwsh -Command line in a $(if ($block.Lang) { $block.Lang } else { 'plain' }) block" } }
                }
            }
        }
    }
    foreach ($e in $all) {
        $e.Substitutions = $Substitutions
        $e.WindowsCommands = $WindowsCommands
        if ($e.Mode -eq 'Syntax' -and -not $e.Entry.Reason) { throw "$($e.Key): a syntax-only example needs a Reason." }
        $e.Reason = $e.Entry.Reason
    }
    # While writing a page, SMTPD_DOC_EXAMPLES='Export-SmtpdReport.md*' runs only its examples (CI sets nothing).
    $only = if ($env:SMTPD_DOC_EXAMPLES) { $env:SMTPD_DOC_EXAMPLES } else { '*' }
    $runnable = @($all | Where-Object { $_.Mode -ne 'Syntax' -and $_.Key -like $only })
    $syntaxOnly = @($all | Where-Object { $_.Mode -eq 'Syntax' -and $_.Key -like $only })
    $tableKeys = @($Examples.Keys)
    $extractedKeys = @($all | ForEach-Object Key)
}

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = (Resolve-Path -LiteralPath "$PSScriptRoot/../..").ProviderPath
    $modulePath = (Resolve-Path -LiteralPath "$root/out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $shippedRules = Join-Path $root 'examples/smtpd_check_rules'
    $sendScript = Join-Path $root 'tests/fixtures/smtp/pester_send.py'
    $certScript = Join-Path $root 'tests/tools/New-TestCertificate.ps1'
    $dns = & "$root/tests/tools/Start-TestDns.ps1" -FixturePath "$root/tests/fixtures/dns-nxdomain"
    $python = Get-AiosmtpdPython
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    # The downstream server, at a port of its choosing; it ends when its standard input closes.
    $server = Start-DownstreamServer -Python $python -Capture (Join-Path $TestDrive 'downstream') -Processes $processes
    $downstream = "127.0.0.1:$($server.Port)"

    $body = Join-Path $TestDrive 'body.eml'
    [System.IO.File]::WriteAllText($body, "From: <a@example.org>`r`nTo: <b@example.com>`r`nSubject: doc example`r`n`r`nhello`r`n")
    function Send-DocMail {
        param([int] $Port, [string] $From, [string[]] $To)
        $arguments = @($sendScript, '--port', $Port, '--from', "<$From>", '--body-file', $body)
        foreach ($t in $To) { $arguments += '--to', "<$t>" }
        $out = & $python @arguments 2>&1
        $reply = $out | ConvertFrom-Json
        if ($LASTEXITCODE -ne 0 -or $reply.data[0] -ne 250) { throw "pester_send.py: $out" }
    }
    # The one id in the spool that is not in $Known.
    function Get-NewId {
        param([string] $Spool, [string[]] $Known)
        $new = @((Get-SmtpdSpool -SpoolPath $Spool).Id | Where-Object { $_ -notin $Known })
        if ($new.Count -ne 1) { throw "Expected one new message in the template spool, found $($new.Count)." }
        $new[0]
    }

    # The template spool, filled through a real proxy with the shipped rules (127.0.0.1 may send anywhere).
    $template = Join-Path $TestDrive 'template-spool'
    $proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $shippedRules -SpoolPath $template -DnsServer $dns.EndPoint -HostName mx.example.org
    try {
        $port = $proxy.LocalEndPoints[0].Port
        $Ids = @{}
        # Forwarded once to the downstream server (whose replies depend on the local part: "temp" 450,
        # "perm" 550): one message half delivered and deferred, one failed for good (kept, no bounce).
        Send-DocMail $port 'a@example.org' 'b@example.com', 'temp-c@example.com'
        $Ids.Partial = Get-NewId $template @()
        Send-DocMail $port 'a@example.org' 'perm-e@example.com'
        $Ids.Failed = Get-NewId $template @($Ids.Partial)
        $summary = Start-SmtpFwd -SpoolPath $template -SmartHost $downstream -TlsMode None -NoBounce -Once
        if ($summary.Deferred -ne 1 -or $summary.Failed -ne 1) { throw "the template spool's first forwarding went otherwise: $($summary | Out-String)" }
        # Left as they are: ready ones and a held one.
        $known = @($Ids.Partial, $Ids.Failed)
        Send-DocMail $port 'a@example.org' 'b@example.com'
        $Ids.Ready = Get-NewId $template $known; $known += $Ids.Ready
        Send-DocMail $port 'offers@spammer.example' 'b@example.com'
        $Ids.Spam = Get-NewId $template $known; $known += $Ids.Spam
        Send-DocMail $port 'x@suspicious.example' 'b@example.com'
        $Ids.Suspicious = Get-NewId $template $known; $known += $Ids.Suspicious
        Send-DocMail $port 'a@example.org' 'c@example.net'
        $Ids.ExampleNet = Get-NewId $template $known; $known += $Ids.ExampleNet
        Send-DocMail $port 'a@example.org' 'd@example.com'
        $Ids.Held = Get-NewId $template $known
        Suspend-SmtpdSpoolItem -Id $Ids.Held -SpoolPath $template
        $Ids.ReadyCount = @(Get-SmtpdSpool -SpoolPath $template -State Ready).Count
    }
    finally { $proxy | Stop-SmtpdProxy -Confirm:$false }

    $pwshExe = [Environment]::ProcessPath
    $pwshPrefix = @()
    if ([System.IO.Path]::GetFileNameWithoutExtension($pwshExe) -eq 'dotnet') { $pwshPrefix = @('"' + (Join-Path $PSHOME 'pwsh.dll') + '"') }

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $p = $listener.LocalEndpoint.Port; $listener.Stop(); $p
    }
    function Test-Port {
        param([int] $Port)
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect([System.Net.IPAddress]::Loopback, $Port); $true } catch { $false } finally { $client.Dispose() }
    }

    # The example's code with the substitutions made and the tokens filled in.
    function Resolve-Example {
        param([string] $Text, $Substitutions, [hashtable] $Replace, [hashtable] $Tokens)
        if ($Replace) { foreach ($k in $Replace.Keys) { $Text = $Text.Replace($k, $Replace[$k]) } }
        foreach ($k in $Substitutions.Keys) { $Text = $Text -replace $k, $Substitutions[$k].Replace('$', '$$') }
        foreach ($k in $Tokens.Keys) { $Text = $Text.Replace("{$k}", "$($Tokens[$k])") }
        $Text
    }

    # Each expected line, blanks collapsed, must appear in order among the printed lines.
    function Assert-OutputLike {
        param([string] $Expected, [string] $Actual, [int] $Lines)
        $norm = { param($s) ($s -replace '\s+', ' ').Trim() }
        $want = @($Expected -split "`r?`n" | ForEach-Object { & $norm $_ } | Where-Object { $_ })
        if ($Lines) { $want = @($want | Select-Object -First $Lines) }
        $have = @($Actual -split "`r?`n" | ForEach-Object { & $norm $_ } | Where-Object { $_ })
        $at = 0
        foreach ($w in $want) {
            while ($at -lt $have.Count -and $have[$at] -ne $w) { $at++ }
            if ($at -ge $have.Count) { throw "Expected output line not found (in order): '$w'`nPrinted:`n$Actual" }
            $at++
        }
    }
}

AfterAll {
    Stop-TestProcess $processes
    if ($dns) { $dns.Stop() }
}

Describe 'The docs examples' {
    It 'names only examples that exist in its table of special cases' {
        @($tableKeys | Where-Object { $_ -notin $extractedKeys }) | Should -BeNullOrEmpty
    } -TestCases @{ tableKeys = $tableKeys; extractedKeys = $extractedKeys }

    It 'finds examples on every cmdlet page and about page' {
        foreach ($page in Get-ChildItem -LiteralPath "$root/docs/en-US" -Filter '*.md') {
            @($extractedKeys | Where-Object { $_.StartsWith("$($page.Name): ") }).Count | Should -BeGreaterThan 0 -Because "$($page.Name) should show an example"
        }
    } -TestCases @{ extractedKeys = $extractedKeys }
}

Describe 'Runnable doc example' {
    It '<Key> (<Mode>)' -ForEach $runnable {
        if ($Entry.Unix -and $IsWindows) { Set-ItResult -Skipped -Because 'it runs a Unix program' ; return }
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive ('example-' + ($Key -replace '[^\w.-]+', '-')))).FullName
        Copy-Item -LiteralPath $template -Destination (Join-Path $dir 'spool') -Recurse
        Copy-Item -LiteralPath $shippedRules -Destination $dir
        $null = New-Item -ItemType Directory -Path (Join-Path $dir 'log'), (Join-Path $dir 'tmp')
        if ($Entry.Unix) {
            # A sendmail that keeps what it is given: one file per run.
            $sink = Join-Path $dir 'sendmail'
            [System.IO.File]::WriteAllText($sink, "#!/bin/sh`nmkdir -p '$dir/sendmail-runs'`ncat > '$dir/sendmail-runs/run-`$`$'`n")
            [System.IO.File]::SetUnixFileMode($sink, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        }
        $idName = if ($Entry.Id) { $Entry.Id } else { 'Ready' }
        $tokens = [ordered]@{
            Dir = $dir.Replace('\', '/'); Port = Get-FreePort; Port2 = Get-FreePort; Downstream = $downstream
            Dns = $dns.EndPoint; Module = $modulePath; Id = $Ids[$idName]; TestCertificate = (Quote $certScript)
            PostfixLog = (Quote (Join-Path $root 'tests/fixtures/traffic-logs/postfix-maillog.txt'))
        }
        $code = Resolve-Example $Code $Substitutions $Entry.Replace $tokens
        $before = if ($Entry.Before) { Resolve-Example $Entry.Before @{} $null $tokens } else { '' }
        $expected = if ($Output) { Resolve-Example $Output $Substitutions $Entry.Replace $tokens } else { '' }

        $script = Join-Path $dir 'example.ps1'
        [System.IO.File]::WriteAllText($script, (@(
            'if ($PSStyle) { $PSStyle.OutputRendering = ''PlainText'' }'
            '$ProgressPreference = ''SilentlyContinue'''
            "`$env:TMPDIR = $(Quote (Join-Path $dir 'tmp'))"
            # A safety net: settings an example might write (a PSResource repository, say) land here.
            "`$env:XDG_DATA_HOME, `$env:XDG_CONFIG_HOME, `$env:XDG_CACHE_HOME = $(Quote (Join-Path $dir 'home/data')), $(Quote (Join-Path $dir 'home/config')), $(Quote (Join-Path $dir 'home/cache'))"
            "`$PSDefaultParameterValues['Start-SmtpdProxy:DnsServer'] = $(Quote $dns.EndPoint)"
            "`$PSDefaultParameterValues['Test-SmtpdRule:DnsServer'] = $(Quote $dns.EndPoint)"
            "`$PSDefaultParameterValues['Test-SmtpdDnsbl:DnsServer'] = $(Quote $dns.EndPoint)"
            "`$PSDefaultParameterValues['Test-SmtpdSpf:DnsServer'] = $(Quote $dns.EndPoint)"
            "`$PSDefaultParameterValues['Compare-SmtpdRule:DnsServer'] = $(Quote $dns.EndPoint)"
            "Import-Module $(Quote $modulePath)"
            "Set-Location -LiteralPath $(Quote $dir)"
            $before
            'try {'
            '. {'
            $code
            '} | Out-String -Width 200 -Stream'
            '}'
            'finally {'
            '    Get-SmtpFwd | Stop-SmtpFwd -TimeoutSeconds 5 -Confirm:$false'
            '    Get-SmtpdProxy | Stop-SmtpdProxy -TimeoutSeconds 5 -Confirm:$false'
            '}'
        ) -join "`n"), [System.Text.UTF8Encoding]::new($false))
        $answers = Join-Path $dir 'answers.txt'
        [System.IO.File]::WriteAllText($answers, $(if ($Entry.Answers) { ($Entry.Answers -join "`n") + "`n" } else { '' }))
        $stdout = Join-Path $dir 'stdout.txt'
        $stderr = Join-Path $dir 'stderr.txt'
        $arguments = $pwshPrefix + @('-NoProfile') + $(if ($Entry.Answers) { @() } else { @('-NonInteractive') }) + @('-File', ('"' + $script + '"'))
        $child = Start-Process -FilePath $pwshExe -ArgumentList $arguments -WorkingDirectory $dir -PassThru -NoNewWindow `
            -RedirectStandardInput $answers -RedirectStandardOutput $stdout -RedirectStandardError $stderr
        $processes.Add($child)
        $log = { "example:`n$code`nstdout:`n$(Get-Content -LiteralPath $stdout -Raw -ErrorAction SilentlyContinue)`nstderr:`n$(Get-Content -LiteralPath $stderr -Raw -ErrorAction SilentlyContinue)" }

        if ($Mode -eq 'CtrlC') {
            if ($Entry.Poke -eq 'SendMail') {
                Wait-Until { Test-Port $tokens.Port } -Seconds 30 -Because "the example listens on port $($tokens.Port)" -Context $log
                Send-DocMail $tokens.Port 'a@example.org' 'b@example.test'
            }
            Wait-Until { (Get-Content -LiteralPath $stdout -Raw -ErrorAction SilentlyContinue) -match $Entry.Ready } -Seconds 30 -Because "the example printed '$($Entry.Ready)'" -Context $log
            if ($IsWindows) { $child.Kill() }
            else { & kill -s INT $child.Id }
            $child.WaitForExit(15000) | Should -BeTrue -Because "Ctrl+C stops the example`n$(& $log)"
        }
        else {
            if (-not $child.WaitForExit(60000)) { $child.Kill($true); throw "The example did not end within 60 s.`n$(& $log)" }
        }
        $child.WaitForExit()
        $out = Get-Content -LiteralPath $stdout -Raw
        $err = Get-Content -LiteralPath $stderr -Raw
        # After Ctrl+C the exit code says only that the script was stopped.
        if ($Mode -ne 'CtrlC') { $child.ExitCode | Should -Be 0 -Because (& $log) }
        if ($Entry.ExpectError) { $err | Should -Match $Entry.ExpectError -Because (& $log) }
        else { $err | Should -BeNullOrEmpty -Because (& $log) }
        if ($expected) { Assert-OutputLike -Expected $expected -Actual $out -Lines $Entry.CompareLines }
        if ($Entry.Check) {
            $Dir = $dir; $Out = $out
            . ([scriptblock]::Create($Entry.Check))
        }
    }
}

Describe 'Syntax-only doc example' {
    BeforeAll {
        $known = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
        foreach ($c in Get-Command -Module SmtpdModule) { $null = $known.Add($c.Name) }
    }

    It '<Key> (<Reason>)' -ForEach $syntaxOnly {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$tokens, [ref]$errors)
        $errors | Should -BeNullOrEmpty -Because $Code
        $defined = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true).Name)
        $names = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true) |
            ForEach-Object { $_.GetCommandName() } | Where-Object { $_ } | Sort-Object -Unique
        foreach ($name in $names) {
            $exists = $known.Contains($name) -or $name -in $defined -or
                ($Entry.Windows -and $name -in $WindowsCommands) -or
                [bool](Get-Command -Name $name -ErrorAction SilentlyContinue)
            $exists | Should -BeTrue -Because "the example calls '$name'"
        }
    }
}
