# ssoenv module for PowerShell 7 and Windows PowerShell 5.1.
#
# In $PROFILE, either import the installed module by its path (install.sh puts it in
# PREFIX/share/ssoenv/pwsh, PREFIX defaulting to ~/.local):
#   Import-Module <prefix>/share/ssoenv/pwsh/ssoenv.psd1
# or load it from the binary:
#   Invoke-Expression (& ssoenv hook pwsh | Out-String)
#
#   ssoenv use PROFILE   export PROFILE's credentials into this session ($Env: variables)
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another session renewed; while they are
# fresh, the check is .NET calls only (no process). A renewal never holds up the prompt: it
# runs in the background, and a later prompt takes its credentials (a failure is reported
# once, retried with backoff, and the credentials are removed when they expire). Changing
# location honours a trusted `.ssoenv` file (see `ssoenv allow`). Loading it twice changes
# nothing.

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

# Dead credentials are removed, so that no tool runs with them, saying what gets new ones.
function Remove-SsoenvExpired {
    param([long] $Now)
    if ($Env:SSOENV_EXPIRATION -and $Now -ge [long] $Env:SSOENV_EXPIRATION) {
        $p = [string] $Env:SSOENV_PROFILE
        if ($script:SsoenvCode -eq '3') {
            [Console]::Error.WriteLine('ssoenv: the credentials of ' + $p + ' expired and were removed; to sign in and get new ones, run: ssoenv login ' + $p + '; ssoenv use ' + $p)
        }
        else {
            [Console]::Error.WriteLine('ssoenv: the credentials of ' + $p + ' expired and were removed; to get new ones, run: ssoenv use ' + $p)
        }
        $null = Invoke-SsoenvExport '--unset'
    }
}

# Before each prompt. Fresh, it reads the stamp and compares; nothing waits for the network:
# past the renewal point `export --background` starts the renewal as a detached process and
# returns at once. Beside the stamp, its record says "running ..." or "failed SINCE CODE
# RETRY_AT COUNT MESSAGE"; a renewal that succeeded shows as a new stamp, taken at the next
# prompt.
function Update-SsoenvCredential {
    if (-not $Env:SSOENV_PROFILE) { return }
    $now = Get-SsoenvNow
    # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
    $id = ''
    $stampRenewAt = 0L
    if ($Env:SSOENV_STAMP -and [System.IO.File]::Exists($Env:SSOENV_STAMP)) {
        $fields = [System.IO.File]::ReadAllText($Env:SSOENV_STAMP).Trim().Split(' ')
        if ($fields.Count -ge 3) {
            $id = $fields[2]
            $null = [long]::TryParse($fields[1], [ref] $stampRenewAt)
        }
    }
    $renewAt = 0L
    $null = [long]::TryParse([string] $Env:SSOENV_RENEW_AT, [ref] $renewAt)
    # Fresh, and no other session renewed them: nothing to do.
    if ($id -eq $Env:SSOENV_ID -and $now -lt $renewAt) { return }
    # Newer credentials in the cache (a renewal, or another session's export): taken from
    # there by a local export that never asks the network.
    if ($id -and $id -ne $Env:SSOENV_ID -and $now -lt $stampRenewAt) {
        $null = Invoke-SsoenvExport '--background' '--' $Env:SSOENV_PROFILE 2>$null
        if ($Env:SSOENV_ID -eq $id) { return }
    }
    $state = ''
    $since = 0L
    $retry = 0L
    $code = ''
    $message = ''
    $record = [string] $Env:SSOENV_STAMP + '.renewal'
    if ($Env:SSOENV_STAMP -and [System.IO.File]::Exists($record)) {
        $r = [System.IO.File]::ReadAllText($record).Trim().Split([char[]] @([char] 32), 6)
        if ($r.Count -ge 5) {
            $state = $r[0]
            $null = [long]::TryParse($r[1], [ref] $since)
            $code = $r[2]
            $null = [long]::TryParse($r[3], [ref] $retry)
            if ($r.Count -ge 6) { $message = $r[5] }
        }
    }
    # One renewal at a time; a record older than two minutes is left over from a killed one.
    if ($state -eq 'running' -and $now -lt $since + 120) {
        Remove-SsoenvExpired -Now $now
        return
    }
    if ($state -eq 'failed') {
        if ($since -ne $script:SsoenvSeen) {
            # The record says when to retry, not the guard against starting twice.
            $script:SsoenvSeen = $since
            $script:SsoenvCode = $code
            $script:SsoenvNext = 0L
            $launched = $since + 1
            if ($script:SsoenvLaunched) { $launched = $script:SsoenvLaunched }
            # One line about a failure of these credentials' renewal, once; retries are quiet.
            if ($script:SsoenvWarned -ne $Env:SSOENV_ID -and ($since -ge $renewAt -or $since -ge $launched)) {
                $script:SsoenvWarned = $Env:SSOENV_ID
                [Console]::Error.WriteLine('ssoenv: renewing the credentials of ' + $Env:SSOENV_PROFILE + ' failed: ' + $message + ' (retrying in the background)')
            }
        }
        if ($now -lt $retry) {
            Remove-SsoenvExpired -Now $now
            return
        }
    }
    if ($now -lt $script:SsoenvNext) {
        Remove-SsoenvExpired -Now $now
        return
    }
    $script:SsoenvLaunched = $now
    $script:SsoenvNext = $now + 30
    if ($script:SsoenvExe) {
        $null = & $script:SsoenvExe 'export' '--background' '--' $Env:SSOENV_PROFILE 2>$null
    }
    Remove-SsoenvExpired -Now $now
}

# A trusted .ssoenv in this directory or above selects its profile. Leaving it gives back the
# profile chosen by hand before entering (or none), unless another was chosen inside. -Again
# (after `ssoenv allow`) reads the directory's file again.
function Update-SsoenvLocation {
    param([switch] $Again)
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
        if ($found -ne $script:SsoenvDir -or $Again) {
            if (-not $script:SsoenvDir) { $script:SsoenvBefore = [string] $Env:SSOENV_PROFILE }
            $script:SsoenvDir = $found
            if ((Invoke-SsoenvExport '--auto' '--from-dir' $found) -eq 0) {
                $script:SsoenvDirProfile = $Env:SSOENV_PROFILE
            }
        }
    }
    elseif ($script:SsoenvDir) {
        $script:SsoenvDir = ''
        $p = [string] $Env:SSOENV_PROFILE
        if ($p -and $p -eq $script:SsoenvDirProfile -and $p -ne $script:SsoenvBefore) {
            if (-not $script:SsoenvBefore -or (Invoke-SsoenvExport '--auto' '--' $script:SsoenvBefore) -ne 0) {
                $null = Invoke-SsoenvExport '--unset'
            }
        }
        $script:SsoenvDirProfile = ''
        $script:SsoenvBefore = ''
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
            $script:SsoenvNext = 0L
            $global:LASTEXITCODE = $rc
        }
        'clear' {
            $global:LASTEXITCODE = Invoke-SsoenvExport '--unset'
        }
        'allow' {
            # Applies at once: the location is read again once it is trusted.
            & $script:SsoenvExe @args
            if ($LASTEXITCODE -eq 0) {
                $code = $LASTEXITCODE
                Update-SsoenvLocation -Again
                $global:LASTEXITCODE = $code
            }
        }
        'doctor' {
            # Tells doctor whether the prompt hook is still installed in this session.
            $prompt = Get-Command -Name 'prompt' -CommandType Function -ErrorAction SilentlyContinue
            $hooked = $prompt -and $prompt.ScriptBlock.ToString().Contains('Update-SsoenvCredential')
            $previous = $Env:SSOENV_HOOK
            $Env:SSOENV_HOOK = if ($hooked) { '1' } else { '0' }
            try { & $script:SsoenvExe @args }
            finally { $Env:SSOENV_HOOK = $previous }
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

$script:SsoenvNext = 0L
$script:SsoenvLaunched = 0L
$script:SsoenvSeen = [long] -1
$script:SsoenvCode = ''
$script:SsoenvWarned = ''
# Which plugin is loaded, for `ssoenv doctor`.
$Env:SSOENV_PLUGIN = 'pwsh'
if ($MyInvocation.MyCommand.ScriptBlock.Module) {
    Export-ModuleMember -Function 'ssoenv', 'Update-SsoenvCredential', 'Update-SsoenvLocation'
}
