//! The `decom` binary: parse the command line, run the command, map the outcome to
//! Terraform's exit codes (0 ok / no changes, 1 error, 2 changes).

mod cli;

use clap::Parser;

/// A plan of 100k resources makes millions of small allocations; mimalloc does them
/// in about two thirds of glibc's time (docs/performance.md, benchmark 1).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match cli::args::Cli::try_parse_from(cli::args::normalize_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout and succeed; a usage error exits 1, as
            // Terraform's do: 2 means "changes present" under -detailed-exitcode.
            let _ = error.print();
            std::process::exit(if error.use_stderr() {
                cli::commands::EXIT_ERROR
            } else {
                cli::commands::EXIT_OK
            });
        }
    };
    let verbose = cli::failure::verbose(cli.verbose);
    let code = match cli::commands::run(cli) {
        Ok(code) => code,
        // A reader that went away (`decom plan | head -1`) is not an error.
        Err(error) if cli::failure::is_broken_pipe(&error) => cli::commands::EXIT_OK,
        Err(error) => {
            eprintln!("{}", cli::failure::error_message(&error, verbose));
            cli::commands::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
