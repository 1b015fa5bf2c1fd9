//! Lambda's `IteratorAge`, published as Lambda publishes it for a stream mapping: at each
//! invocation with records, how long the batch's last record had been in the stream when
//! the mapping sent it to the function, in milliseconds, to namespace `AWS/Lambda` with
//! dimension `FunctionName`
//! ([AWS](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#performance-metrics)).
//!
//! `make deploy` reads it to tell where a mapping it replaces was reading
//! (docs/mapping-replacement.md); on moto nothing else publishes it, so the emulator does,
//! and the deploy decides from the same metric as on AWS. moto's CloudWatch speaks only the
//! query protocol (form-encoded `Action=PutMetricData`), not the CBOR the SDK sends, so on a
//! plain-HTTP endpoint the datum goes as a query-protocol POST ([`query_request`]); elsewhere
//! through the SDK. A publication that fails is said once and the run goes on: the metric is
//! for readers of the mapping, not for the records.

use std::cell::Cell;

use aws_config::SdkConfig;
use aws_lambda_events::event::streams::KinesisEventResponse;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use kinesis_codec::record::StreamRecord;
use kinesis_codec::window::{WindowEvent, WindowResponse};

use crate::mapping::Function;

/// The namespace and metric Lambda publishes a stream mapping's lag under.
pub const NAMESPACE: &str = "AWS/Lambda";
/// The metric.
pub const ITERATOR_AGE: &str = "IteratorAge";

/// How long the last of `records` had been in the stream at `now_ms`, milliseconds (never
/// negative: a clock behind the stream's counts as no lag); `None` without records.
pub fn iterator_age_ms(records: &[StreamRecord], now_ms: i64) -> Option<f64> {
    records
        .last()
        .map(|last| now_ms.saturating_sub(last.arrival_ms).max(0) as f64)
}

/// Where the datum goes.
enum Sink {
    /// The SDK's client (CBOR).
    Sdk(aws_sdk_cloudwatch::Client),
    /// A query-protocol POST to `host:port` over plain HTTP, for `region`.
    Query { authority: String, region: String },
}

/// Publishes one function's IteratorAge.
pub struct Publisher {
    sink: Sink,
    function_name: String,
    now_ms: fn() -> i64,
    failed: Cell<bool>,
}

impl Publisher {
    /// For function `function_name`, through `config` (the control endpoint, `endpoint_url`).
    pub fn new(config: &SdkConfig, endpoint_url: &str, function_name: &str) -> Publisher {
        let region = config
            .region()
            .map_or("us-east-1".to_owned(), |r| r.to_string());
        let sink = match plain_http_authority(endpoint_url) {
            Some(authority) => Sink::Query { authority, region },
            None => Sink::Sdk(aws_sdk_cloudwatch::Client::new(config)),
        };
        Publisher {
            sink,
            function_name: function_name.to_owned(),
            now_ms: kinesis_codec::time::now_ms,
            failed: Cell::new(false),
        }
    }

    /// Publishes the age of `records`' last one, now; says so once on stderr when
    /// CloudWatch refuses.
    pub async fn publish(&self, records: &[StreamRecord]) {
        let now_ms = (self.now_ms)();
        let Some(age_ms) = iterator_age_ms(records, now_ms) else {
            return;
        };
        let sent = match &self.sink {
            Sink::Sdk(client) => self.put_with_sdk(client, now_ms, age_ms).await,
            Sink::Query { authority, region } => {
                let request = query_request(authority, region, &self.function_name, now_ms, age_ms);
                post(authority, &request).await
            }
        };
        if let Err(error) = sent {
            if !self.failed.replace(true) {
                eprintln!(
                    "warning: cannot publish {NAMESPACE} {ITERATOR_AGE} as Lambda does \
                     ({error}); records are processed all the same"
                );
            }
        }
    }

    async fn put_with_sdk(
        &self,
        client: &aws_sdk_cloudwatch::Client,
        now_ms: i64,
        age_ms: f64,
    ) -> Result<(), String> {
        let datum = MetricDatum::builder()
            .metric_name(ITERATOR_AGE)
            .dimensions(
                Dimension::builder()
                    .name("FunctionName")
                    .value(&self.function_name)
                    .build(),
            )
            .timestamp(DateTime::from_millis(now_ms))
            .unit(StandardUnit::Milliseconds)
            .value(age_ms)
            .build();
        client
            .put_metric_data()
            .namespace(NAMESPACE)
            .metric_data(datum)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                aws_edge::error::CallError::new("CloudWatch PutMetricData", &e).to_string()
            })
    }
}

/// `host:port` of a plain-HTTP endpoint URL (`http://127.0.0.1:5000`); `None` for HTTPS.
pub fn plain_http_authority(endpoint_url: &str) -> Option<String> {
    let rest = endpoint_url.strip_prefix("http://")?;
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    Some(if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

/// The HTTP/1.1 request of CloudWatch's query protocol that puts one IteratorAge datum. The
/// Authorization header is not a signature (the endpoint is an emulator on plain HTTP): its
/// credential scope names the service and region, which is how moto routes a request.
pub fn query_request(
    authority: &str,
    region: &str,
    function_name: &str,
    now_ms: i64,
    age_ms: f64,
) -> String {
    let fields = [
        ("Action", "PutMetricData".to_owned()),
        ("Version", "2010-08-01".to_owned()),
        ("Namespace", NAMESPACE.to_owned()),
        ("MetricData.member.1.MetricName", ITERATOR_AGE.to_owned()),
        (
            "MetricData.member.1.Dimensions.member.1.Name",
            "FunctionName".to_owned(),
        ),
        (
            "MetricData.member.1.Dimensions.member.1.Value",
            function_name.to_owned(),
        ),
        (
            "MetricData.member.1.Timestamp",
            kinesis_codec::time::iso8601(now_ms),
        ),
        ("MetricData.member.1.Unit", "Milliseconds".to_owned()),
        ("MetricData.member.1.Value", format!("{age_ms}")),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    let body = body.join("&");
    let date = kinesis_codec::time::iso8601(now_ms)
        .get(..10)
        .unwrap_or("19700101")
        .replace('-', "");
    format!(
        "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded; \
         charset=utf-8\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=local/{date}/{region}/monitoring/aws4_request, SignedHeaders=host, \
         Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Form encoding: letters, digits and `-_.~` as they are, every other byte `%XX`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends `request` to `authority` and reads the answer's status line: `Ok` for a 2xx.
async fn post(authority: &str, request: &str) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(authority).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), exchange)
        .await
        .map_err(|_| format!("PutMetricData to {authority}: no answer in 10 s"))?
        .map_err(|e| format!("PutMetricData to {authority}: {e}"))?;
    let status = String::from_utf8_lossy(&answer);
    let line = status.lines().next().unwrap_or("");
    if line
        .split(' ')
        .nth(1)
        .is_some_and(|code| code.starts_with('2'))
    {
        Ok(())
    } else {
        Err(format!("PutMetricData to {authority} answered {line:?}"))
    }
}

/// A function whose invocations publish IteratorAge first, as Lambda's mapping does.
pub struct Published<'a, F> {
    /// The function.
    pub function: &'a F,
    /// Where the metric goes.
    pub publisher: &'a Publisher,
}

impl<F: Function> Function for Published<'_, F> {
    async fn invoke(&self, records: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
        self.publisher.publish(records).await;
        self.function.invoke(records).await
    }

    async fn invoke_window(
        &self,
        window: &WindowEvent,
        records: &[StreamRecord],
    ) -> Result<WindowResponse, String> {
        self.publisher.publish(records).await;
        self.function.invoke_window(window, records).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(arrival_ms: i64) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: "1".into(),
            partition_key: "k".into(),
            data: Vec::new(),
            arrival_ms,
        }
    }

    /// moto's CloudWatch reads the query protocol; the request says what Lambda publishes.
    #[test]
    fn the_query_request_puts_one_iterator_age() {
        let request = query_request(
            "127.0.0.1:5000",
            "eu-west-1",
            "f-1",
            1_764_000_000_123,
            2500.0,
        );
        let (head, body) = request.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("POST / HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n"),
            "{head}"
        );
        assert!(
            head.contains("Credential=local/20251124/eu-west-1/monitoring/aws4_request"),
            "{head}"
        );
        assert!(
            head.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{head}"
        );
        assert_eq!(
            body,
            "Action=PutMetricData&Version=2010-08-01&Namespace=AWS%2FLambda&\
             MetricData.member.1.MetricName=IteratorAge&\
             MetricData.member.1.Dimensions.member.1.Name=FunctionName&\
             MetricData.member.1.Dimensions.member.1.Value=f-1&\
             MetricData.member.1.Timestamp=2025-11-24T16%3A00%3A00.123Z&\
             MetricData.member.1.Unit=Milliseconds&MetricData.member.1.Value=2500"
        );
        assert_eq!(
            plain_http_authority("http://127.0.0.1:5000"),
            Some("127.0.0.1:5000".into())
        );
        assert_eq!(
            plain_http_authority("http://localhost/x"),
            Some("localhost:80".into())
        );
        assert_eq!(
            plain_http_authority("https://monitoring.amazonaws.com"),
            None
        );
    }

    #[test]
    fn the_age_is_the_last_records() {
        let batch = [record(1_000), record(4_000)];
        assert_eq!(iterator_age_ms(&batch, 10_000), Some(6_000.0));
        assert_eq!(iterator_age_ms(&batch, 3_000), Some(0.0));
        assert_eq!(iterator_age_ms(&[], 10_000), None);
    }
}
