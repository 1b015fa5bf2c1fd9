//! The event source mapping's own books over the run: what Lambda says it polled, filtered
//! out, invoked the function with, failed, dropped and sent to the on-failure destination
//! (metric group `EventCount`, in Kinesis records), beside the records the processor says it
//! was invoked with (its `BatchSize`, summed). docs/processor.md, "The mapping's books",
//! states what must hold between them.
//!
//! CloudWatch publishes these a few minutes late, and not at all where no Lambda runs (moto):
//! verify reports what there is and says when there is nothing. Only records the mapping
//! dropped fail the run; the inequalities are printed, not enforced, because a run of a
//! minute catches the metrics mid-publication.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::error::SdkError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

use crate::error::{self, Error};

/// The mapping's counts, in the order a record meets them, with the names verify prints.
pub const MAPPING_COUNTS: &[(&str, &str)] = &[
    ("PolledEventCount", "polled"),
    ("FilteredOutEventCount", "filtered_out"),
    ("InvokedEventCount", "invoked"),
    ("FailedInvokeEventCount", "failed_invoke"),
    ("DroppedEventCount", "dropped"),
    ("OnFailureDestinationDeliveredEventCount", "on_failure"),
];

/// The dimension of the mapping's metrics: its UUID.
pub const MAPPING_DIMENSION: &str = "EventSourceMappingUUID";

/// Seconds per datapoint asked for: CloudWatch's standard resolution.
const PERIOD: i32 = 60;

/// What CloudWatch had for the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Books {
    /// Nothing to report, and why.
    NotPublished(String),
    /// The sums over the run.
    Counts(Counts),
}

/// The mapping's sums (`MAPPING_COUNTS` order) and the processor's records.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// The mapping's UUID.
    pub mapping: String,
    /// Each of `MAPPING_COUNTS`, summed; `None` where CloudWatch had no datapoint.
    pub mapping_counts: Vec<Option<f64>>,
    /// The processor's `BatchSize`, summed; `None` where CloudWatch had no datapoint.
    pub processor_records: Option<f64>,
}

impl Counts {
    /// The sum of the mapping's count `name` (a `MAPPING_COUNTS` metric name), 0 when
    /// CloudWatch had none.
    pub fn get(&self, name: &str) -> f64 {
        MAPPING_COUNTS
            .iter()
            .position(|(metric, _)| *metric == name)
            .and_then(|i| self.mapping_counts.get(i).copied().flatten())
            .unwrap_or(0.0)
    }

    /// Records the mapping dropped during the run.
    pub fn dropped(&self) -> f64 {
        self.get("DroppedEventCount")
    }

    /// The inequalities of docs/processor.md that the sums break, each named; an empty
    /// list when they all hold (or cannot yet be told).
    pub fn broken(&self) -> Vec<String> {
        let (polled, filtered, invoked) = (
            self.get("PolledEventCount"),
            self.get("FilteredOutEventCount"),
            self.get("InvokedEventCount"),
        );
        let (failed, dropped, on_failure) = (
            self.get("FailedInvokeEventCount"),
            self.dropped(),
            self.get("OnFailureDestinationDeliveredEventCount"),
        );
        let mut broken = Vec::new();
        if let Some(records) = self.processor_records {
            if records > invoked {
                broken.push(format!("processor records {records} > invoked {invoked}"));
            }
        }
        if invoked < polled - filtered - dropped {
            broken.push(format!(
                "invoked {invoked} < polled {polled} - filtered_out {filtered} - dropped {dropped}"
            ));
        }
        if failed > invoked {
            broken.push(format!("failed_invoke {failed} > invoked {invoked}"));
        }
        if on_failure > polled - filtered {
            broken.push(format!(
                "on_failure {on_failure} > polled {polled} - filtered_out {filtered}"
            ));
        }
        broken
    }

    /// `polled=12 filtered_out=0 ... ; the processor's records=12` (`n/a` for no datapoint).
    pub fn line(&self) -> String {
        let figure = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v}"));
        let counts: Vec<String> = MAPPING_COUNTS
            .iter()
            .zip(&self.mapping_counts)
            .map(|((_, short), value)| format!("{short}={}", figure(*value)))
            .collect();
        format!(
            "verify: the mapping's books over the run (mapping {}, Kinesis records): {}; the processor's records={}",
            self.mapping,
            counts.join(" "),
            figure(self.processor_records)
        )
    }
}

impl Books {
    /// The report's line about the books.
    pub fn line(&self) -> String {
        match self {
            Books::NotPublished(reason) => {
                format!("verify: the mapping's books not checked: {reason}")
            }
            Books::Counts(counts) => counts.line(),
        }
    }
}

/// Reads the books of the mapping of `function` from `since_ms` to now: the mapping's UUID
/// (the stack's mapping, read with GetEventSourceMapping through `deployed_stack`), then
/// GetMetricData on `AWS/Lambda` by that UUID and on the processor's namespace by function
/// name. A call that fails is reported as the reason
/// the books were not checked: they are a report, and a caller without
/// `cloudwatch:GetMetricData` still gets its verdict on the table and the queue.
pub async fn read(
    config: &SdkConfig,
    stack: &deployed_stack::Stack,
    function: &str,
    since_ms: i64,
) -> Books {
    match try_read(config, stack, function, since_ms).await {
        Ok(books) => books,
        Err(err) => Books::NotPublished(err.to_string()),
    }
}

async fn try_read(
    config: &SdkConfig,
    stack: &deployed_stack::Stack,
    function: &str,
    since_ms: i64,
) -> Result<Books, Error> {
    let mappings = stack.mappings(config, function).await?;
    let Some(mapping) = mappings.first() else {
        return Ok(Books::NotPublished(format!(
            "function {function} has no event source mapping"
        )));
    };
    let queries = queries(
        &mapping.uuid,
        function,
        contract::metrics::DEFAULT_NAMESPACE,
    );
    let client = aws_sdk_cloudwatch::Client::new(config);
    // Whole minutes around the run: CloudWatch aligns datapoints to the period.
    let start = since_ms.div_euclid(60_000) * 60_000;
    let end = (crate::now_ms().div_euclid(60_000) + 1) * 60_000;
    let mut sums: Vec<Option<f64>> = vec![None; queries.len()];
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_millis(start))
            .end_time(DateTime::from_millis(end))
            .set_next_token(token)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) if unreadable(&e) => {
                let status = e.raw_response().map_or(0, |r| r.status().as_u16());
                return Ok(Books::NotPublished(format!(
                    "the endpoint did not answer GetMetricData in AWS's protocol (HTTP {status}, \
                     no AWS error code): the SDK speaks CloudWatch's CBOR protocol (Smithy RPC \
                     v2), which moto 5.2 does not serve (it implements the older query \
                     protocol, and publishes no Lambda metrics anyway)"
                )));
            }
            Err(e) => Err(e).map_err(|e| {
                error::call(
                    "CloudWatch",
                    "GetMetricData",
                    &e,
                    "the caller needs cloudwatch:GetMetricData (no resource-level permissions: \
                     Resource \"*\")",
                )
            })?,
        };
        for result in page.metric_data_results() {
            let Some(i) = result.id().and_then(query_index) else {
                continue;
            };
            if let Some(sum) = sums.get_mut(i) {
                let values = result.values();
                if !values.is_empty() {
                    *sum = Some(sum.unwrap_or(0.0) + values.iter().sum::<f64>());
                }
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(books(mapping.uuid.clone(), sums))
}

/// The books from the sums of the queries (`queries` order: the mapping's counts, then the
/// processor's records).
pub fn books(mapping: String, mut sums: Vec<Option<f64>>) -> Books {
    if sums.iter().all(Option::is_none) {
        return Books::NotPublished(format!(
            "CloudWatch has no datapoints for mapping {mapping} over the run (AWS publishes them \
             a few minutes late; moto publishes none)"
        ));
    }
    let processor_records = sums.pop().flatten();
    Books::Counts(Counts {
        mapping,
        mapping_counts: sums,
        processor_records,
    })
}

/// One query per mapping count, then the processor's `BatchSize`: ids `q0`, `q1`, ...
fn queries(uuid: &str, function: &str, namespace: &str) -> Vec<MetricDataQuery> {
    let mapping = Dimension::builder()
        .name(MAPPING_DIMENSION)
        .value(uuid)
        .build();
    let processor = Dimension::builder()
        .name(contract::metrics::DIMENSION)
        .value(function)
        .build();
    MAPPING_COUNTS
        .iter()
        .map(|(name, _)| ("AWS/Lambda", *name, mapping.clone()))
        .chain([(namespace, contract::metrics::BATCH_SIZE, processor)])
        .enumerate()
        .map(|(i, (namespace, name, dimension))| {
            let metric = Metric::builder()
                .namespace(namespace)
                .metric_name(name)
                .dimensions(dimension)
                .build();
            MetricDataQuery::builder()
                .id(format!("q{i}"))
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(PERIOD)
                        .stat("Sum")
                        .build(),
                )
                .return_data(true)
                .build()
        })
        .collect()
}

/// An answer not in AWS's protocol: a response the SDK could not deserialize, or an error
/// without an AWS error code (moto 5.2 answers the SDK's CBOR requests with an HTML 404:
/// it implements CloudWatch's older query protocol only). AWS sends neither.
fn unreadable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => service.err().code().is_none(),
        _ => false,
    }
}

/// The index of query id `q<i>`.
fn query_index(id: &str) -> Option<usize> {
    id.strip_prefix('q')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(values: [f64; 6], records: f64) -> Counts {
        Counts {
            mapping: "uuid".into(),
            mapping_counts: values.iter().map(|v| Some(*v)).collect(),
            processor_records: Some(records),
        }
    }

    #[test]
    fn no_datapoint_at_all_is_reported_as_not_published() {
        let books = books("u".into(), vec![None; 7]);
        assert!(matches!(&books, Books::NotPublished(r) if r.contains("moto publishes none")));
        assert!(books
            .line()
            .starts_with("verify: the mapping's books not checked: "));
    }

    #[test]
    fn the_line_names_every_count_and_the_processors_records() {
        let mut sums: Vec<Option<f64>> = vec![Some(20.0), Some(0.0), Some(20.0), None, None, None];
        sums.push(Some(20.0));
        let Books::Counts(counts) = books("u".into(), sums) else {
            panic!("counts expected");
        };
        assert_eq!(
            counts.line(),
            "verify: the mapping's books over the run (mapping u, Kinesis records): polled=20 \
             filtered_out=0 invoked=20 failed_invoke=n/a dropped=n/a on_failure=n/a; the \
             processor's records=20"
        );
        assert!(counts.broken().is_empty());
        assert_eq!(counts.dropped(), 0.0);
    }

    #[test]
    fn retries_may_invoke_more_than_was_polled_but_not_less() {
        // 20 polled, one batch of 10 retried: invoked 30. Holds.
        assert!(counts([20.0, 0.0, 30.0, 10.0, 0.0, 0.0], 30.0)
            .broken()
            .is_empty());
        // 20 polled, nothing filtered or dropped, 15 invoked: 5 records went nowhere.
        let broken = counts([20.0, 0.0, 15.0, 0.0, 0.0, 0.0], 15.0).broken();
        assert_eq!(
            broken,
            ["invoked 15 < polled 20 - filtered_out 0 - dropped 0"]
        );
        // The processor cannot have seen more records than it was invoked with.
        let broken = counts([20.0, 0.0, 20.0, 0.0, 0.0, 0.0], 25.0).broken();
        assert_eq!(broken, ["processor records 25 > invoked 20"]);
    }

    #[test]
    fn query_ids_map_back_to_their_metrics() {
        let queries = queries("u", "f", "RetailEventProcessing");
        assert_eq!(queries.len(), MAPPING_COUNTS.len() + 1);
        for (i, query) in queries.iter().enumerate() {
            assert_eq!(query_index(query.id().unwrap()), Some(i));
        }
        let last = queries
            .last()
            .unwrap()
            .metric_stat()
            .unwrap()
            .metric()
            .unwrap();
        assert_eq!(last.metric_name(), Some("BatchSize"));
        assert_eq!(last.namespace(), Some("RetailEventProcessing"));
        assert_eq!(query_index("x1"), None);
    }
}
