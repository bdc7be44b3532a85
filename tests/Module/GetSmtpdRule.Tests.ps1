#Requires -Version 5.1
# Get-SmtpdRule: the compiled rules, warnings in the warning stream, every error of a refused file.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"

    $rules = New-RulesFile 'smtpd_check_rules' @(
        '# a comment; the blank line below counts too'
        ''
        'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        'deny_delay:*.dialup.test EXCEPT mx.dialup.test:ALL:ALL'
        'allow:ALL:ALL:*@example.test:  # comment instead of a message'
    )
}

Describe 'Get-SmtpdRule' {
    It 'writes each compiled rule with its line number, action and lists' {
        $r = Get-SmtpdRule -Path $rules
        $r | Should -HaveCount 3
        $r | Should -BeOfType ([SmtpdModule.Engine.Rules.Rule])

        $r[0].LineNumber | Should -Be 3
        $r[0].Verb | Should -Be 'Noto'
        $r[0].Action | Should -Be 'Noto'
        $r[0].Source.Text | Should -BeExactly 'ALL'
        $r[0].From.Text | Should -BeExactly 'ALL'
        $r[0].To.Text | Should -BeExactly '*@spam.test'
        $r[0].Message.Text | Should -BeExactly '550 no mail for %T'
        $r[0].Text | Should -BeExactly 'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        $r[0].Diagnostics | Should -BeNullOrEmpty

        $r[1].LineNumber | Should -Be 4
        $r[1].Verb | Should -Be 'DenyDelay'
        $r[1].Action | Should -Be 'Deny'
        $r[1].Source.Except | Should -Not -BeNullOrEmpty
        $r[1].Message | Should -BeNullOrEmpty

        $r[2].LineNumber | Should -Be 5
        $r[2].Action | Should -Be 'Allow'
        $r[2].Message | Should -BeNullOrEmpty
    }

    It 'takes the path by position and resolves it against the current location' {
        Push-Location $TestDrive
        try { $r = Get-SmtpdRule ./smtpd_check_rules }
        finally { Pop-Location }
        $r | Should -HaveCount 3
    }

    It 'declares Rule as its output type' {
        (Get-Command Get-SmtpdRule).OutputType.Type | Should -Contain ([SmtpdModule.Engine.Rules.Rule])
    }

    It 'writes the warnings of the file to the warning stream and still writes the rules' {
        $warn = New-RulesFile 'warnings' @(
            'noto:192.168.1:ALL:ALL:550 partial address never matches'
            'noto:ALL:ALL:ALL:no reply code'
            'allow:ALL:ALL:ALL'
        )
        $r = Get-SmtpdRule -Path $warn -WarningVariable w -WarningAction SilentlyContinue
        $r | Should -HaveCount 3
        $w.Count | Should -BeGreaterOrEqual 3   # partial address, reply code, line 3 shadowed
        "$($w[0])" | Should -BeLike "$warn`:1:*"
        $r[0].Diagnostics | Should -Not -BeNullOrEmpty
        $r[0].Diagnostics[0].Code | Should -BeExactly 'NeverMatches'
    }

    It 'reports every error of a refused file: the first as terminating, the others before it' {
        $bad = New-RulesFile 'bad_rules' @(
            'allow:ALL:ALL:*@example.test'
            'alow:ALL:ALL:ALL'
            'noto:ALL:ALL'
            'noto:ALL:ALL:ALL:550 see http://example.test/'
        )
        $caught = $null
        try { Get-SmtpdRule -Path $bad -ErrorVariable err -ErrorAction SilentlyContinue }
        catch { $caught = $_ }

        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        $caught.CategoryInfo.Category | Should -Be 'ParserError'
        $caught.TargetObject | Should -BeExactly $bad
        $caught.Exception.Message | Should -Match ':2:\d+:'

        # -ErrorVariable also records the terminating error, as an exception: keep the error records.
        $others = @($err | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $others | Should -HaveCount 2
        foreach ($e in $others) {
            $e.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
            $e.CategoryInfo.Category | Should -Be 'ParserError'
            $e.TargetObject | Should -BeExactly $bad
        }
        $others[0].Exception.Message | Should -Match ':3:\d+:'
        $others[1].Exception.Message | Should -Match ':4:\d+:'
    }

    It 'reports a missing file as RuleFileNotFound' {
        $missing = Join-Path $TestDrive 'no_such_rules'
        $caught = $null
        try { Get-SmtpdRule -Path $missing } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $caught.TargetObject | Should -BeExactly $missing
    }

    It 'reports a path outside the file system as RuleFileNotFound' {
        $caught = $null
        try { Get-SmtpdRule -Path 'Env:SMTPD_NO_SUCH_VARIABLE' } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'RuleFileNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $caught.TargetObject | Should -BeExactly 'Env:SMTPD_NO_SUCH_VARIABLE'
    }

    It 'reads a CRLF file and a last line without newline' {
        $crlf = Join-Path $TestDrive 'crlf'
        [System.IO.File]::WriteAllText($crlf, "# CRLF`r`nnoto:ALL:ALL:*@spam.test:550 no`r`nallow:ALL:ALL:ALL")
        $r = Get-SmtpdRule -Path $crlf -WarningVariable w
        $r | Should -HaveCount 2
        $r[0].Text | Should -BeExactly 'noto:ALL:ALL:*@spam.test:550 no'
        $r[0].Message.Text | Should -BeExactly '550 no'
        $r[1].LineNumber | Should -Be 3
        $w | Should -BeNullOrEmpty
    }

    It 'loads the example rules file without warnings' {
        $example = (Resolve-Path "$PSScriptRoot/../../examples/smtpd_check_rules").ProviderPath
        $r = Get-SmtpdRule -Path $example -WarningVariable w
        $r | Should -Not -BeNullOrEmpty
        $w | Should -BeNullOrEmpty
    }
}
