# ssoenv module for PowerShell 7 and Windows PowerShell 5.1.
#
# In $PROFILE, either import the installed module:
#   Import-Module ssoenv
# or load it from the binary:
#   Invoke-Expression (& ssoenv hook pwsh | Out-String)
#
#   ssoenv use PROFILE   export PROFILE's credentials into this session ($Env: variables)
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another session renewed; while they are
# fresh, the check is .NET calls only (no process). Changing location honours a trusted
# `.ssoenv` file (see `ssoenv allow`). Loading it twice changes nothing.

$script:SsoenvExe = Get-Command -Name 'ssoenv' -CommandType Application -ErrorAction SilentlyContinue |
    Select-Object -First 1 -ExpandProperty Source

# Runs `ssoenv export --shell pwsh ARGS...` and applies its output only on success. The
# binary prints verbatim ('...') strings only, so nothing in a value is ever evaluated.
function Invoke-SsoenvExport {
    param([Parameter(ValueFromRemainingArguments = $true)][string[]] $Arguments)
    if (-not $script:SsoenvExe) {
        Write-Warning 'ssoenv: the ssoenv program is not on PATH'
        return 127
    }
    $out = & $script:SsoenvExe 'export' '--shell' 'pwsh' @Arguments
    $rc = $LASTEXITCODE
    if ($rc -eq 0 -and $out) {
        Invoke-Expression -Command ($out -join [char]10)
    }
    return $rc
}

function Get-SsoenvNow {
    return [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
}

# Dead credentials are removed, so that no tool runs with them.
function Remove-SsoenvExpired {
    param([long] $Now)
    if ($Env:SSOENV_EXPIRATION -and $Now -ge [long] $Env:SSOENV_EXPIRATION) {
        [Console]::Error.WriteLine('ssoenv: the credentials of ' + $Env:SSOENV_PROFILE + ' expired and were removed')
        $null = Invoke-SsoenvExport '--unset'
    }
}

function Update-SsoenvCredential {
    if (-not $Env:SSOENV_PROFILE) { return }
    $now = Get-SsoenvNow
    # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
    $id = ''
    if ($Env:SSOENV_STAMP -and [System.IO.File]::Exists($Env:SSOENV_STAMP)) {
        $fields = [System.IO.File]::ReadAllText($Env:SSOENV_STAMP).Trim().Split(' ')
        if ($fields.Count -ge 3) { $id = $fields[2] }
    }
    $renewAt = 0L
    if ($Env:SSOENV_RENEW_AT) { $renewAt = [long] $Env:SSOENV_RENEW_AT }
    # Fresh, and no other session renewed them: nothing to do.
    if ($id -eq $Env:SSOENV_ID -and $now -lt $renewAt) { return }
    # After a failed renewal, wait a minute before the next try.
    if ($now -lt $script:SsoenvRetry) {
        Remove-SsoenvExpired -Now $now
        return
    }
    # One line about a failure, once per set of credentials; later tries are quiet.
    if ($script:SsoenvWarned -eq $Env:SSOENV_ID) {
        $rc = Invoke-SsoenvExport '--auto' '--' $Env:SSOENV_PROFILE 2>$null
    }
    else {
        $rc = Invoke-SsoenvExport '--auto' '--' $Env:SSOENV_PROFILE
    }
    if ($rc -eq 0) {
        $script:SsoenvRetry = 0
    }
    else {
        $script:SsoenvWarned = $Env:SSOENV_ID
        $script:SsoenvRetry = $now + 60
        Remove-SsoenvExpired -Now $now
    }
}

# A trusted .ssoenv in this directory or above selects its profile; leaving it clears it.
function Update-SsoenvLocation {
    $script:SsoenvPwd = $PWD.ProviderPath
    if ($PWD.Provider.Name -ne 'FileSystem') { return }
    $found = ''
    $d = $PWD.ProviderPath
    while ($d) {
        if ([System.IO.File]::Exists([System.IO.Path]::Combine($d, '.ssoenv'))) {
            $found = $d
            break
        }
        $d = [System.IO.Path]::GetDirectoryName($d)
    }
    if ($found) {
        if ($found -ne $script:SsoenvDir) {
            $script:SsoenvDir = $found
            if ((Invoke-SsoenvExport '--auto' '--from-dir' $found) -eq 0) {
                $script:SsoenvDirProfile = $Env:SSOENV_PROFILE
            }
        }
    }
    elseif ($script:SsoenvDir) {
        $script:SsoenvDir = ''
        if ($Env:SSOENV_PROFILE -and $Env:SSOENV_PROFILE -eq $script:SsoenvDirProfile) {
            $null = Invoke-SsoenvExport '--unset'
        }
        $script:SsoenvDirProfile = ''
    }
}

function ssoenv {
    $rest = @($args | Select-Object -Skip 1)
    switch ($args[0]) {
        'use' {
            if ($rest.Count -eq 0) {
                [Console]::Error.WriteLine('usage: ssoenv use PROFILE')
                $global:LASTEXITCODE = 2
                return
            }
            $rc = Invoke-SsoenvExport @rest
            # Login required: offer to sign in, then try again.
            if ($rc -eq 3 -and -not [Console]::IsInputRedirected) {
                $answer = Read-Host -Prompt 'ssoenv: sign in now? [Y/n]'
                if ($answer -notmatch '^[nN]') {
                    & $script:SsoenvExe 'login' $rest[0]
                    if ($LASTEXITCODE -eq 0) { $rc = Invoke-SsoenvExport @rest }
                }
            }
            $script:SsoenvRetry = 0
            $global:LASTEXITCODE = $rc
        }
        'clear' {
            $global:LASTEXITCODE = Invoke-SsoenvExport '--unset'
        }
        default {
            & $script:SsoenvExe @args
        }
    }
}

# Completion: begin (`ssoenv completions pwsh` prints this part)
# What `ssoenv complete` offers where the cursor is: subcommands, options and their values
# from the binary's command tree, and names from the config at TAB time (profiles,
# sso-sessions, account ids), one `VALUE<TAB>HELP` a line; no value holds a tab or a line
# break. The words before the cursor go to it as PowerShell reads them (a quoted word's value,
# never expanded). A value is data: compared as text (a wildcard match would read [ * ? in
# it), and inserted as a verbatim string unless it is a plain word (or option), with ' and
# the curly quotes PowerShell also reads as ' doubled (about_Quoting_Rules), so that the
# completed line holds exactly that value as one argument.
Register-ArgumentCompleter -Native -CommandName 'ssoenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $exe = Get-Command -Name 'ssoenv' -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1 -ExpandProperty Source
    if (-not $exe) { return }
    $before = @()
    foreach ($element in @($commandAst.CommandElements | Select-Object -Skip 1)) {
        # The word under the cursor ends at the cursor; what follows it is not read.
        if ($element.Extent.EndOffset -ge $cursorPosition) { break }
        if ($element -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
            $before += $element.Value
        }
        else {
            $before += $element.Extent.Text
        }
    }
    # What the word says so far, read as PowerShell reads a verbatim string: a pair of quote
    # characters is one, a lone one ends it. A "..." string is taken as it stands (it is
    # never expanded here).
    $quotes = [string][char]39 + [char]0x2018 + [char]0x2019 + [char]0x201A + [char]0x201B
    $typed = [string] $wordToComplete
    if ($typed.Length -gt 0 -and $quotes.IndexOf($typed[0]) -ge 0) {
        $text = [System.Text.StringBuilder]::new()
        for ($i = 1; $i -lt $typed.Length; $i++) {
            if ($quotes.IndexOf($typed[$i]) -ge 0) {
                if ($i + 1 -lt $typed.Length -and $quotes.IndexOf($typed[$i + 1]) -ge 0) { $i++ } else { break }
            }
            $null = $text.Append($typed[$i])
        }
        $typed = $text.ToString()
    }
    elseif ($typed.StartsWith([string][char]34)) {
        $typed = $typed.Substring(1).TrimEnd([char]34)
    }
    $lines = @(& $exe 'complete' ('--current=' + $typed) '--' @before 2>$null)
    foreach ($line in $lines) {
        $name, $help = ([string] $line).Split([char]9, 2)
        if (-not $name -or -not $name.StartsWith($typed, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        if (-not $help) { $help = $name }
        $completion = $name
        if ($name -cnotmatch '^(--?)?[A-Za-z0-9_][A-Za-z0-9_.-]*$') {
            $completion = [string][char]39 + ($name -replace ('([' + $quotes + '])'), '$1$1') + [char]39
        }
        [System.Management.Automation.CompletionResult]::new($completion, $name, 'ParameterValue', $help)
    }
}
# Completion: end

# The prompt hook, installed once: it wraps the prompt the user had and keeps $? and
# $LASTEXITCODE for it.
if (-not $global:SsoenvPromptInstalled) {
    $global:SsoenvPromptInstalled = $true
    $global:SsoenvUserPrompt = $function:prompt
    function global:prompt {
        $code = $global:LASTEXITCODE
        if ($PWD.ProviderPath -ne $script:SsoenvPwd) { Update-SsoenvLocation }
        Update-SsoenvCredential
        $global:LASTEXITCODE = $code
        if ($global:SsoenvUserPrompt) { & $global:SsoenvUserPrompt } else { 'PS ' + $PWD.Path + '> ' }
    }
}

# Set-Location runs the location hook at once (PowerShell 6 and newer), not at the next prompt.
if ($ExecutionContext.SessionState.InvokeCommand.PSObject.Properties['LocationChangedAction']) {
    if (-not $global:SsoenvLocationInstalled) {
        $global:SsoenvLocationInstalled = $true
        $global:SsoenvUserLocationAction = $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction
        $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction = {
            param($source, $eventArgs)
            Update-SsoenvLocation
            if ($global:SsoenvUserLocationAction) { & $global:SsoenvUserLocationAction $source $eventArgs }
        }
    }
}

$script:SsoenvRetry = 0
$script:SsoenvWarned = ''
if ($MyInvocation.MyCommand.ScriptBlock.Module) {
    Export-ModuleMember -Function 'ssoenv', 'Update-SsoenvCredential', 'Update-SsoenvLocation'
}
