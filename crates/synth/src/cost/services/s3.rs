//! S3: the failure bucket (`on_failure_destination = "s3"`) and the event archive
//! (`archive_events`).
//!
//! The failure bucket costs nothing at a steady load: objects arrive only when Lambda gives
//! up on a batch, or when a dead letter is too large for SQS and the processor keeps the
//! record's bytes there (a claim check). Its lines price the claim checks the load makes (none
//! unless invalid events exceed SQS's message limit) and say what a failed batch costs.
//!
//! The archive gets one gzip object per invocation: the batch as Lambda's event JSON. Its
//! size follows from the records per invocation (the cost model's batch) and a gzip ratio
//! measured on the recipe's generated events (see [`gzip_ratio`]); it stays in S3 Standard
//! for [`ARCHIVE_TRANSITION_DAYS`] and then, when large enough and kept long enough, moves to
//! Glacier Instant Retrieval (`stack::buckets::archive_transition_days`).

use super::super::workload::{BYTES_PER_GB, DAYS_PER_MONTH, RECORD_ENVELOPE_BYTES};
use super::super::{LineItem, ServiceCost};
use super::sqs::DEAD_LETTER_ENVELOPE_BYTES;
use super::Context;
use crate::stack::buckets::{archive_transition_days, ARCHIVE_TRANSITION_DAYS};

/// SQS's largest message (1 MiB), the processor's limit for a dead letter; a larger one
/// keeps its record in the failure bucket.
pub const SQS_MAX_MESSAGE_BYTES: f64 = 1_048_576.0;

/// Objects smaller than this never transition (S3's default, written out in the template):
/// Glacier Instant Retrieval bills them as 128 KB.
pub const TRANSITION_MINIMUM_BYTES: f64 = 131_072.0;

/// The gzip compression ratio of an archive object of `records` records: Lambda's event
/// JSON compressed as the processor compresses it (flate2, fastest level). Measured on the
/// recipe's generator (`events::Generator`, 478-byte events, 1,203 bytes of event JSON
/// each): 1.47 for one record, 3.04 for 10, 4.12 for 100, 4.23 for 500. The envelope
/// (ARNs, names, versions) repeats in every record and compresses away; the base64 data
/// compresses less, and a small batch has little to find repeats in. This formula is within
/// 15 % of each measurement, on the side of larger objects at 10.
pub fn gzip_ratio(records: f64) -> f64 {
    4.2 * records / (records + 2.0)
}

/// Bytes of one record in Lambda's event JSON (as the cost model's batch counts it).
pub fn record_json_bytes(event_bytes: f64) -> f64 {
    (event_bytes * 4.0 / 3.0).ceil() + RECORD_ENVELOPE_BYTES
}

/// The gzip object of one invocation of `records` records of `event_bytes` each.
pub fn archive_object_bytes(records: f64, event_bytes: f64) -> f64 {
    records * record_json_bytes(event_bytes) / gzip_ratio(records)
}

/// What the archive costs per million events in USD, at `records` per invocation and
/// `days` of retention in S3 Standard: the PUTs and the storage for those days.
pub fn archive_usd_per_million_events(ctx: &Context, records: f64, days: f64) -> f64 {
    let p = ctx.prices;
    let objects = 1e6 / records;
    let gb =
        objects * archive_object_bytes(records, ctx.workload.load.avg_event_bytes) / BYTES_PER_GB;
    objects / 1000.0 * p.s3_standard_1k_put_requests
        + gb * days / DAYS_PER_MONTH * p.s3_standard_gb_month
}

/// What Amazon Data Firehose would bill to ingest a million events of `event_bytes` from
/// the stream, each record rounded up to 5 KB (its S3 requests and storage not included).
pub fn firehose_usd_per_million_events(ctx: &Context, event_bytes: f64) -> f64 {
    const STEP: f64 = 5.0 * 1024.0;
    1e6 * (event_bytes / STEP).ceil() * STEP / BYTES_PER_GB * ctx.prices.firehose_ingest_gb
}

/// S3's line items; `None` when the stack has neither bucket.
pub fn estimate(ctx: &Context) -> Option<ServiceCost> {
    let config = ctx.config;
    if !config.failure_bucket() && !config.archive_events {
        return None;
    }
    let mut cost = ServiceCost::new("S3", Vec::new());
    if config.failure_bucket() {
        cost = failure_bucket(ctx, cost);
    }
    if config.archive_events {
        cost = archive(ctx, cost);
    }
    Some(cost)
}

fn failure_bucket(ctx: &Context, mut cost: ServiceCost) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let bytes = w.load.avg_event_bytes;
    let letter = (bytes * 4.0 / 3.0).ceil() + DEAD_LETTER_ENVELOPE_BYTES;
    let claim_checks = if letter > SQS_MAX_MESSAGE_BYTES {
        w.invalid_events
    } else {
        0.0
    };
    let retention = f64::from(ctx.config.failure_archive_retention_days);
    // Kept until redriven (assumed within the month) and then for the retention.
    let months = 1.0 + retention / DAYS_PER_MONTH;
    cost.line_items.extend([
        LineItem::new(
            "Failure bucket: claim checks (dead letters over SQS's 1 MiB), 1 PUT each".into(),
            claim_checks / 1000.0,
            "1k requests",
            p.s3_standard_1k_put_requests,
        ),
        LineItem::new(
            format!("Failure bucket storage (claim checks, until redriven + {retention} days)"),
            claim_checks * bytes * months / BYTES_PER_GB,
            "GB-month",
            p.s3_standard_gb_month,
        ),
    ]);
    let batch_gb = w.records_per_invocation * record_json_bytes(bytes) / BYTES_PER_GB;
    cost.assume(format!(
        "S3 failure bucket: nothing at a steady load; a batch Lambda gives up on costs one PUT \
         (${:.6}) and its {:.0} records' event JSON (about {:.0} KB) in S3 Standard until \
         redrive tags it handled, then {retention} days (${:.6} a month while kept); claim \
         checks only for dead letters over 1 MiB",
        p.s3_standard_1k_put_requests / 1000.0,
        w.records_per_invocation,
        batch_gb * BYTES_PER_GB / 1000.0,
        batch_gb * p.s3_standard_gb_month,
    ))
}

fn archive(ctx: &Context, mut cost: ServiceCost) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let config = ctx.config;
    let records = w.records_per_invocation;
    let object = archive_object_bytes(records, w.load.avg_event_bytes);
    let month_gb = w.invocations * object / BYTES_PER_GB;
    let retention = f64::from(config.archive_retention_days);
    let transition = archive_transition_days(config)
        .map(f64::from)
        .filter(|_| object >= TRANSITION_MINIMUM_BYTES);
    let standard_days = transition.unwrap_or(retention).min(retention);
    cost.line_items.extend([
        LineItem::new(
            format!("Archive: one PUT per invocation ({records:.0} records)"),
            w.invocations / 1000.0,
            "1k requests",
            p.s3_standard_1k_put_requests,
        ),
        LineItem::new(
            format!(
                "Archive storage, steady state: {standard_days:.0} days of {:.1} KB gzip objects in S3 Standard",
                object / 1000.0
            ),
            month_gb * standard_days / DAYS_PER_MONTH,
            "GB-month",
            p.s3_standard_gb_month,
        ),
    ]);
    if let Some(days) = transition {
        cost.line_items.extend([
            LineItem::new(
                "Archive: lifecycle transitions to Glacier Instant Retrieval".into(),
                w.invocations / 1000.0,
                "1k requests",
                p.s3_glacier_ir_1k_transitions,
            ),
            LineItem::new(
                format!(
                    "Archive storage, steady state: {:.0} days in Glacier Instant Retrieval",
                    retention - days
                ),
                month_gb * (retention - days) / DAYS_PER_MONTH,
                "GB-month",
                p.s3_glacier_ir_gb_month,
            ),
        ]);
    }
    let transition_note = match (archive_transition_days(config), transition) {
        (Some(_), Some(days)) => format!(
            "objects move to Glacier Instant Retrieval after {days:.0} days (at least 90 days \
             there, so none is deleted early)"
        ),
        (Some(_), None) => format!(
            "objects of {:.1} KB stay in S3 Standard: under 128 KB they do not transition \
             (Glacier Instant Retrieval would bill them as 128 KB)",
            object / 1000.0
        ),
        (None, _) => format!(
            "objects stay in S3 Standard: {retention:.0} days leave no 90 days in Glacier \
             Instant Retrieval after {ARCHIVE_TRANSITION_DAYS} in Standard"
        ),
    };
    cost.assume(format!(
        "S3 archive: {records:.0} records per object, each {:.0} bytes of event JSON, gzip \
         ratio {:.2} (measured on the recipe's events); storage is the steady state of \
         {retention:.0} days' objects (the first month holds {:.1} GB); {transition_note}; \
         reading it back (replay) is billed per request and, from Glacier Instant \
         Retrieval, per GB. It costs ${:.3} per million events here (PUTs and one month in \
         Standard) against ${:.3} for Firehose's ingestion alone (5 KB per record)",
        record_json_bytes(w.load.avg_event_bytes),
        gzip_ratio(records),
        month_gb.min(month_gb * retention / DAYS_PER_MONTH),
        archive_usd_per_million_events(ctx, records, DAYS_PER_MONTH),
        firehose_usd_per_million_events(ctx, w.load.avg_event_bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::cost::{estimate, Load, DEFAULT_LOAD};

    #[test]
    fn the_ratio_follows_the_measurements() {
        for (records, measured) in [(1.0, 1.47), (10.0, 3.04), (100.0, 4.12), (500.0, 4.23)] {
            let modelled = gzip_ratio(records);
            assert!(
                (modelled - measured).abs() / measured < 0.16,
                "{records}: {modelled} against {measured}"
            );
        }
    }

    #[test]
    fn only_prod_archives_and_every_preset_has_the_failure_bucket() {
        let dev = estimate(&Config::default(), DEFAULT_LOAD).unwrap();
        let s3 = dev.service("S3").expect("the failure bucket");
        assert_eq!(s3.line_items.len(), 2);
        assert_eq!(s3.monthly_usd(), 0.0, "no failures at a steady load");
        let prod = estimate(&Config::from_preset("prod").unwrap(), DEFAULT_LOAD).unwrap();
        let s3 = prod.service("S3").unwrap();
        let items: Vec<&str> = s3.line_items.iter().map(|i| i.item.as_str()).collect();
        assert!(items[2].starts_with("Archive: one PUT per invocation (100 records)"));
        // 100 events/s in batches of 100: 2,628,000 PUTs.
        assert_eq!(s3.line_items[2].quantity, 2628.0);
        // 100 × 1,267 bytes / (4.2 × 100 / 102): a 30 KB object, too small to transition.
        assert_eq!(items.len(), 4, "{items:?}");
        assert!(items[3].contains("365 days"), "{items:?}");
    }

    #[test]
    fn large_batches_move_to_glacier_instant_retrieval() {
        let config = Config {
            archive_events: true,
            lambda_batch_size: 1000,
            lambda_maximum_batching_window_in_seconds: 20,
            ..Config::default()
        };
        let load = Load::new(100.0, 500.0, 0.0).unwrap();
        let s3 = estimate(&config, load).unwrap();
        let s3 = s3.service("S3").unwrap();
        let items: Vec<&str> = s3.line_items.iter().map(|i| i.item.as_str()).collect();
        assert_eq!(items.len(), 6, "{items:?}");
        assert!(items[3].contains("30 days"), "{items:?}");
        assert!(items[5].contains("335 days"), "{items:?}");
        let short = Config {
            archive_retention_days: 90,
            ..config
        };
        let s3 = estimate(&short, load).unwrap();
        assert_eq!(s3.service("S3").unwrap().line_items.len(), 4);
    }

    #[test]
    fn claim_checks_are_priced_for_dead_letters_over_sqs_limit() {
        let load = Load::new(10.0, 900_000.0, 0.1).unwrap();
        let s3 = estimate(&Config::default(), load).unwrap();
        let s3 = s3.service("S3").unwrap();
        assert!(s3.line_items[0].quantity > 0.0);
        assert!(s3.line_items[1].quantity > 0.0);
    }
}
