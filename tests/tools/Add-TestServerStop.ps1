<#
.SYNOPSIS
    Gives a test server object (Start-TestDns.ps1, Start-TestLdap.ps1, Start-TestRedis.ps1) its Stop() method: kill its
    Process, wait for it, remove its Directory. Self-contained, so it works after the starting
    script has returned and its functions are gone.
#>
param([Parameter(Mandatory)] [psobject] $Server)

$Server | Add-Member -MemberType ScriptMethod -Name Stop -Value {
    $p = $this.Process
    try {
        if (-not $p.HasExited) { $p.Kill() }
        [void]$p.WaitForExit(5000)
    }
    catch [System.InvalidOperationException] { }   # already gone
    if (Test-Path -LiteralPath $this.Directory) {
        Remove-Item -LiteralPath $this.Directory -Recurse -Force -ErrorAction SilentlyContinue
    }
}
