//! `replay`: the events that arrived in a time range, processed again with their original
//! identity, after a processor fix, for a new index or aggregate, or to restore a table.
//!
//! The records come from the event archive ([`archive`]: the gzip objects the processor
//! writes per batch, kept for `archive_retention_days`) or, while it still holds them, the
//! stream ([`stream`]); [`window`] says which arrival times and event types are taken;
//! [`run`] sends them through the deployed function or the processor in this process
//! (`reprocess`) under their first eventID and arrival time, so each lands on the item key
//! its first delivery wrote: a replay of a stored range changes no key and adds no item, a
//! replay of a lost range stores it. [`stack`] finds the bucket, stream and function from
//! the stack's outputs. [`replay`] and [`replay_on`] run it all against a deployed stack, for
//! the binary and for tests.

pub mod archive;
pub mod run;
pub mod stack;
pub mod stream;
pub mod window;

use aws_config::SdkConfig;
use contract::outputs::{ARCHIVE_BUCKET_NAME, REPLAY_POLICY_ARN};
use kinesis_codec::record::EventSource;
use reprocess::objects::{s3_client, S3Objects};
use reprocess::{Deployed, InProcess};

use crate::run::{Options, Summary};
use crate::stack::{Wiring, WiringError};
use crate::stream::KinesisPages;

/// Where the records are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The event archive (ArchiveBucketName): every record the stream accepted and the
    /// mapping's filter let through, for `archive_retention_days`.
    Archive,
    /// The stream, while it retains the records (`kinesis_retention_period`).
    Stream,
}

/// Where the records are processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The deployed function, invoked synchronously (the default).
    Deployed,
    /// The processor's handler in this process with the caller's credentials (`--local`).
    Local,
}

/// Why a replay could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The stack could not tell what to work on.
    #[error(transparent)]
    Wiring(#[from] WiringError),
    /// The source asked for is not there, or a call failed during the run.
    #[error("{0}")]
    Run(String),
}

/// The source to read: the one asked for, else the archive when the stack has one and the
/// stream otherwise. Asking for the archive of a stack without one is an error that says
/// what to do.
pub fn choose_source(asked: Option<Source>, wiring: &Wiring) -> Result<Source, String> {
    match (asked, &wiring.archive_bucket) {
        (Some(Source::Archive), None) => Err(no_archive()),
        (Some(source), _) => Ok(source),
        (None, Some(_)) => Ok(Source::Archive),
        (None, None) => Ok(Source::Stream),
    }
}

fn no_archive() -> String {
    format!(
        "the stack has no event archive (no output {ARCHIVE_BUCKET_NAME}: it was synthesized \
         with archive_events = false); use --source stream for what the stream still holds"
    )
}

/// Finds stack `stack_name` through `config` and replays `options.window` from `source`
/// (or the default, [`choose_source`]).
pub async fn replay(
    config: &SdkConfig,
    stack_name: &str,
    options: &Options,
    source: Option<Source>,
    mode: Mode,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, ReplayError> {
    let wiring = stack::wiring(config, stack_name).await?;
    let source = choose_source(source, &wiring).map_err(ReplayError::Run)?;
    replay_on(config, &wiring, options, source, mode, progress)
        .await
        .map_err(ReplayError::Run)
}

/// Replays `options.window` of the stack `wiring` describes from `source`, through
/// `config` (with `Mode::Local`, the processor's own calls make one attempt each: it
/// retries within its deadline itself).
pub async fn replay_on(
    config: &SdkConfig,
    wiring: &Wiring,
    options: &Options,
    source: Source,
    mode: Mode,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let event_source = wiring.target.event_source(config);
    match mode {
        Mode::Local => {
            let processor = InProcess::on_aws(
                config,
                &wiring.target.processor,
                event_source.clone(),
                wiring.target.timeout,
                "replay",
            );
            from_source(
                config,
                wiring,
                &processor,
                &event_source,
                options,
                source,
                progress,
            )
            .await
        }
        Mode::Deployed => {
            let processor = Deployed {
                client: aws_sdk_lambda::Client::new(config),
                function: wiring.target.function_name.clone(),
                source: event_source.clone(),
                policy_output: REPLAY_POLICY_ARN,
            };
            from_source(
                config,
                wiring,
                &processor,
                &event_source,
                options,
                source,
                progress,
            )
            .await
        }
    }
}

async fn from_source<P: reprocess::Reprocessor>(
    config: &SdkConfig,
    wiring: &Wiring,
    processor: &P,
    event_source: &EventSource,
    options: &Options,
    source: Source,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    match (source, wiring.archive_bucket.as_deref()) {
        (Source::Archive, Some(bucket)) => {
            let objects = S3Objects::new(s3_client(config), REPLAY_POLICY_ARN);
            run::run_archive(&objects, bucket, processor, event_source, options, progress).await
        }
        (Source::Archive, None) => Err(no_archive()),
        (Source::Stream, _) => {
            let pages = KinesisPages::new(
                aws_sdk_kinesis::Client::new(config),
                wiring.target.stream_name.clone(),
            );
            run::run_stream(&pages, processor, event_source, options, progress).await
        }
    }
}
