# Module manifest for ssoenv (PowerShell 5.1 and 7).
@{
    RootModule        = 'ssoenv.psm1'
    ModuleVersion     = '0.1.0'
    GUID              = '5b0b1f0e-3c55-4a8e-9d61-5d2f8b6f7a10'
    Author            = 'The ssoenv authors'
    Description       = 'AWS IAM Identity Center (SSO) credentials in the current PowerShell session: ssoenv use PROFILE, renewed before they expire.'
    PowerShellVersion = '5.1'
    FunctionsToExport = @('ssoenv', 'Update-SsoenvCredential', 'Update-SsoenvLocation')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
    PrivateData       = @{ PSData = @{ Tags = @('AWS', 'SSO', 'IdentityCenter', 'credentials') } }
}
