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

# Profile names complete after `use` and the commands that take a profile.
# `ssoenv list` prints one name a line, and no name holds a newline (the config lexer splits
# lines at \n and \r). A name is data: compared as text (a wildcard match would read [ * ?
# in it), and inserted as a verbatim string unless it is a plain word, with ' and the
# curly quotes PowerShell also reads as ' doubled (about_Quoting_Rules), so that the completed
# line holds exactly that name as one argument.
Register-ArgumentCompleter -Native -CommandName 'ssoenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    # The word under the cursor is an element only once it holds something.
    $position = $words.Count
    if ($wordToComplete) { $position -= 1 }
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
    $candidates = @()
    if ($position -eq 1) {
        $candidates = @('use', 'clear', 'export', 'list', 'login', 'logout', 'status', 'hook', 'allow', 'deny', 'completions')
    }
    if ($position -eq 1 -or ($position -eq 2 -and $words[1] -in @('use', 'export', 'login', 'status'))) {
        $candidates += @(& $script:SsoenvExe 'list' 2>$null)
    }
    foreach ($name in $candidates) {
        if (-not $name -or -not $name.StartsWith($typed, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        $completion = $name
        if ($name -cnotmatch '^[A-Za-z0-9_][A-Za-z0-9_.-]*$') {
            $completion = [string][char]39 + ($name -replace ('([' + $quotes + '])'), '$1$1') + [char]39
        }
        [System.Management.Automation.CompletionResult]::new($completion, $name, 'ParameterValue', $name)
    }
}

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
