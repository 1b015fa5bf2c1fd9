//! What the processor's runtime deserializes an invocation into: a plain Kinesis event or a
//! tumbling window's, read straight from Lambda's bytes.
//!
//! The records are read by [`crate::event::Records`] as the JSON streams past (no
//! `serde_json::Value` of 10,000 records in between, docs/performance.md, "The
//! processor"); every other top-level field is kept as a JSON value, which only a tumbling
//! window's event has (`window`, `state`, `shardId`, ...), and read by
//! [`WindowEvent::from_json`].

use aws_lambda_events::event::kinesis::KinesisEvent;
use serde_json::{Map, Value};

use crate::event::Records;
use crate::window::WindowEvent;

/// One invocation's event.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A Kinesis event (a mapping without tumbling windows).
    Kinesis(KinesisEvent),
    /// A tumbling window's invocation (it has a `window`, as [`WindowEvent::is_one`] says).
    Window(WindowEvent),
}

impl Payload {
    /// The event of `records` (when the JSON had `Records`) and the other top-level
    /// fields `rest`.
    fn of(records: Option<Records>, mut rest: Map<String, Value>) -> Result<Payload, String> {
        let records = records.map(|r| r.0);
        if rest.get("window").is_some_and(Value::is_object) {
            // The window's own fields from their JSON; the records as already read.
            rest.insert("Records".to_owned(), Value::Array(Vec::new()));
            let mut window = WindowEvent::from_json(Value::Object(rest))?;
            window.event.records = records.unwrap_or_default();
            return Ok(Payload::Window(window));
        }
        let records = records.ok_or("the event has no Records: not a Kinesis event")?;
        let mut event = KinesisEvent::default();
        event.records = records;
        Ok(Payload::Kinesis(event))
    }
}

impl<'de> serde::Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Payload, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Payload;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Kinesis event")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Payload, A::Error> {
                let (mut records, mut rest) = (None, Map::new());
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Records" {
                        records = Some(map.next_value()?);
                    } else {
                        let value = map.next_value()?;
                        rest.insert(key, value);
                    }
                }
                Payload::of(records, rest).map_err(serde::de::Error::custom)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::{fixture, from_json};

    fn records() -> Vec<Value> {
        let mut records: Vec<Value> = (0..5)
            .map(|i| fixture::record_json(i, &format!("user-{i}"), b"{\"n\":1}"))
            .collect();
        records[2]["kinesis"]["approximateArrivalTimestamp"] = json!(1_796_224_067.69);
        records
    }

    /// `event` without the fields the fast reader skips because nothing reads them
    /// (`crate::event::from_slice` names them).
    fn read_fields(mut event: KinesisEvent) -> KinesisEvent {
        for record in &mut event.records {
            record.event_name = None;
            record.event_source = None;
            record.event_version = None;
            record.kinesis.kinesis_schema_version = None;
            record.kinesis.encryption_type = Default::default();
        }
        event
    }

    fn read(value: &Value) -> Result<Payload, serde_json::Error> {
        serde_json::from_slice(&serde_json::to_vec(value).expect("serializes"))
    }

    #[test]
    fn a_plain_event_is_read_as_from_json_reads_it() {
        let value = json!({ "Records": records() });
        let Ok(Payload::Kinesis(event)) = read(&value) else {
            panic!("a Kinesis event");
        };
        let slow = from_json(value).expect("an event");
        assert_eq!(event.records.len(), 5);
        assert_eq!(event, read_fields(slow));
    }

    #[test]
    fn a_window_event_is_read_as_window_event_from_json_reads_it() {
        for records in [records(), Vec::new()] {
            let value = json!({
                "Records": records,
                "window": {"start": "2026-12-08T10:00:00Z", "end": "2026-12-08T10:01:00Z"},
                "state": {"k": "v"},
                "shardId": "shardId-000000000001",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
                "isFinalInvokeForWindow": false,
                "isWindowTerminatedEarly": true,
            });
            let Ok(Payload::Window(window)) = read(&value) else {
                panic!("a window's event");
            };
            let mut slow = WindowEvent::from_json(value).expect("a window's event");
            slow.event = read_fields(slow.event);
            assert_eq!(window, slow);
        }
    }

    #[test]
    fn an_event_without_records_or_with_a_broken_window_is_refused_by_name() {
        let no_records = read(&json!({ "eventSource": "aws:kinesis" }));
        let message = no_records.expect_err("refused").to_string();
        assert!(message.contains("no Records"), "{message}");
        let broken = read(&json!({ "Records": [], "window": { "start": "soon" } }));
        let message = broken.expect_err("refused").to_string();
        assert!(message.contains("window.start"), "{message}");
        assert!(read(&json!([1, 2])).is_err());
    }
}
