#Requires -Version 7.0
# Packaging and loading: the .nupkg that build.ps1 -Task Package makes (build.ps1 -Task Test makes it
# before Pester runs) installs with Install-PSResource from a file repository and imports by name in
# a fresh pwsh; and the module works in a pwsh that holds other versions of its libraries
# (DnsClient 1.6.1, BouncyCastle.Cryptography 2.4.0 from build/tools/tools.csproj), loaded before it
# or after it, because the engine and its libraries live in a load context of their own
# (src/SmtpdModule/Hosting/ModuleInitializer.cs). Each case runs in a fresh pwsh, since a process
# keeps what it has loaded. Traffic goes only to the NXDOMAIN knotd and a downstream SMTP server,
# both on 127.0.0.1.

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = (Resolve-Path -LiteralPath "$PSScriptRoot/../..").ProviderPath
    $moduleDir = Join-Path $root 'out/SmtpdModule'
    $manifest = Join-Path $moduleDir 'SmtpdModule.psd1'
    $package = @(Get-ChildItem -LiteralPath (Join-Path $root 'out/package') -Filter 'SmtpdModule.*.nupkg' -File -ErrorAction SilentlyContinue)
    if ($package.Count -ne 1) {
        throw 'out/package holds no single SmtpdModule .nupkg: run ./build.ps1 -Task Package (-Task Test makes it too).'
    }
    $version = (Import-PowerShellDataFile -LiteralPath $manifest).ModuleVersion

    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $rules = New-RulesFile 'allow_all' @('allow:ALL:ALL:ALL')
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/send_many.py").ProviderPath
    $python = Get-AiosmtpdPython
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    # The older libraries, as NuGet laid them out when build.ps1 restored build/tools/tools.csproj.
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
        $locals = dotnet nuget locals global-packages --list
        "$locals" -replace '^.*global-packages:\s*', '' -replace '\s+$', ''
    }
    $oldDnsClient = Join-Path $nugetRoot 'dnsclient/1.6.1/lib/net5.0/DnsClient.dll'
    $oldBouncyCastle = Join-Path $nugetRoot 'bouncycastle.cryptography/2.4.0/lib/net6.0/BouncyCastle.Cryptography.dll'
    if (-not ((Test-Path -LiteralPath $oldDnsClient) -and (Test-Path -LiteralPath $oldBouncyCastle))) {
        dotnet restore (Join-Path $root 'build/tools/tools.csproj') -nologo | Out-Null
    }
    foreach ($file in $oldDnsClient, $oldBouncyCastle) {
        if (-not (Test-Path -LiteralPath $file)) { throw "$file is missing: dotnet restore build/tools/tools.csproj brings it." }
    }

    function Start-Downstream {
        param([string] $Name)
        Start-DownstreamServer -Python $python -Capture (Join-Path $TestDrive "downstream-$Name") -Processes $processes
    }


    # Runs $Script in a fresh pwsh (-NoProfile) with $Environment added to this one's, and returns
    # what its last output line holds as JSON; anything else on stdout and stderr goes into the
    # failure message.
    function Invoke-ChildPwsh {
        param([string] $Name, [string] $Script, [hashtable] $Environment = @{})
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "child-$Name") -Force).FullName
        $file = Join-Path $dir 'child.ps1'
        $text = "`$ErrorActionPreference = 'Stop'`n`$ProgressPreference = 'SilentlyContinue'`n" +
            "if (`$PSStyle) { `$PSStyle.OutputRendering = 'PlainText' }`n" + $Script
        [System.IO.File]::WriteAllText($file, $text, [System.Text.UTF8Encoding]::new($false))

        $exe = [Environment]::ProcessPath
        $start = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file) { $start.ArgumentList.Add($a) }
        foreach ($key in $Environment.Keys) { $start.Environment[$key] = $Environment[$key] }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($start)
        $processes.Add($process)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(180000)) {
            $process.Kill($true)
            throw "child pwsh '$Name' did not finish in 180 s."
        }
        $process.WaitForExit()
        $log = "exit code $($process.ExitCode)`nstdout:`n$($stdout.Result)`nstderr:`n$($stderr.Result)"
        $last = @($stdout.Result -split "`r?`n" | Where-Object { $_.StartsWith('{') }) | Select-Object -Last 1
        if ($process.ExitCode -ne 0 -or -not $last) { throw "child pwsh '$Name' failed: $log" }
        [pscustomobject]@{ Result = $last | ConvertFrom-Json; Log = $log }
    }

    # Child-script text: the module's libraries loaded in the child, with their load contexts.
    $reportLibraries = @'
function Get-LoadedLibrary {
    foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
        $name = $a.GetName().Name
        if ($name -notin 'SmtpdModule', 'SmtpdModule.Engine', 'DnsClient', 'MailKit', 'MimeKit', 'BouncyCastle.Cryptography') { continue }
        $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a)
        [pscustomobject]@{
            Name        = $name
            Version     = $a.GetName().Version.ToString()
            FileVersion = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($a.Location).FileVersion
            Context     = $context.GetType().FullName
            IsDefault   = $context -eq [System.Runtime.Loader.AssemblyLoadContext]::Default
            Folder      = Split-Path -Leaf (Split-Path -Parent $a.Location)
        }
    }
}
'@

    # Child-script text: uses the old libraries, directly, as another module would.
    $useOldLibraries = @"
`$oldClient = [DnsClient.LookupClient]::new([System.Net.IPEndPoint]::new([ipaddress]'127.0.0.1', $($dns.Port)))
`$oldAnswer = `$oldClient.Query('nothing.example', [DnsClient.QueryType]::A).Header.ResponseCode.ToString()
`$digest = [Org.BouncyCastle.Crypto.Digests.Sha256Digest]::new()
`$bytes = [byte[]]::new(`$digest.GetDigestSize())
`$null = `$digest.DoFinal(`$bytes, 0)
`$oldDigest = [Convert]::ToHexString(`$bytes)
"@

    # Child-script text: uses the module's DnsClient (Test-SmtpdRule asks the test DNS for the
    # client's name) and its MailKit and MimeKit (a message through a real proxy, forwarded to the
    # downstream server with Start-SmtpFwd -Once).
    function Get-UseModuleScript {
        param([string] $Name, $Downstream)
        $spool = Join-Path $TestDrive "spool-$Name"
        @"
`$decision = Test-SmtpdRule -Path $(Quote $rules) -ClientAddress 192.0.2.10 -From '<a@example.org>' -To '<b@example.test>' -DnsServer $(Quote $dns.EndPoint)
`$proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $(Quote $rules) -SpoolPath $(Quote $spool) -DnsServer $(Quote $dns.EndPoint) -NoReverseLookup
try {
    `$sent = & $(Quote $python) $(Quote $sendScript) --port `$proxy.LocalEndPoints[0].Port --count 1 --from sender@example.org --to rcpt@example.com --prefix $Name 2>&1
    if (`$LASTEXITCODE -ne 0) { throw "send_many.py failed: `$sent" }
}
finally { `$proxy | Stop-SmtpdProxy -Confirm:`$false }
`$summary = Start-SmtpFwd -SpoolPath $(Quote $spool) -SmartHost 127.0.0.1:$($Downstream.Port) -TlsMode None -Once
"@
    }
}

AfterAll {
    Stop-TestProcess $processes
    if ($dns) { $dns.Stop() }
}

Describe 'The laid-out module' {
    It 'keeps only the cmdlet assembly at the root and the engine with its libraries in Dependencies/' {
        $top = @(Get-ChildItem -LiteralPath $moduleDir -Filter '*.dll' -File).Name
        $top | Should -Be @('SmtpdModule.dll')
        foreach ($name in 'SmtpdModule.Engine', 'MailKit', 'MimeKit', 'DnsClient', 'BouncyCastle.Cryptography',
                'StackExchange.Redis', 'RESPite', 'System.IO.Pipelines', 'System.IO.Hashing', 'System.Threading.Channels') {
            Join-Path $moduleDir "Dependencies/$name.dll" | Should -Exist
        }
    }

    It 'ships every library a shipped library references, each a netstandard2.0 build Windows PowerShell can load' {
        # The loader answers only from Dependencies/: a reference missing there fails at first use,
        # on the path that needs it (StackExchange.Redis alone brings RESPite, System.IO.Pipelines,
        # System.IO.Hashing, System.Threading.Channels and more). Only netstandard itself comes from
        # the runtime, and System.DirectoryServices.Protocols from runtimes/<os>/ or the Framework.
        $dependencies = Join-Path $moduleDir 'Dependencies'
        $shipped = @{}
        foreach ($file in Get-ChildItem -LiteralPath $dependencies -Filter '*.dll' -File) { $shipped[$file.BaseName] = $true }
        $problems = foreach ($file in Get-ChildItem -LiteralPath $dependencies -Filter '*.dll' -File) {
            $pe = [System.Reflection.PortableExecutable.PEReader]::new([System.IO.File]::OpenRead($file.FullName))
            try {
                $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
                foreach ($handle in $reader.AssemblyReferences) {
                    $name = $reader.GetString($reader.GetAssemblyReference($handle).Name)
                    if (-not $shipped.ContainsKey($name) -and $name -notin 'netstandard', 'System.DirectoryServices.Protocols') {
                        "$($file.Name) references $name, which is not shipped"
                    }
                }
                foreach ($handle in $reader.GetAssemblyDefinition().GetCustomAttributes()) {
                    $attribute = $reader.GetCustomAttribute($handle)
                    if ($attribute.Constructor.Kind -ne [System.Reflection.Metadata.HandleKind]::MemberReference) { continue }
                    $ctor = $reader.GetMemberReference([System.Reflection.Metadata.MemberReferenceHandle]$attribute.Constructor)
                    $type = $reader.GetTypeReference([System.Reflection.Metadata.TypeReferenceHandle]$ctor.Parent)
                    if ($reader.GetString($type.Name) -ne 'TargetFrameworkAttribute') { continue }
                    $blob = $reader.GetBlobBytes($attribute.Value)
                    $framework = [System.Text.Encoding]::UTF8.GetString($blob, 3, $blob[2])
                    if ($framework -notlike '.NETStandard,*') { "$($file.Name) is built for $framework" }
                }
            } finally { $pe.Dispose() }
        }
        @($problems) | Should -BeNullOrEmpty
    }

    It 'runs the Redis state store from its load context against a real redis-server' {
        # The engine's own type, made in a fresh pwsh: StackExchange.Redis and its libraries resolve
        # through the module's loader, and a round trip to Redis (AUTH, SET, INCRBY in MULTI, GET, SCAN) works.
        $redis = & "$PSScriptRoot/../tools/Start-TestRedis.ps1"
        try {
            $r = Invoke-ChildPwsh 'redis' @"
Import-Module $(Quote $manifest)
`$options = [SmtpdModule.Engine.State.RedisStateStoreOptions]::FromUri('$($redis.Uri)')
`$options.SetCredential('default', (ConvertTo-SecureString '$($redis.Password)' -AsPlainText -Force))
`$store = [SmtpdModule.Engine.State.RedisStateStore]::new(`$options)
`$none = [System.Threading.CancellationToken]::None
`$connected = `$store.WaitUntilConnectedAsync([TimeSpan]::FromSeconds(20), `$none).GetAwaiter().GetResult()
`$store.SetAsync('k', 'v', [TimeSpan]::FromMinutes(1), `$none).GetAwaiter().GetResult()
`$count = `$store.IncrementAsync('n', 2, [TimeSpan]::FromMinutes(1), `$none).GetAwaiter().GetResult()
`$value = `$store.GetAsync('k', `$none).GetAwaiter().GetResult()
`$listed = @(`$store.ListAsync('', 10, `$none).GetAwaiter().GetResult()).Count
`$store.Dispose()
`$redisLibrary = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'StackExchange.Redis' }
@{
    Connected = `$connected; Value = `$value; Count = `$count; Listed = `$listed
    Context   = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$redisLibrary).GetType().FullName
} | ConvertTo-Json -Compress
"@
        }
        finally { $redis.Stop() }
        $r.Result.Connected | Should -BeTrue -Because $r.Log
        $r.Result.Value | Should -Be 'v'
        $r.Result.Count | Should -Be 2
        $r.Result.Listed | Should -Be 2
        $r.Result.Context | Should -Be 'SmtpdModule.Hosting.DependencyLoadContext'
    }

    It 'ships the LDAP library as working .NET 8 builds per OS, and not the netstandard2.0 stub that throws' {
        # PowerShell 7.4 runs on .NET 8 and brings an older copy than the engine asks for: the loader
        # then takes runtimes/<os>/. The package's netstandard2.0 build only throws PlatformNotSupportedException.
        Join-Path $moduleDir 'Dependencies/System.DirectoryServices.Protocols.dll' | Should -Not -Exist
        foreach ($os in 'win', 'linux', 'osx') {
            $path = Join-Path $moduleDir "Dependencies/runtimes/$os/System.DirectoryServices.Protocols.dll"
            $path | Should -Exist
            $pe = [System.Reflection.PortableExecutable.PEReader]::new([System.IO.File]::OpenRead($path))
            try {
                $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
                $frameworks = foreach ($handle in $reader.GetAssemblyDefinition().GetCustomAttributes()) {
                    $attribute = $reader.GetCustomAttribute($handle)
                    $ctor = $reader.GetMemberReference([System.Reflection.Metadata.MemberReferenceHandle]$attribute.Constructor)
                    $type = $reader.GetTypeReference([System.Reflection.Metadata.TypeReferenceHandle]$ctor.Parent)
                    if ($reader.GetString($type.Name) -eq 'TargetFrameworkAttribute') {
                        # The value blob: the prolog 01 00, then the string, its length in one byte.
                        $blob = $reader.GetBlobBytes($attribute.Value)
                        [System.Text.Encoding]::UTF8.GetString($blob, 3, $blob[2])
                    }
                }
            } finally { $pe.Dispose() }
            $frameworks | Should -Be '.NETCoreApp,Version=v8.0' -Because "$os's build must load on PowerShell 7.4"
        }
    }

    It 'has no public type that needs the engine to load, so Import-Module can list them before the resolver is in place' {
        # Import-Module reads every public type before it runs ModuleInitializer.OnImport: a public
        # type that derives from an engine type, or holds an engine enum in a field, breaks the import.
        $r = Invoke-ChildPwsh 'exported-types' @"
`$assembly = [System.Reflection.Assembly]::LoadFrom($(Quote (Join-Path $moduleDir 'SmtpdModule.dll')))
`$failures = @(try { `$null = `$assembly.GetExportedTypes() } catch { `$_.Exception.InnerException.Message })
@{ Failures = `$failures } | ConvertTo-Json -Compress
"@
        @($r.Result.Failures) | Should -BeNullOrEmpty
    }
}

Describe 'The package' {
    It 'installs from a file repository with Install-PSResource and imports by name in a fresh pwsh' {
        $repo = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'repo') -Force
        Copy-Item -LiteralPath $package[0].FullName -Destination $repo
        # A home of its own: on Linux and macOS, PSResourceGet keeps its repository list under
        # $HOME/.local/share (or XDG_DATA_HOME) and installs -Scope CurrentUser into
        # $HOME/.local/share/powershell/Modules, so this machine's list and modules stay as they are.
        # Windows has no such switch: there the module is saved to a folder (Save-PSResource) and
        # the repository unregistered at once.
        $homeDir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home') -Force).FullName
        # It must exist: .NET gives an empty LocalApplicationData for a missing one, and PSResourceGet
        # would then keep its repository list in a PSResourceGet folder of the current directory.
        $null = New-Item -ItemType Directory -Path (Join-Path $homeDir '.local/share') -Force
        $modules = if ($IsWindows) { Join-Path $TestDrive 'modules' } else { Join-Path $homeDir '.local/share/powershell/Modules' }
        $environment = if ($IsWindows) { @{} } else { @{ HOME = $homeDir; XDG_DATA_HOME = (Join-Path $homeDir '.local/share') } }

        $install = Invoke-ChildPwsh 'install' @"
`$name = 'SmtpdTest' + [guid]::NewGuid().ToString('N').Substring(0, 8)
Register-PSResourceRepository -Name `$name -Uri $(Quote $repo.FullName) -Trusted
try {
    if (`$IsWindows) {
        `$null = New-Item -ItemType Directory -Path $(Quote $modules) -Force
        Save-PSResource -Name SmtpdModule -Repository `$name -Path $(Quote $modules) -TrustRepository
    }
    else {
        Install-PSResource -Name SmtpdModule -Repository `$name -Scope CurrentUser -TrustRepository
    }
    `$installed = @(Get-InstalledPSResource -Name SmtpdModule -Path $(Quote $modules))
}
finally { Unregister-PSResourceRepository -Name `$name }
@{ Versions = @(`$installed.Version | ForEach-Object { "`$_" }) } | ConvertTo-Json -Compress
"@ -Environment $environment
        @($install.Result.Versions) | Should -Be @($version) -Because $install.Log
        Join-Path $modules "SmtpdModule/$version/SmtpdModule.psd1" | Should -Exist
        Join-Path $modules "SmtpdModule/$version/Dependencies/SmtpdModule.Engine.dll" | Should -Exist

        # Only the temporary folder on PSModulePath: the module is found by name there or not at all.
        $use = Invoke-ChildPwsh 'import-by-name' @"
$reportLibraries
Import-Module SmtpdModule
`$decision = Test-SmtpdRule -Path $(Quote $rules) -ClientAddress 192.0.2.10 -From '<a@example.org>' -To '<b@example.test>' -DnsServer $(Quote $dns.EndPoint)
`$help = Get-Help Test-SmtpdRule -Full
@{
    ModuleBase  = (Get-Module SmtpdModule).ModuleBase
    Action      = "`$(`$decision.Action)"
    IsDecision  = `$decision -is [SmtpdModule.Engine.Rules.RuleDecision]
    Synopsis    = "`$(`$help.Synopsis)"
    Description = (`$help.description | Out-String).Trim()
    About       = (Get-Help about_SmtpdModule | Out-String).Length
    Libraries   = @(Get-LoadedLibrary)
} | ConvertTo-Json -Compress -Depth 4
"@ -Environment ($environment + @{ PSModulePath = $modules })

        $r = $use.Result
        $r.ModuleBase | Should -Be (Join-Path $modules "SmtpdModule/$version") -Because $use.Log
        $r.Action | Should -Be 'Allow'
        $r.IsDecision | Should -BeTrue
        # Help from the package's en-US/ (MAML and about_ topics), not the syntax PowerShell makes up.
        $r.Synopsis | Should -Not -BeLike 'Test-SmtpdRule *-Path*'
        $r.Description | Should -Not -BeNullOrEmpty
        $r.About | Should -BeGreaterThan 200
        $engine = @($r.Libraries | Where-Object Name -EQ 'SmtpdModule.Engine')
        $engine.Count | Should -Be 1
        $engine[0].IsDefault | Should -BeFalse
        $engine[0].Context | Should -Be 'SmtpdModule.Hosting.DependencyLoadContext'
    }
}

Describe 'Beside other versions of its libraries' {
    It 'works when another module loaded DnsClient 1.6.1 and BouncyCastle 2.4.0 first' {
        $downstream = Start-Downstream 'others-first'
        $child = Invoke-ChildPwsh 'others-first' @"
$reportLibraries
Add-Type -Path $(Quote $oldDnsClient), $(Quote $oldBouncyCastle)
$useOldLibraries
`$before = @{ Answer = `$oldAnswer; Digest = `$oldDigest }
Import-Module $(Quote $manifest)
$(Get-UseModuleScript -Name 'others-first' -Downstream $downstream)
$useOldLibraries
@{
    Before    = `$before
    After     = @{ Answer = `$oldAnswer; Digest = `$oldDigest }
    Action    = "`$(`$decision.Action)"
    Forwarded = `$summary.Forwarded
    Failed    = `$summary.Failed
    Libraries = @(Get-LoadedLibrary)
} | ConvertTo-Json -Compress -Depth 4
"@
        $r = $child.Result
        $r.Action | Should -Be 'Allow' -Because $child.Log
        $r.Forwarded | Should -Be 1 -Because $child.Log
        $r.Failed | Should -Be 0
        @(Get-DownstreamEvent $downstream).Count | Should -Be 1

        # The other module's libraries still answer as before.
        $r.Before.Answer | Should -Be 'NotExistentDomain'
        $r.After.Answer | Should -Be $r.Before.Answer
        $r.After.Digest | Should -Be 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'

        $dnsClients = @($r.Libraries | Where-Object Name -EQ 'DnsClient')
        $dnsClients.Count | Should -Be 2
        ($dnsClients | Where-Object IsDefault).Version | Should -Be '1.6.1.0'
        ($dnsClients | Where-Object { -not $_.IsDefault }).Version | Should -Be '1.8.0.0'
        ($dnsClients | Where-Object { -not $_.IsDefault }).Folder | Should -Be 'Dependencies'
        foreach ($name in 'SmtpdModule.Engine', 'MailKit', 'MimeKit') {
            $loaded = @($r.Libraries | Where-Object Name -EQ $name)
            $loaded.Count | Should -Be 1 -Because "$name is loaded once"
            $loaded[0].Context | Should -Be 'SmtpdModule.Hosting.DependencyLoadContext' -Because "$name belongs to the module"
        }
        # BouncyCastle 2.4.0 and the module's newer one share assembly version 2.0.0.0: the file
        # versions tell them apart. The module's, if the forward loaded it, is its own.
        $castles = @($r.Libraries | Where-Object Name -EQ 'BouncyCastle.Cryptography')
        ($castles | Where-Object IsDefault).FileVersion | Should -BeLike '2.4.0*'
        foreach ($c in $castles | Where-Object { -not $_.IsDefault }) {
            $c.Folder | Should -Be 'Dependencies'
            $c.FileVersion | Should -Not -BeLike '2.4.0*'
        }
        $r.Libraries | Where-Object Name -EQ 'SmtpdModule' | ForEach-Object { $_.IsDefault | Should -BeTrue }
    }

    It 'lets another module load DnsClient 1.6.1 and BouncyCastle 2.4.0 after it has used its own' {
        $downstream = Start-Downstream 'module-first'
        $child = Invoke-ChildPwsh 'module-first' @"
$reportLibraries
Import-Module $(Quote $manifest)
$(Get-UseModuleScript -Name 'module-first' -Downstream $downstream)
`$first = @{ Action = "`$(`$decision.Action)"; Forwarded = `$summary.Forwarded }
Add-Type -Path $(Quote $oldDnsClient), $(Quote $oldBouncyCastle)
$useOldLibraries
`$decision = Test-SmtpdRule -Path $(Quote $rules) -ClientAddress 192.0.2.11 -From '<a@example.org>' -To '<b@example.test>' -DnsServer $(Quote $dns.EndPoint)
@{
    First     = `$first
    Action    = "`$(`$decision.Action)"
    Answer    = `$oldAnswer
    Digest    = `$oldDigest
    Libraries = @(Get-LoadedLibrary)
} | ConvertTo-Json -Compress -Depth 4
"@
        $r = $child.Result
        $r.First.Action | Should -Be 'Allow' -Because $child.Log
        $r.First.Forwarded | Should -Be 1 -Because $child.Log
        @(Get-DownstreamEvent $downstream).Count | Should -Be 1
        $r.Answer | Should -Be 'NotExistentDomain'
        $r.Digest | Should -Be 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'
        $r.Action | Should -Be 'Allow'

        $dnsClients = @($r.Libraries | Where-Object Name -EQ 'DnsClient')
        $dnsClients.Count | Should -Be 2
        ($dnsClients | Where-Object IsDefault).Version | Should -Be '1.6.1.0'
        ($dnsClients | Where-Object { -not $_.IsDefault }).Version | Should -Be '1.8.0.0'
        (@($r.Libraries | Where-Object { $_.Name -eq 'BouncyCastle.Cryptography' -and $_.IsDefault })).FileVersion | Should -BeLike '2.4.0*'
    }
}
