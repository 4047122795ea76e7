//! How a failed command ends: the message on stderr, short and stable, with each
//! failed AWS call's full error chain only when asked for (`-v`, or RUST_LOG set).

use decom::session::SessionError;

/// Whether the error is a closed standard output (`decom plan | head -1`): the reader
/// has what it wanted, so the command ends quietly with success, as ripgrep does.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether the full error chain is wanted: `-v`, or RUST_LOG set, as a person
/// debugging the SDK would set it.
pub fn verbose(flag: bool) -> bool {
    flag || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty())
}

/// The message for an error that ends a command: `Error: ` and the error, then each
/// cause the message does not already say (error types here put their source in
/// their own message, so printing the chain repeated the OS error). Spec
/// diagnostics arrive rendered, `error:` lines and snippets, and stand as they are.
/// `verbose` adds, for each failed AWS call, every error of its chain.
pub fn error_message(error: &anyhow::Error, verbose: bool) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    if verbose {
        message.push_str(&error_chains(error));
    }
    if message.starts_with("error:") || message.starts_with("warning:") {
        message
    } else {
        format!("Error: {message}")
    }
}

/// `  caused by:` lines for each failed call behind the error.
fn error_chains(error: &anyhow::Error) -> String {
    let mut out = String::new();
    let calls = error
        .chain()
        .filter_map(|e| e.downcast_ref::<SessionError>())
        .flat_map(SessionError::provider_errors);
    for call in calls {
        if call.causes().is_empty() {
            continue;
        }
        out.push_str(&format!("\n  {} failed", call.operation));
        if let Some(region) = &call.region {
            out.push_str(&format!(" in {region}"));
        }
        out.push(':');
        for cause in call.causes() {
            out.push_str(&format!("\n    caused by: {cause}"));
        }
    }
    out
}
