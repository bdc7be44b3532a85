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
        'Get-SmtpdGreylistEntry'
        'Remove-SmtpdGreylistEntry'
        'Get-SmtpdRuleHit'
        'Export-SmtpdReport'
        'Test-SmtpdRule'
        'Test-SmtpdDnsbl'
        'Test-SmtpdSpf'
        'Compare-SmtpdRule'
        'Get-SmtpdRule'
        'Get-SmtpdSpool'
        'Suspend-SmtpdSpoolItem'
        'Resume-SmtpdSpoolItem'
        'Remove-SmtpdSpoolItem'
        'Export-SmtpdSpoolItem'
        'Start-SmtpFwd'
        'Get-SmtpFwd'
        'Stop-SmtpFwd'
        'Get-SmtpdLog'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    # Table and list views for every output type (src/SmtpdModule/SmtpdModule.Format.ps1xml).
    FormatsToProcess     = @('SmtpdModule.Format.ps1xml')

    PrivateData          = @{
        # Read by Compress-PSResource (build.ps1 -Task Package) into the .nupkg's nuspec.
        PSData = @{
            Tags = @('SMTP', 'AntiSpam', 'Proxy', 'Mail', 'smtpd', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            # ProjectUri = ''   # once the project has a public home
            # LicenseUri = ''   # once the project has a licence file
        }
    }
}
