//! Tumbling windows: the event a Kinesis mapping with `TumblingWindowInSeconds` sends, and
//! the response that carries the window's state to the shard's next invocation
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html>).
//!
//! The event is Lambda's Kinesis event plus `window` (`start`, `end`), `state` (a map of
//! strings, at most 1 MB), `shardId`, `eventSourceARN`, `isFinalInvokeForWindow` and
//! `isWindowTerminatedEarly`. The response is `state` plus `batchItemFailures`:
//! aws_lambda_events 1.2's `KinesisTimeWindowEventResponse` has no `batchItemFailures`, so
//! a function that aggregates and reports failed records answers with [`WindowResponse`].

use std::collections::HashMap;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisBatchItemFailure;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::event::{arrival_times, fix_arrival_times};
use crate::time::{iso8601, parse_iso8601};

/// A tumbling window's invocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowEvent {
    /// The records, as in a plain Kinesis event (arrival times to the millisecond).
    pub event: KinesisEvent,
    /// The window's start, epoch milliseconds (inclusive).
    pub start_ms: i64,
    /// The window's end, epoch milliseconds (exclusive).
    pub end_ms: i64,
    /// The state the previous invocation of this window returned; empty at its start.
    pub state: HashMap<String, String>,
    /// The shard.
    pub shard_id: String,
    /// The stream's (or consumer's) ARN.
    pub event_source_arn: String,
    /// The window's last invocation: it has no records and its state is final.
    pub is_final: bool,
    /// The state grew past 1 MB: the window goes on with fresh state.
    pub terminated_early: bool,
}

impl WindowEvent {
    /// Whether `value` is a tumbling-window event (it has a `window`).
    pub fn is_one(value: &Value) -> bool {
        value.get("window").is_some_and(Value::is_object)
    }

    /// Reads the event from its JSON; an error names the field.
    pub fn from_json(value: Value) -> Result<WindowEvent, String> {
        let time = |field: &str| {
            value
                .pointer(&format!("/window/{field}"))
                .and_then(Value::as_str)
                .and_then(parse_iso8601)
                .ok_or_else(|| format!("window.{field} is missing or not an ISO 8601 time"))
        };
        let (start_ms, end_ms) = (time("start")?, time("end")?);
        let state = read_state(value.get("state"))?;
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let flag = |field: &str| value.get(field).and_then(Value::as_bool).unwrap_or(false);
        let (shard_id, event_source_arn) = (text("shardId"), text("eventSourceARN"));
        let (is_final, terminated_early) = (
            flag("isFinalInvokeForWindow"),
            flag("isWindowTerminatedEarly"),
        );
        let arrivals = arrival_times(&value);
        let records = value.get("Records").cloned().unwrap_or(json!([]));
        let mut event: KinesisEvent = serde_json::from_value(json!({ "Records": records }))
            .map_err(|e| format!("Records are not Kinesis records ({e})"))?;
        fix_arrival_times(&mut event, &arrivals);
        Ok(WindowEvent {
            event,
            start_ms,
            end_ms,
            state,
            shard_id,
            event_source_arn,
            is_final,
            terminated_early,
        })
    }

    /// The event's JSON, with `records` (Lambda's record JSONs) as its `Records`.
    pub fn json(&self, records: Vec<Value>) -> Value {
        json!({
            "Records": records,
            "window": { "start": iso8601(self.start_ms), "end": iso8601(self.end_ms) },
            "state": self.state,
            "shardId": self.shard_id,
            "eventSourceARN": self.event_source_arn,
            "isFinalInvokeForWindow": self.is_final,
            "isWindowTerminatedEarly": self.terminated_early,
        })
    }
}

/// The window's state: a map of strings, as the Rust (and Go, Java) event types carry it.
/// AWS's own example shows numbers (`"state": {"1": 282}`), so a number, boolean or null
/// value is taken as its JSON text; a nested value is refused.
fn read_state(state: Option<&Value>) -> Result<HashMap<String, String>, String> {
    let entries = match state {
        None | Some(Value::Null) => return Ok(HashMap::new()),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err("state is not a map".to_owned()),
    };
    entries
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key.clone(), text.clone())),
            Value::Number(_) | Value::Bool(_) | Value::Null => Ok((key.clone(), value.to_string())),
            _ => Err(format!("state.{key} is not a string or a number")),
        })
        .collect()
}

/// The answer to a window invocation: the state to carry on, and the first record not
/// handled (Lambda retries from there with the state it had before).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResponse {
    /// The window's state after this invocation.
    #[serde(default)]
    pub state: HashMap<String, String>,
    /// The records to retry from (at most one: the first).
    #[serde(default)]
    pub batch_item_failures: Vec<KinesisBatchItemFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{
        "Records": [{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1607497475.69},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-kinesis-role",
            "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"}],
        "window": {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"},
        "state": {"1": "282", "2": "715"},
        "shardId": "shardId-000000000006",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
        "isFinalInvokeForWindow": false,
        "isWindowTerminatedEarly": false}"#;

    #[test]
    fn awss_example_event_is_read_whole() {
        let value: Value = serde_json::from_str(EVENT).unwrap();
        assert!(WindowEvent::is_one(&value));
        let window = WindowEvent::from_json(value).unwrap();
        assert_eq!(window.end_ms - window.start_ms, 120_000);
        assert_eq!(window.state["2"], "715");
        // AWS's example has numbers; the event types have strings: both read alike.
        let strings = EVENT.replace(r#""1": "282", "2": "715""#, r#""1": 282, "2": "715""#);
        assert_ne!(strings, EVENT);
        let numbers = WindowEvent::from_json(serde_json::from_str(&strings).unwrap()).unwrap();
        assert_eq!(numbers.state, window.state);
        assert_eq!(window.shard_id, "shardId-000000000006");
        assert!(!window.is_final && !window.terminated_early);
        let arrival = &window.event.records[0]
            .kinesis
            .approximate_arrival_timestamp;
        assert_eq!(arrival.timestamp_millis(), 1_607_497_475_690);
    }

    #[test]
    fn an_event_written_reads_back() {
        let value: Value = serde_json::from_str(EVENT).unwrap();
        let mut window = WindowEvent::from_json(value.clone()).unwrap();
        window.is_final = true;
        let written = window.json(value["Records"].as_array().unwrap().clone());
        assert_eq!(WindowEvent::from_json(written).unwrap(), window);
        let bad = json!({"window": {"start": "soon", "end": "later"}});
        assert_eq!(
            WindowEvent::from_json(bad).unwrap_err(),
            "window.start is missing or not an ISO 8601 time"
        );
    }

    #[test]
    fn the_response_carries_state_and_failures_in_lambdas_names() {
        let mut response = WindowResponse::default();
        response.state.insert("n".into(), "3".into());
        let mut failure = KinesisBatchItemFailure::default();
        failure.item_identifier = Some("4959".into());
        response.batch_item_failures.push(failure);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["state"]["n"], "3");
        assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], "4959");
    }
}
