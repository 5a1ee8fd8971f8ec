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
        case '*'
            command ssoenv $argv
    end
end
