//! Whether the endpoints a long-running tool depends on still answer.
//!
//! On Lambda a dead table makes each invocation retry until the function's timeout, and
//! the mapping then retries the batch: minutes of silence before anyone learns why. The
//! runner is a local tool, so it gives up instead: every attempt of every call to the
//! stream, the table and the queues reports here ([`Watch`], an SDK interceptor) whether it
//! got an answer (any HTTP response, errors included) or none (connection refused or
//! dropped, a timeout). A service that has not answered for [`SILENCE_LIMIT`] ends the run
//! with one line saying which service, where, and what to check; the function's timeout
//! plays no part in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::error::Failure;

/// How long a service may go without answering any call before the run stops.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(10);

/// How often [`Health::down`] looks.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// A service the runner calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// The Kinesis stream it reads.
    Stream,
    /// The processor's DynamoDB table.
    Table,
    /// The processor's dead-letter queue.
    Queue,
    /// The mapping's on-failure destination.
    Destination,
}

/// What a service is and where, for the message.
#[derive(Debug, Clone)]
struct Named {
    what: String,
    endpoint: String,
}

/// A run of calls without an answer.
#[derive(Debug, Clone)]
struct Streak {
    /// When the first of them started.
    since: Instant,
    /// The last one, e.g. `GetRecords(shardId-000000000000)`.
    call: String,
    /// Why it got none, in a word or two.
    cause: &'static str,
}

/// The services' answers so far. Shared by the watched clients (through [`Watch`]) and the loop.
#[derive(Debug)]
pub struct Health {
    limit: Duration,
    names: HashMap<Service, Named>,
    streaks: Mutex<HashMap<Service, Streak>>,
}

impl Default for Health {
    fn default() -> Self {
        Health::new(SILENCE_LIMIT)
    }
}

impl Health {
    /// Nothing heard yet; a service silent for `limit` is down.
    pub fn new(limit: Duration) -> Health {
        Health {
            limit,
            names: HashMap::new(),
            streaks: Mutex::default(),
        }
    }

    /// Names `service` in messages: `what` (e.g. `DynamoDB table t`) at `endpoint`.
    pub fn name(mut self, service: Service, what: impl Into<String>, endpoint: &str) -> Health {
        let named = Named {
            what: what.into(),
            endpoint: endpoint.to_owned(),
        };
        self.names.insert(service, named);
        self
    }

    /// A call to `service` got an answer (even an error): it is there.
    pub fn answered(&self, service: Service) {
        if let Ok(mut streaks) = self.streaks.lock() {
            streaks.remove(&service);
        }
    }

    /// A call to `service` (`call`, started at `started`) got no answer, for `cause`.
    pub fn no_answer(&self, service: Service, started: Instant, call: &str, cause: &'static str) {
        if let Ok(mut streaks) = self.streaks.lock() {
            let streak = streaks.entry(service).or_insert(Streak {
                since: started,
                call: String::new(),
                cause: "",
            });
            streak.call = call.to_owned();
            streak.cause = cause;
        }
    }

    /// The first service silent for the limit, if one is.
    pub fn verdict(&self) -> Option<Unreachable> {
        let streaks = self.streaks.lock().ok()?;
        let (service, streak) = streaks
            .iter()
            .filter(|(_, s)| s.since.elapsed() >= self.limit)
            .min_by_key(|(_, s)| s.since)?;
        Some(self.unreachable(*service, streak))
    }

    /// What `service`'s current streak says, however short (for an error that ends the run
    /// anyway), or `None` when its last call was answered.
    pub fn silent(&self, service: Service) -> Option<Unreachable> {
        let streaks = self.streaks.lock().ok()?;
        streaks.get(&service).map(|s| self.unreachable(service, s))
    }

    /// Waits until a service is down.
    pub async fn down(&self) -> Unreachable {
        loop {
            if let Some(verdict) = self.verdict() {
                return verdict;
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }

    fn unreachable(&self, service: Service, streak: &Streak) -> Unreachable {
        let named = self.names.get(&service).cloned().unwrap_or(Named {
            what: format!("{service:?}"),
            endpoint: "its endpoint".into(),
        });
        Unreachable {
            what: named.what,
            endpoint: named.endpoint,
            call: streak.call.clone(),
            cause: streak.cause,
            silent: streak.since.elapsed(),
        }
    }
}

/// A service that stopped answering.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{what} at {endpoint} is not answering: {call} got no answer for {:.0} s ({cause}); \
     check that {endpoint} is up and reachable (`make local` runs moto there), then run \
     again",
    silent.as_secs_f64()
)]
pub struct Unreachable {
    /// The service, e.g. `DynamoDB table t`.
    pub what: String,
    /// Its endpoint URL.
    pub endpoint: String,
    /// The last call without an answer.
    pub call: String,
    /// Why, in a word or two.
    pub cause: &'static str,
    /// For how long.
    pub silent: Duration,
}

/// An SDK interceptor that tells [`Health`] after every attempt whether `service` answered.
/// The same for every AWS SDK client (they share the interceptor trait): add it with the
/// client config's `.interceptor(..)`.
#[derive(Debug, Clone)]
pub struct Watch {
    health: Arc<Health>,
    service: Service,
    /// The operation last sent: the request is gone by the time an attempt is settled.
    last_call: Arc<Mutex<String>>,
}

impl Watch {
    /// Reports attempts on `service` to `health`.
    pub fn new(health: Arc<Health>, service: Service) -> Watch {
        Watch {
            health,
            service,
            last_call: Arc::default(),
        }
    }
}

impl Intercept for Watch {
    fn name(&self) -> &'static str {
        "health watch"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // JSON protocols name the operation in X-Amz-Target: `DynamoDB_20120810.Query`.
        let target = context.request().headers().get("x-amz-target");
        if let (Some(target), Ok(mut last)) = (target, self.last_call.lock()) {
            *last = target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.response().is_some() {
            self.health.answered(self.service);
            return Ok(());
        }
        let call = match self.last_call.lock() {
            Ok(last) if !last.is_empty() => last.clone(),
            _ => "a call".to_owned(),
        };
        let cause = match context.output_or_error() {
            Some(Err(error)) => match Failure::of_dyn(error) {
                Failure::NoAnswer { cause } => cause,
                _ => "no response",
            },
            _ => "no response",
        };
        self.health
            .no_answer(self.service, Instant::now(), &call, cause);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_silent_for_the_limit_is_down_and_an_answer_clears_it() {
        let health = Health::new(Duration::from_millis(50)).name(
            Service::Table,
            "DynamoDB table t",
            "http://127.0.0.1:5000",
        );
        let long_ago = Instant::now() - Duration::from_millis(80);
        health.no_answer(
            Service::Table,
            long_ago,
            "BatchWriteItem",
            "connection refused",
        );
        let down = health.verdict().expect("down");
        let line = down.to_string();
        assert!(
            line.starts_with(
                "DynamoDB table t at http://127.0.0.1:5000 is not answering: BatchWriteItem \
                 got no answer for 0 s (connection refused); check that http://127.0.0.1:5000"
            ),
            "{line}"
        );
        assert!(!line.contains('\n'));
        health.answered(Service::Table);
        assert!(health.verdict().is_none());
        health.no_answer(Service::Stream, Instant::now(), "GetRecords", "timed out");
        assert!(health.verdict().is_none(), "not silent long enough yet");
        assert!(health.silent(Service::Stream).is_some());
    }
}
