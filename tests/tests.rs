//! The one integration test binary: the real `ssoenv` against a local mock of the AWS APIs,
//! with real files in a temporary HOME and real shells.

mod support;

mod chain;
mod completion;
mod configure;
mod corpus;
mod daily;
mod eks;
mod endpoint;
mod endpoints;
mod exec;
mod export;
mod faults;
mod hardening;
mod index;
mod interop;
mod login;
mod plugins;
mod prompt;
mod shells;
mod signin;
mod structure;
mod tls;
