# Helpers shared by the Pester files: dot-source in BeforeAll (`. "$PSScriptRoot/TestHelpers.ps1"`).
# Not a *.Tests.ps1 file, so Pester never runs it on its own.

# Writes a rules file into TestDrive exactly as given (no newline added or translated).
function New-RulesFile {
    param([string] $Name, [string[]] $Line, [string] $NewLine = "`n")
    $path = Join-Path $TestDrive $Name
    $text = ($Line -join $NewLine) + $NewLine
    [System.IO.File]::WriteAllText($path, $text, (New-Object System.Text.UTF8Encoding $false))
    $path
}

# Polls an outside effect until it holds; on timeout, throws with what -Context says.
function Wait-Until {
    param([scriptblock] $Condition, [string] $Because, [double] $Seconds = 15, [scriptblock] $Context)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) {
            $more = if ($Context) { "`n" + ((& $Context) -join "`n") } else { '' }
            throw "Timed out after $Seconds s waiting until $Because.$more"
        }
        Start-Sleep -Milliseconds 10
    }
}

# Quotes text for a single-quoted PowerShell string in a generated script.
function Quote([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }
