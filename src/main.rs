//! The `decom` binary: parse the command line, run the command, map the outcome to
//! Terraform's exit codes (0 ok / no changes, 1 error, 2 changes).

mod cli;
mod examples;
mod progress;
mod run;

use clap::Parser;

/// A plan of 100k resources makes millions of small allocations; mimalloc does them
/// in about two thirds of glibc's time (docs/performance.md, benchmark 1).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::Cli::parse_from(cli::normalize_args(std::env::args()));
    let code = match run::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            run::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
