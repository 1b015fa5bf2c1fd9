//! Lambda: requests (one per batch the event source mapping hands over) and GB-seconds at
//! the architecture's rate. The free tier is not applied: it is per account, and other
//! functions may already use it.

use super::super::workload::{CPU_MS_PER_RECORD, INVOCATION_OVERHEAD_MS, WRITE_ROUND_TRIP_MS};
use super::super::{LineItem, ServiceCost};
use super::{aggregates, Context};
use crate::config::Architecture;

/// The processor's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let config = ctx.config;
    let memory_gb = f64::from(config.lambda_memory_size) / 1024.0;
    let gb_seconds = w.invocations * w.billed_ms_per_invocation / 1000.0 * memory_gb;
    let (arch, price) = match config.lambda_architecture {
        Architecture::Arm64 => ("arm64", p.lambda_gb_second_arm64),
        Architecture::X86_64 => ("x86_64", p.lambda_gb_second_x86_64),
    };
    let mut items = vec![
        LineItem::new(
            format!(
                "Requests ({} records per invocation)",
                trim(w.records_per_invocation)
            ),
            w.invocations / 1e6,
            "million requests",
            p.lambda_million_requests,
        ),
        LineItem::new(
            format!(
                "Compute ({arch}, {} MB, {} ms per invocation)",
                config.lambda_memory_size, w.billed_ms_per_invocation
            ),
            gb_seconds,
            "GB-second",
            price,
        ),
    ];
    let windows = aggregates::Windows::of_workload(config, w);
    if let Some(windows) = &windows {
        items.extend(aggregates::lambda_items(
            windows,
            w,
            config,
            (arch, price),
            p,
        ));
    }
    let mut cost = ServiceCost::new("Lambda", items);
    if let Some(filters) = filter_assumption(ctx) {
        cost = cost.assume(filters);
    }
    cost.assume(format!(
        "Lambda invocations: {} shard(s) × parallelization factor {} = {} batch lane(s); \
             each lane's batch closes at {} records (batch size) or after the {} s batching \
             window (1 s poll when 0), so an invocation carries {} records",
        w.shards,
        config.lambda_parallelization_factor,
        w.lanes,
        config.lambda_batch_size,
        config.lambda_maximum_batching_window_in_seconds,
        trim(w.records_per_invocation)
    ))
    .assume(format!(
        "Lambda duration: {INVOCATION_OVERHEAD_MS} ms overhead + {CPU_MS_PER_RECORD} ms per \
             record + {WRITE_ROUND_TRIP_MS} ms per wave of 8 concurrent BatchWriteItem (25 \
             items) or SendMessageBatch (10 messages) calls, rounded up to the billed 1 ms; \
             memory does not change it in this model"
    ))
    .assume("Lambda free tier (1 M requests, 400,000 GB-s a month) not applied")
    .assume_all(windows.as_ref().map(aggregates::lambda_assumption))
}

/// What the event source mapping's filters are assumed to pass, when there are any.
fn filter_assumption(ctx: &Context) -> Option<String> {
    let config = ctx.config;
    if !config.lambda_filter_patterns.is_empty() {
        return Some(format!(
            "Lambda filters: {} lambda_filter_patterns of unknown selectivity, so every event is \
             counted as passing (the estimate keeps the full invocation count); records the \
             filters drop are neither stored nor dead-lettered",
            config.lambda_filter_patterns.len()
        ));
    }
    (!config.lambda_filter_event_types.is_empty()).then(|| {
        format!(
            "Lambda filters: lambda_filter_event_types ({}) pass {:.0}% of the recipe's event \
             mix (view 60, add_to_cart 20, purchase 10, wishlist 5, share 3, review 2 %), so \
             the function, the table and the dead-letter queue see that share of the events; \
             the stream still carries them all and Lambda still reads them all",
            config.lambda_filter_event_types.join(", "),
            ctx.workload.filter_share * 100.0
        )
    })
}

/// A count without a needless `.0`.
fn trim(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
