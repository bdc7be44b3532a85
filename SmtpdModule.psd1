#
# Module manifest for SmtpdModule.
# build.ps1 copies this file next to the compiled assemblies in out/SmtpdModule/.
#
@{
    RootModule           = 'SmtpdModule.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = 'cce41643-b339-479c-8375-bf8f7d7923f3'
    Author               = 'SmtpdModule developers'
    Copyright            = '(c) SmtpdModule developers.'
    Description          = 'An anti-spam SMTP proxy for PowerShell, after the Obtuse smtpd: it checks each SMTP session against smtpd_check_rules, spools accepted mail and forwards it to the real mail server.'

    # The assemblies target netstandard2.0: Windows PowerShell 5.1 and PowerShell 7 both load them.
    CompatiblePSEditions = @('Desktop', 'Core')
    PowerShellVersion    = '5.1'

    # Explicit lists, no wildcards: PowerShell can then tell what the module exports without loading it.
    CmdletsToExport      = @(
        'Start-SmtpdProxy'
        'Get-SmtpdProxy'
        'Stop-SmtpdProxy'
        'Test-SmtpdRule'
        'Get-SmtpdRule'
        'Get-SmtpdSpool'
        'Suspend-SmtpdSpoolItem'
        'Resume-SmtpdSpoolItem'
        'Remove-SmtpdSpoolItem'
        'Export-SmtpdSpoolItem'
        'Start-SmtpFwd'
        'Get-SmtpFwd'
        'Stop-SmtpFwd'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    # Enable once src/SmtpdModule/SmtpdModule.Format.ps1xml exists (build.ps1 already copies it).
    # FormatsToProcess   = @('SmtpdModule.Format.ps1xml')

    PrivateData          = @{
        PSData = @{
            # Tags       = @('SMTP', 'AntiSpam', 'Proxy')
            # ProjectUri = ''
            # LicenseUri = ''
        }
    }
}
