//! What the pipeline's command-line tools (producer, local-runner, verify, redrive, query)
//! share, so a bad argument reads the same everywhere and exits 2 before any AWS call.
//!
//! - [`args`]: clap value parsers for `--region`, `--endpoint-url` and `--stack-name`.
//! - [`run`]: runs a tool's async main on a current-thread runtime.

pub mod args;

use std::future::Future;
use std::process::ExitCode;

/// Runs a tool's async main, `future`, to completion on a current-thread tokio runtime
/// (the tools need no worker threads) and returns its exit code.
///
/// When the runtime cannot start (the OS refused a thread or a descriptor), says so on
/// stderr and exits 1.
pub fn run(future: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_returns_the_main_exit_code() {
        assert_eq!(run(async { ExitCode::from(2) }), ExitCode::from(2));
        assert_eq!(run(async { ExitCode::SUCCESS }), ExitCode::SUCCESS);
    }
}
