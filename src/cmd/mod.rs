//! One module per subcommand. Each returns the text for stdout; `main` writes it once.

pub mod accounts;
pub mod allow;
pub mod completions;
pub mod configure;
pub mod console;
pub mod doctor;
pub mod eks_token;
pub mod exec;
pub mod export;
pub mod hook;
pub mod list;
pub mod login;
pub mod logout;
pub mod serve;
pub mod status;
