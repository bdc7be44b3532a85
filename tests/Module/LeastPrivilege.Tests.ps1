#Requires -Version 7.0
# Start-SmtpdProxy refuses a rules file or spool that other users can change (RulesFileInsecure,
# SpoolInsecure), unless -AllowInsecurePermissions. File modes are Unix; on Windows these tests are
# skipped (the ACL rule is tested in the engine's LeastPrivilegeTests on its SDDL form).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $started = [System.Collections.Generic.List[object]]::new()
    $private = [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute'

    # A private directory of its own under TestDrive, with a rules file in it.
    function New-Setup {
        param([string] $Name)
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name)
        [System.IO.File]::SetUnixFileMode($dir.FullName, $private)
        $rules = Join-Path $dir.FullName 'smtpd_check_rules'
        [System.IO.File]::WriteAllText($rules, "allow:ALL:ALL:ALL`n")
        [System.IO.File]::SetUnixFileMode($rules, [System.IO.UnixFileMode]'UserRead, UserWrite')
        [pscustomobject]@{ Dir = $dir.FullName; Rules = $rules; Spool = (Join-Path $dir.FullName 'spool') }
    }

    function Start-Proxy {
        param($Setup, [hashtable] $More = @{})
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -RulesPath $Setup.Rules -SpoolPath $Setup.Spool `
            -DnsServer '127.0.0.1:9' -NoReverseLookup -IdentTimeoutSeconds 0 @More
        $started.Add($p)
        $p
    }
}

AfterAll {
    foreach ($p in $started) { if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false } }
}

Describe 'Start-SmtpdProxy least privilege' -Skip:$IsWindows {
    It 'starts with private files and creates the spool 0700' {
        $s = New-Setup 'ok'
        $p = Start-Proxy $s
        $p.IsRunning | Should -BeTrue
        [System.IO.File]::GetUnixFileMode($s.Spool) | Should -Be $private
        [System.IO.File]::GetUnixFileMode((Join-Path $s.Spool 'ready')) | Should -Be $private
        Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false
    }

    It 'refuses a group-writable rules file with RulesFileInsecure' {
        $s = New-Setup 'rules'
        [System.IO.File]::SetUnixFileMode($s.Rules, [System.IO.UnixFileMode]'UserRead, UserWrite, GroupRead, GroupWrite')
        { Start-Proxy $s } | Should -Throw -ErrorId 'RulesFileInsecure,SmtpdModule.Commands.StartSmtpdProxyCommand'
        try { Start-Proxy $s } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.TargetObject | Should -Be $s.Rules
        Test-Path -LiteralPath $s.Spool | Should -BeFalse
    }

    It 'refuses a world-writable spool with SpoolInsecure' {
        $s = New-Setup 'spool'
        $null = New-Item -ItemType Directory -Path $s.Spool
        [System.IO.File]::SetUnixFileMode($s.Spool, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute, OtherRead, OtherWrite, OtherExecute')
        try { Start-Proxy $s } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SpoolInsecure,*'
        $err.TargetObject | Should -Be $s.Spool
    }

    It 'starts anyway with -AllowInsecurePermissions' {
        $s = New-Setup 'allowed'
        [System.IO.File]::SetUnixFileMode($s.Rules, [System.IO.UnixFileMode]'UserRead, UserWrite, GroupWrite, OtherWrite')
        $p = Start-Proxy $s -More @{ AllowInsecurePermissions = $true }
        $p.IsRunning | Should -BeTrue
        Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false
    }
}
