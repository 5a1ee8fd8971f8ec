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
        $rc = Invoke-SsoenvExport '--auto' $Env:SSOENV_PROFILE 2>$null
    }
    else {
        $rc = Invoke-SsoenvExport '--auto' $Env:SSOENV_PROFILE
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
Register-ArgumentCompleter -Native -CommandName 'ssoenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    $profiles = @(& $script:SsoenvExe 'list' 2>$null)
    $candidates = if ($words.Count -le 2) {
        @('use', 'clear', 'export', 'list', 'login', 'logout', 'status', 'hook', 'allow', 'deny', 'completions') + $profiles
    }
    elseif ($words[1] -in @('use', 'export', 'login', 'status')) {
        $profiles
    }
    else {
        @()
    }
    $candidates | Where-Object { $_ -like ($wordToComplete + '*') } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
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
