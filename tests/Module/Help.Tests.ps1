#Requires -Version 5.1
# The help that the build makes from docs/en-US: Get-Help shows a real page for every exported
# cmdlet, and each page says what the cmdlet's own metadata says (parameters, parameter sets,
# types, binding). The about_ topics are there as text and Get-Help finds them.

BeforeDiscovery {
    $root = Join-Path $PSScriptRoot '../..'
    $manifest = Import-PowerShellDataFile (Join-Path $root 'SmtpdModule.psd1')
    $cmdlets = @($manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
    $abouts = @(Get-ChildItem -LiteralPath (Join-Path $root 'docs/en-US') -Filter 'about_*.md' -File |
            ForEach-Object { @{ Topic = $_.BaseName } })
}

BeforeAll {
    $module = Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force -PassThru
    $docs = Join-Path $PSScriptRoot '../../docs/en-US'
    $helpDir = Join-Path $module.ModuleBase 'en-US'

    # Every cmdlet has these; Get-Help documents them itself. WhatIf and Confirm come with
    # SupportsShouldProcess: the syntax shows them, and a page may document them.
    $shouldProcess = 'WhatIf', 'Confirm'
    $common = @([System.Management.Automation.PSCmdlet]::CommonParameters) +
        @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters | Where-Object { $_ -notin $shouldProcess })

    # The "## " section of a page, as lines.
    function Get-PageSection([string[]] $Lines, [string] $Name) {
        $in = $false
        foreach ($line in $Lines) {
            if ($line -match '^## ') { $in = $line -eq "## $Name"; continue }
            if ($in) { $line }
        }
    }

    # SYNTAX: one entry per "### Set" heading, with the parameters its code block shows.
    function Get-PageSyntax([string[]] $Lines) {
        $sets = [ordered]@{}
        $set = $null; $inCode = $false; $code = ''
        foreach ($line in Get-PageSection $Lines 'SYNTAX') {
            if ($line -match '^### (\S+)( \(Default\))?\s*$') {
                $set = [pscustomobject]@{ Name = $Matches[1]; IsDefault = [bool]$Matches[2]; Parameters = @() }
                $sets[$set.Name] = $set
            }
            elseif ($line -match '^```') {
                if ($inCode -and $set) { $set.Parameters = @(ConvertFrom-SyntaxText $code) }
                $inCode = -not $inCode; $code = ''
            }
            elseif ($inCode) { $code += " $line" }
        }
        $sets
    }

    # [[-A] <T>] optional positional, [-A] <T> required positional, [-A <T>] optional named,
    # [-A] optional switch, -A <T> required named, -A required switch.
    function ConvertFrom-SyntaxText([string] $Text) {
        $pattern = '\[\[-(?<n1>\w+)\]\s*<(?<t1>[^>]+)>\]' +
            '|\[-(?<n2>\w+)\]\s*<(?<t2>[^>]+)>' +
            '|\[-(?<n3>\w+)\s+<(?<t3>[^>]+)>\]' +
            '|\[-(?<n4>\w+)\]' +
            '|(?<![\w\[])-(?<n5>\w+)\s+<(?<t5>[^>]+)>' +
            '|(?<![\w\[])-(?<n6>\w+)'
        foreach ($m in [regex]::Matches($Text, $pattern)) {
            $kind = (1..6 | Where-Object { $m.Groups["n$_"].Success })[0]
            [pscustomobject]@{
                Name       = $m.Groups["n$kind"].Value
                Type       = if ($kind -in 4, 6) { 'SwitchParameter' } else { $m.Groups["t$kind"].Value }
                Required   = $kind -in 2, 5, 6
                Positional = $kind -in 1, 2
            }
        }
    }

    # PARAMETERS: name -> the key/value pairs of each of its ```yaml blocks.
    function Get-PageParameters([string[]] $Lines) {
        $parameters = [ordered]@{}
        $name = $null; $inYaml = $false
        foreach ($line in Get-PageSection $Lines 'PARAMETERS') {
            if ($line -match '^### -(\w+)\s*$') { $name = $Matches[1]; $parameters[$name] = @() }
            elseif ($line -match '^### ') { $name = $null }
            elseif ($name -and $line -eq '```yaml') { $inYaml = $true; $facts = @{} }
            elseif ($inYaml -and $line -match '^```') { $inYaml = $false; $parameters[$name] += $facts }
            elseif ($inYaml -and $line -match '^([^:]+):\s*(.*)$') { $facts[$Matches[1].Trim()] = $Matches[2].Trim() }
        }
        $parameters
    }

    # How a parameter binds from the pipeline, as the set of ByValue/ByPropertyName.
    function Get-PipelineKinds([string] $Text) {
        if ($Text -match '^True \((.+)\)$') { @($Matches[1] -split ',\s*' | Sort-Object) } else { @() }
    }
    function Get-MetadataPipelineKinds($SetMetadata) {
        @(@(if ($SetMetadata.ValueFromPipeline) { 'ByValue' }
                if ($SetMetadata.ValueFromPipelineByPropertyName) { 'ByPropertyName' }) | Sort-Object)
    }
    function Format-Position([int] $Position) { if ($Position -lt 0) { 'Named' } else { "$Position" } }

    # The parameter's metadata in each parameter set of the command it belongs to.
    function Get-SetMetadata($Command, [string] $Parameter) {
        $meta = $Command.Parameters[$Parameter]
        foreach ($set in $Command.ParameterSets) {
            $key = if ($meta.ParameterSets.ContainsKey($set.Name)) { $set.Name }
            elseif ($meta.ParameterSets.ContainsKey('__AllParameterSets')) { '__AllParameterSets' }
            if ($key) { [pscustomobject]@{ Set = $set.Name; Metadata = $meta.ParameterSets[$key] } }
        }
    }
}

Describe 'Help for <Name>' -ForEach $cmdlets {
    BeforeAll {
        $command = Get-Command -Name $Name -Module SmtpdModule
        $help = Get-Help -Name $Name -Full
        $page = Join-Path $docs "$Name.md"
        $lines = if (Test-Path -LiteralPath $page) { @(Get-Content -LiteralPath $page) } else { @() }
        $ownParameters = @($command.Parameters.Keys | Where-Object { $_ -notin $common -and $_ -notin $shouldProcess })
    }

    It 'has a page in docs/en-US' {
        $page | Should -Exist
    }

    It 'has a synopsis of its own, not the generated syntax line' {
        "$($help.Synopsis)".Trim() | Should -Not -BeNullOrEmpty
        "$($help.Synopsis)".Trim() | Should -Not -BeLike "$Name *"
    }

    It 'has a description' {
        (@($help.description | ForEach-Object Text) -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with a title and code' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            "$($example.title)".Trim('- ') | Should -Not -BeNullOrEmpty
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter in Get-Help -Parameter' {
        $undescribed = foreach ($parameter in $ownParameters) {
            $entry = Get-Help -Name $Name -Parameter $parameter -ErrorAction SilentlyContinue
            if (-not (@($entry.description | ForEach-Object Text) -join '').Trim()) { $parameter }
        }
        $undescribed | Should -BeNullOrEmpty -Because 'every parameter needs a description on the page'
    }

    It 'documents every parameter of the cmdlet on its page, and no other' {
        $documented = @((Get-PageParameters $lines).Keys)
        $missing = $ownParameters | Where-Object { $_ -notin $documented }
        $unknown = $documented | Where-Object { -not $command.Parameters.ContainsKey($_) }
        $missing | Should -BeNullOrEmpty -Because "the page needs a '### -Name' section for each parameter"
        $unknown | Should -BeNullOrEmpty -Because 'the page documents parameters the cmdlet does not have'
    }

    It 'gives each parameter on its page the type, Required, Position and pipeline input of the cmdlet' {
        $problems = foreach ($entry in (Get-PageParameters $lines).GetEnumerator()) {
            if (-not $command.Parameters.ContainsKey($entry.Key)) { continue }
            $meta = $command.Parameters[$entry.Key]
            $sets = @(Get-SetMetadata $command $entry.Key)
            if ($entry.Value.Count -eq 0) { "-$($entry.Key): no yaml block"; continue }
            foreach ($facts in $entry.Value) {
                if ($facts['Type'] -ne $meta.ParameterType.Name) {
                    "-$($entry.Key): Type '$($facts['Type'])', cmdlet '$($meta.ParameterType.Name)'"
                }
                $named = @("$($facts['Parameter Sets'])" -split ',\s*')
                foreach ($s in $sets | Where-Object { '(All)' -in $named -or $_.Set -in $named }) {
                    $required = "$($s.Metadata.IsMandatory)"
                    if ($facts['Required'] -ne $required) {
                        "-$($entry.Key) ($($s.Set)): Required '$($facts['Required'])', cmdlet '$required'"
                    }
                    $position = Format-Position $s.Metadata.Position
                    if ($facts['Position'] -ne $position) {
                        "-$($entry.Key) ($($s.Set)): Position '$($facts['Position'])', cmdlet '$position'"
                    }
                    $pipeline = Get-MetadataPipelineKinds $s.Metadata
                    if ("$(Get-PipelineKinds $facts['Accept pipeline input'])" -ne "$pipeline") {
                        "-$($entry.Key) ($($s.Set)): Accept pipeline input '$($facts['Accept pipeline input'])', cmdlet '$pipeline'"
                    }
                }
                $aliases = @("$($facts['Aliases'])" -split ',\s*' | Where-Object { $_ })
                if ("$($aliases | Sort-Object)" -ne "$($meta.Aliases | Sort-Object)") {
                    "-$($entry.Key): Aliases '$aliases', cmdlet '$($meta.Aliases)'"
                }
            }
        }
        $problems | Should -BeNullOrEmpty
    }

    It 'shows in Get-Help the type, Required, Position and pipeline input of the cmdlet' {
        $shown = @($help.parameters.parameter)
        $problems = foreach ($parameter in $ownParameters) {
            $entry = $shown | Where-Object name -EQ $parameter
            if (-not $entry) { "-${parameter}: not in Get-Help -Full"; continue }
            $meta = $command.Parameters[$parameter]
            $sets = @(Get-SetMetadata $command $parameter)
            if ($entry.type.name -ne $meta.ParameterType.Name) {
                "-${parameter}: type '$($entry.type.name)', cmdlet '$($meta.ParameterType.Name)'"
            }
            $required = [bool]($sets | Where-Object { $_.Metadata.IsMandatory })
            if ($entry.required -ne "$required".ToLowerInvariant()) {
                "-${parameter}: required '$($entry.required)', cmdlet '$required'"
            }
            $positions = @($sets | Where-Object { $_.Metadata.Position -ge 0 } | ForEach-Object { "$($_.Metadata.Position)" })
            $position = if ($positions) { $positions[0] } else { 'Named' }
            if ($entry.position -ne $position) {
                "-${parameter}: position '$($entry.position)', cmdlet '$position'"
            }
            $pipeline = @($sets | ForEach-Object { Get-MetadataPipelineKinds $_.Metadata } | Sort-Object -Unique)
            if ("$(Get-PipelineKinds $entry.pipelineInput)" -ne "$pipeline") {
                "-${parameter}: pipeline input '$($entry.pipelineInput)', cmdlet '$pipeline'"
            }
        }
        $problems | Should -BeNullOrEmpty
    }

    It 'lists under OUTPUTS the types the cmdlet declares with [OutputType]' {
        $listed = @($help.returnValues.returnValue | ForEach-Object { "$($_.type.name)".Trim() })
        $declared = @($command.OutputType | ForEach-Object Name)
        if ($declared.Count -eq 0) { "$listed" | Should -Be 'None' }
        else { "$($listed | Where-Object { $_ -ne 'None' } | Sort-Object)" | Should -Be "$($declared | Sort-Object)" }
    }

    It 'lists under INPUTS what binds from the pipeline, or None when nothing does' {
        $listed = @($help.inputTypes.inputType | ForEach-Object { "$($_.type.name)".Trim() })
        $bound = @(foreach ($name in $ownParameters) {
                foreach ($s in Get-SetMetadata $command $name) {
                    if ($s.Metadata.ValueFromPipeline -or $s.Metadata.ValueFromPipelineByPropertyName) { $name }
                }
            })
        if ($bound.Count -eq 0) { "$listed" | Should -Be 'None' }
        else { $listed | Should -Not -Contain 'None' }
        foreach ($name in $ownParameters) {
            $byValue = @(Get-SetMetadata $command $name | Where-Object { $_.Metadata.ValueFromPipeline })
            if ($byValue.Count -eq 0) { continue }
            $type = $command.Parameters[$name].ParameterType
            if ($type.IsArray) { $type = $type.GetElementType() }
            $listed | Where-Object { $_ -in $type.FullName, "$($type.FullName)[]" } |
                Should -Not -BeNullOrEmpty -Because "-$name takes $($type.FullName) objects from the pipeline"
        }
    }

    It 'shows the parameter sets of the cmdlet in its SYNTAX section' {
        $syntax = Get-PageSyntax $lines
        "$(@($syntax.Keys) | Sort-Object)" | Should -Be "$(@($command.ParameterSets.Name) | Sort-Object)"
        $problems = foreach ($set in $command.ParameterSets) {
            $shown = $syntax[$set.Name]
            if (-not $shown) { continue }
            if ($command.ParameterSets.Count -gt 1 -and $shown.IsDefault -ne $set.IsDefault) {
                "$($set.Name): '(Default)' is $($shown.IsDefault) on the page, the cmdlet says $($set.IsDefault)"
            }
            $expected = @($set.Parameters | Where-Object { $_.Name -notin $common })
            foreach ($p in $expected) {
                $s = $shown.Parameters | Where-Object Name -EQ $p.Name
                if (-not $s) { "$($set.Name): -$($p.Name) missing"; continue }
                if ($s.Type -ne $p.ParameterType.Name) { "$($set.Name): -$($p.Name) type '$($s.Type)', cmdlet '$($p.ParameterType.Name)'" }
                if ($s.Required -ne $p.IsMandatory) { "$($set.Name): -$($p.Name) required $($s.Required), cmdlet $($p.IsMandatory)" }
                if ($s.Positional -ne ($p.Position -ge 0)) { "$($set.Name): -$($p.Name) positional $($s.Positional), cmdlet position $($p.Position)" }
            }
            foreach ($s in $shown.Parameters | Where-Object { $_.Name -notin $expected.Name }) {
                "$($set.Name): -$($s.Name) is not in this parameter set"
            }
        }
        $problems | Should -BeNullOrEmpty
    }
}

Describe 'The exported cmdlets' {
    It 'are the ones the manifest lists, so that each has a page' {
        $listed = (Import-PowerShellDataFile (Join-Path $module.ModuleBase 'SmtpdModule.psd1')).CmdletsToExport
        "$(@((Get-Command -Module SmtpdModule -CommandType Cmdlet).Name) | Sort-Object)" |
            Should -Be "$(@($listed) | Sort-Object)"
    }
}

Describe 'About topic <Topic>' -ForEach $abouts {
    It 'is built into the module as text' {
        Join-Path $helpDir "$Topic.help.txt" | Should -Exist
    }

    It 'is what Get-Help shows' {
        $text = Get-Help -Name $Topic | Out-String
        $text | Should -Match "TOPIC\s+$Topic"
        $text | Should -Match 'SHORT DESCRIPTION'
    }

    It 'keeps its prose within 80 columns' {
        # Code samples keep their lines (indented by 8 or more); everything else is wrapped.
        $long = Get-Content -LiteralPath (Join-Path $helpDir "$Topic.help.txt") |
            Where-Object { $_.Length -gt 80 -and $_ -notmatch '^ {8}' }
        $long | Should -BeNullOrEmpty
    }
}

Describe 'Get-Help about_SmtpdRules' {
    It 'shows the rules topic' {
        $text = Get-Help -Name about_SmtpdRules | Out-String
        $text | Should -Match 'about_SmtpdRules'
        $text | Should -Match 'smtpd_check_rules'
    }
}
