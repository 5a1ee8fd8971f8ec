# ssoenv for fish: the function that wraps the binary (fisher layout: functions/ssoenv.fish).
#
#   ssoenv use PROFILE   export PROFILE's credentials into this shell
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
function ssoenv --description 'AWS SSO credentials in this shell'
    switch "$argv[1]"
        case use
            __ssoenv_use $argv[2..-1]
        case clear
            __ssoenv_apply --unset
        case allow
            # Applies at once: the directory is read again once it is trusted.
            command ssoenv $argv; and __ssoenv_cd again
        case doctor
            # Tells doctor whether the prompt hook is still installed in this shell.
            if functions -q __ssoenv_prompt
                SSOENV_HOOK=1 command ssoenv $argv
            else
                SSOENV_HOOK=0 command ssoenv $argv
            end
        case '*'
            command ssoenv $argv
    end
end
