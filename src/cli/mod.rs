//! The `decom` binary's own code, and nothing the library needs: the command line
//! (clap), the commands (arguments in, the session's results rendered out, exit
//! codes), progress bars, prompts and the bundled examples. Decisions — the account
//! guard, plan-file checks, planning — are the library's (`decom::session`).

mod apply;
pub mod args;
pub mod commands;
mod doctor;
mod examples;
pub mod failure;
mod init;
mod progress;
mod restore;
