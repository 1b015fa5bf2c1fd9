//! Where the pipeline's programs meet AWS, in one place, so every tool connects, retries and
//! explains a failure the same way (docs/design.md, "Layers").
//!
//! - [`args`]: `--stack-name`, `--endpoint-url` and `--region`, checked by shape before any
//!   call, as clap value parsers and as one flattenable struct.
//! - [`config`]: SDK configurations with timeouts, so an unreachable endpoint is an error
//!   in seconds instead of a hang, and whether the endpoint is AWS or a stand-in such as
//!   moto ([`config::Endpoint`]).
//! - [`error`]: one classifier of SDK errors by variant and error code
//!   ([`error::Failure`]), and one error type for a failed call ([`error::CallError`]) whose
//!   text ends with what to check, for the endpoint the call went to.
//! - [`health`]: an SDK interceptor that notices a service that stopped answering.
//! - [`retry`]: backoff with full jitter, bounded by a deadline.
//! - [`time`]: `--from` and `--to` as epoch milliseconds (epoch ms or RFC 3339), and a
//!   timestamp shown as RFC 3339.
//! - [`run`]: a tool's async main on a current-thread runtime.

pub mod args;
pub mod config;
pub mod error;
pub mod health;
pub mod retry;
pub mod time;

/// A tool's `--version`: `<CARGO_PKG_VERSION> (commit <GIT_COMMIT>)`, read where the macro is
/// used, so from the calling crate, whose build script sets `GIT_COMMIT` (see
/// crates/synth/build/git_commit.rs).
#[macro_export]
macro_rules! version {
    () => {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (commit ",
            env!("GIT_COMMIT"),
            ")"
        )
    };
}

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
