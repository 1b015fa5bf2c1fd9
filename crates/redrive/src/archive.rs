//! The failure archive's on-failure objects, read back: what the event source mapping's S3
//! destination writes for a batch it gave up on (docs/design.md, "On-failure records"),
//! under `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/...`. Its body is the on-failure
//! record plus `payload`, the Kinesis event the function was invoked with, as an object or
//! as a string holding it (`kinesis_codec::on_failure` reads both), so the batch's records
//! come back from the object with their original eventIDs and arrival times, never from
//! the stream.

use kinesis_codec::on_failure::{BatchInfo, OnFailure};
use reprocess::{records_of_event, Identified};
use serde_json::Value;

/// One on-failure object.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedBatch {
    /// Why Lambda gave up (`requestContext.condition`): what `--error-type` matches.
    pub condition: String,
    /// Where the batch was (`KinesisBatchInfo`).
    pub batch: BatchInfo,
    /// The payload's records, each under the eventID it carries; `None` for an object
    /// without a payload, whose records can only be read back from the stream.
    pub records: Option<Vec<Identified>>,
}

impl ArchivedBatch {
    /// The records the object stands for: its payload's, else the batch's size.
    pub fn record_count(&self) -> u64 {
        self.records
            .as_ref()
            .map_or(self.batch.batch_size, |r| r.len() as u64)
    }
}

/// Reads an on-failure object's body.
pub fn read(body: &[u8]) -> Result<ArchivedBatch, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
    let record = OnFailure::parse(&value).map_err(|e| e.to_string())?;
    let records = record.payload.as_ref().map(records_of_event).transpose()?;
    Ok(ArchivedBatch {
        condition: record.condition,
        batch: record.batch,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinesis_codec::event::fixture;
    use kinesis_codec::on_failure::PayloadForm;

    fn on_failure(payload: Option<Value>) -> OnFailure {
        let records: Vec<_> = (0..3).map(|i| fixture::record(i, "k", b"{}")).collect();
        OnFailure {
            request_id: "r".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            condition: "RecordAgeExceeded".into(),
            invoke_count: 2,
            timestamp_ms: 1_700_000_100_000,
            batch: BatchInfo::of(&records, &fixture::source().stream_arn).unwrap(),
            payload: payload.or_else(|| {
                Some(kinesis_codec::event::event_json(
                    &records,
                    &fixture::source(),
                ))
            }),
        }
    }

    #[test]
    fn the_payload_gives_the_records_whether_object_or_string() {
        let object = on_failure(None);
        for form in [PayloadForm::Object, PayloadForm::String] {
            let body = object.to_json(form).to_string();
            let batch = read(body.as_bytes()).unwrap();
            assert_eq!(batch.condition, "RecordAgeExceeded");
            let records = batch.records.clone().unwrap();
            assert_eq!(records.len(), 3, "{form:?}");
            assert_eq!(records[2].record, fixture::record(2, "k", b"{}"));
            assert_eq!(
                records[2].event_id,
                fixture::record(2, "k", b"{}").event_id()
            );
            assert_eq!(batch.record_count(), 3);
        }
    }

    #[test]
    fn without_a_payload_the_batch_info_tells_the_count() {
        let mut bare = on_failure(None);
        bare.payload = None;
        let batch = read(bare.to_json(PayloadForm::Object).to_string().as_bytes()).unwrap();
        assert_eq!(batch.records, None);
        assert_eq!(batch.record_count(), 3);
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        assert!(read(b"nope").unwrap_err().contains("not JSON"));
        assert!(read(b"{}").unwrap_err().contains("KinesisBatchInfo"));
        let broken = on_failure(Some(serde_json::json!({"Records": [{"eventID": "x"}]})));
        let err = read(broken.to_json(PayloadForm::Object).to_string().as_bytes()).unwrap_err();
        assert!(err.starts_with("record 0 of the event: "), "{err}");
    }
}
