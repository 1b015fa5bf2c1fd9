//! Dead letters are not a one-way door: `redrive` reads the pipeline's dead-letter queue and
//! failure archive and processes what they hold again, after a fix, with each record's
//! original identity.
//!
//! The queue holds two kinds of message ([`letter`]): the processor's dead letters (one
//! rejected record, its bytes inside, or in the failure archive when too large for SQS) and
//! the event source mapping's on-failure records (a shard's sequence range, whose records
//! [`stream`] reads back by sequence number). The failure archive holds the on-failure
//! objects of the mapping's S3 destination ([`archive`]), whose payload carries the batch's
//! records themselves. The records go through the deployed function or the processor in
//! this process (`reprocess`) under their first eventID and arrival time, so they get the
//! item keys a first successful attempt would have given them: redriving twice never stores
//! an event twice. [`run`] deletes a message, or tags an object handled, only when all its
//! records are durably handled, and [`stack`] finds the queue, bucket, stream and function
//! from the stack's outputs. [`redrive`] and [`redrive_on`] run it all against a deployed
//! stack, for the binary and for tests.

pub mod archive;
pub mod letter;
pub mod queue;
pub mod run;
pub mod stack;
pub mod stream;

use aws_config::SdkConfig;
use aws_edge::config::Endpoint;
use contract::outputs::REDRIVE_POLICY_ARN;
use reprocess::objects::S3Objects;
use reprocess::{Deployed, InProcess};

use crate::queue::SqsQueue;
use crate::run::{Options, Parts, Summary};
use crate::stack::{Wiring, WiringError};
use crate::stream::KinesisSource;

/// Where the records are processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The deployed function, invoked synchronously (the default).
    Deployed,
    /// The processor's handler in this process with the caller's credentials (`--local`).
    Local,
}

/// What to say when the deployed function fails on `endpoint`: on an endpoint that is not
/// AWS (moto, which runs no Lambda code), that `--local` processes the records in this
/// process instead. `None` with `--local` or on AWS.
pub fn local_hint(mode: Mode, endpoint: &Endpoint) -> Option<String> {
    match (mode, endpoint) {
        (Mode::Deployed, Endpoint::Other(url)) => Some(format!(
            "{url} is not AWS, and an emulator such as moto runs no Lambda code: run redrive \
             with --local to process the records in this process (docs/redrive.md, \"On \
             moto\")"
        )),
        _ => None,
    }
}

/// Why a redrive could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// The stack could not tell what to work on.
    #[error(transparent)]
    Wiring(#[from] WiringError),
    /// A call failed during the run (the messages read so far are visible again).
    #[error("{0}")]
    Run(String),
}

/// Finds stack `stack_name` through `config` and redrives its queue and failure archive.
pub async fn redrive(
    config: &SdkConfig,
    stack_name: &str,
    options: &Options,
    mode: Mode,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, RedriveError> {
    let wiring = stack::wiring(config, stack_name).await?;
    redrive_on(config, &wiring, options, mode, progress)
        .await
        .map_err(RedriveError::Run)
}

/// Redrives the queue and failure archive of the stack `wiring` describes, through
/// `config` (with `Mode::Local`, the processor's own calls make one attempt each: it
/// retries within its deadline itself). When the deployed function cannot be invoked, or
/// fails until the run stops, on an endpoint that is not AWS, the error says to use
/// `--local` ([`local_hint`]).
pub async fn redrive_on(
    config: &SdkConfig,
    wiring: &Wiring,
    options: &Options,
    mode: Mode,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let options = &Options {
        processor_hint: options
            .processor_hint
            .clone()
            .or_else(|| local_hint(mode, &Endpoint::of(config))),
        ..options.clone()
    };
    let source = wiring.target.event_source(config);
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(config), wiring.queue_url.clone());
    let stream = KinesisSource::new(
        aws_sdk_kinesis::Client::new(config),
        wiring.target.stream_name.clone(),
    );
    let objects = S3Objects::new(reprocess::objects::s3_client(config), REDRIVE_POLICY_ARN);
    macro_rules! parts {
        ($processor:expr) => {
            Parts {
                queue: &queue,
                stream: &stream,
                objects: &objects,
                failure_bucket: wiring.failure_bucket.as_deref(),
                processor: $processor,
                source: &source,
            }
        };
    }
    match mode {
        Mode::Local => {
            let processor = InProcess::on_aws(
                config,
                &wiring.target.processor,
                source.clone(),
                wiring.target.timeout,
                "redrive",
            );
            run::run(parts!(&processor), options, progress).await
        }
        Mode::Deployed => {
            let processor = Deployed {
                client: aws_sdk_lambda::Client::new(config),
                function: wiring.target.function_name.clone(),
                source: source.clone(),
                policy_output: REDRIVE_POLICY_ARN,
            };
            run::run(parts!(&processor), options, progress).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_deployed_function_on_an_endpoint_that_is_not_aws_is_told_to_use_local() {
        let moto = Endpoint::Other("http://127.0.0.1:5000".into());
        let hint = local_hint(Mode::Deployed, &moto).expect("a hint on moto");
        assert!(
            hint.starts_with("http://127.0.0.1:5000 is not AWS, and an emulator such as moto"),
            "{hint}"
        );
        assert!(hint.contains("run redrive with --local"), "{hint}");
        assert_eq!(local_hint(Mode::Local, &moto), None);
        assert_eq!(local_hint(Mode::Deployed, &Endpoint::Aws), None);
    }
}
