//! `synth cost`: a monthly (730-hour) estimate of what the configured stack costs at a given
//! load, per service and line item, from a dated us-east-1 price table.
//!
//! The estimate is a model, not a bill: [`workload`] derives the month's traffic (events,
//! invocations, durations), [`inventory`] counts what the synthesized template holds
//! (alarms, keys, metrics, indexes), and each of [`services`] prices its part with the
//! assumptions it states. docs/cost.md writes the formulas out.

pub mod docs;
pub mod inventory;
pub mod prices;
pub mod render;
pub mod services;
pub mod workload;

use crate::config::Config;

pub use inventory::Inventory;
pub use prices::{Prices, PRICES_AS_OF, PRICES_REGION, US_EAST_1};
pub use workload::{Load, LoadError, Workload, DEFAULT_LOAD, HOURS_PER_MONTH};

/// One priced quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    /// What is billed, with the figures it depends on.
    pub item: String,
    /// How many units in the month.
    pub quantity: f64,
    /// The unit (`shard-hour`, `million requests`, `GB-month`).
    pub unit: &'static str,
    /// USD per unit.
    pub unit_price_usd: f64,
    /// quantity × unit price.
    pub monthly_usd: f64,
}

impl LineItem {
    /// A line item; the monthly cost is the quantity times the unit price.
    pub fn new(item: String, quantity: f64, unit: &'static str, unit_price_usd: f64) -> Self {
        LineItem {
            item,
            quantity,
            unit,
            unit_price_usd,
            monthly_usd: quantity * unit_price_usd,
        }
    }
}

/// One service's line items and the assumptions behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCost {
    /// `Kinesis`, `Lambda`, `DynamoDB`, `CloudWatch`, `SQS`, `S3` (only with the failure
    /// bucket or the archive), `KMS`, or `VPC` (only for a function in a VPC).
    pub service: &'static str,
    /// What it bills.
    pub line_items: Vec<LineItem>,
    /// What the figures assume.
    pub assumptions: Vec<String>,
}

impl ServiceCost {
    /// A service's cost from its line items.
    pub fn new(service: &'static str, line_items: Vec<LineItem>) -> Self {
        ServiceCost {
            service,
            line_items,
            assumptions: Vec::new(),
        }
    }

    /// Adds an assumption.
    pub fn assume(mut self, assumption: impl Into<String>) -> Self {
        self.assumptions.push(assumption.into());
        self
    }

    /// Adds each of the assumptions (none, for a part the stack does not have).
    pub fn assume_all(mut self, assumptions: impl IntoIterator<Item = String>) -> Self {
        self.assumptions.extend(assumptions);
        self
    }

    /// The service's monthly total in USD.
    pub fn monthly_usd(&self) -> f64 {
        self.line_items.iter().map(|i| i.monthly_usd).sum()
    }
}

/// A month of the stack at one load.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// `{project_name}-{environment}`.
    pub stack: String,
    /// The configured region (prices are always us-east-1's).
    pub region: String,
    /// The traffic and what it means for Lambda.
    pub workload: Workload,
    /// Per service, in pipeline order.
    pub services: Vec<ServiceCost>,
    /// Estimate-wide assumptions, then each service's.
    pub assumptions: Vec<String>,
    /// Where the load does not fit the configuration (throttling).
    pub warnings: Vec<String>,
}

impl Estimate {
    /// The monthly total in USD.
    pub fn total_usd(&self) -> f64 {
        self.services.iter().map(ServiceCost::monthly_usd).sum()
    }

    /// One service's cost by name.
    pub fn service(&self, name: &str) -> Option<&ServiceCost> {
        self.services.iter().find(|s| s.service == name)
    }
}

/// Why an estimate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// The synthesized template failed validation (a bug in a construct).
    #[error("the stack's template failed validation: {0}")]
    Template(String),
    /// A figure of the estimate is infinite or not a number: the load (or a price) is beyond
    /// what the model computes. Never printed as a total.
    #[error(
        "the estimate cannot be computed: {figure} is {value}, not a finite number; price a \
         smaller load"
    )]
    NotFinite {
        /// Which figure: `the total`, `line item "..."`, `invocations per month`.
        figure: String,
        /// Its value (`inf`, `NaN`).
        value: f64,
    },
}

impl Estimate {
    /// The first figure that is not a finite number, named, if any.
    fn first_non_finite(&self) -> Option<(String, f64)> {
        let w = &self.workload;
        let workload = [
            ("events per month", w.events),
            ("delivered events per month", w.delivered_events),
            ("records per invocation", w.records_per_invocation),
            ("invocations per month", w.invocations),
            (
                "billed milliseconds per invocation",
                w.billed_ms_per_invocation,
            ),
            ("window-end invocations per month", w.window_end_invocations),
        ]
        .map(|(name, value)| (name.to_owned(), value));
        let items = self
            .services
            .iter()
            .flat_map(|s| &s.line_items)
            .flat_map(|i| {
                [
                    (format!("the quantity of {:?}", i.item), i.quantity),
                    (format!("the cost of {:?}", i.item), i.monthly_usd),
                ]
            });
        workload
            .into_iter()
            .chain(items)
            .chain([("the total".to_owned(), self.total_usd())])
            .find(|(_, value)| !value.is_finite())
    }
}

/// Estimates the configured stack's month at `load`, with the us-east-1 prices.
pub fn estimate(config: &Config, load: Load) -> Result<Estimate, CostError> {
    estimate_with(config, load, &US_EAST_1)
}

/// Estimates with a given price table.
pub fn estimate_with(config: &Config, load: Load, prices: &Prices) -> Result<Estimate, CostError> {
    let document = crate::stack::build(config)
        .to_document()
        .map_err(|e| CostError::Template(e.to_string()))?;
    let inventory = Inventory::of(&document);
    let workload = Workload::derive(config, load);
    let ctx = services::Context {
        config,
        workload: &workload,
        inventory: &inventory,
        prices,
    };
    let mut services = vec![
        services::kinesis::estimate(&ctx),
        services::lambda::estimate(&ctx),
        services::dynamodb::estimate(&ctx),
        services::cloudwatch::estimate(&ctx),
        services::sqs::estimate(&ctx),
    ];
    services.extend(services::s3::estimate(&ctx));
    services.push(services::kms::estimate(&ctx));
    services.extend(services::vpc::estimate(&ctx));
    services.extend(services::codedeploy::estimate(&ctx));
    let mut assumptions = vec![format!(
        "A month is {HOURS_PER_MONTH} hours at a steady {} events/s of {} bytes; \
         {PRICES_REGION} on-demand list prices as of {PRICES_AS_OF}, in USD, no free tier, \
         taxes or data transfer out",
        load.events_per_second, load.avg_event_bytes
    )];
    if config.region != PRICES_REGION {
        assumptions.push(format!(
            "The stack is configured for {}, but the prices are {PRICES_REGION}'s",
            config.region
        ));
    }
    assumptions.extend(services.iter().flat_map(|s| s.assumptions.iter().cloned()));
    let estimate = Estimate {
        stack: config.name_prefix(),
        region: config.region.clone(),
        warnings: warnings(&ctx),
        workload,
        services,
        assumptions,
    };
    match estimate.first_non_finite() {
        Some((figure, value)) => Err(CostError::NotFinite { figure, value }),
        None => Ok(estimate),
    }
}

fn warnings(ctx: &services::Context) -> Vec<String> {
    let mut found = Vec::new();
    let w = ctx.workload;
    if ctx.config.kinesis_stream_mode == crate::config::StreamMode::Provisioned
        && w.exceeds_shards()
    {
        found.push(format!(
            "{} events/s of {} bytes exceeds what {} shard(s) take (1,000 records/s and 1 MiB/s \
             each): producers would be throttled; raise kinesis_shard_count",
            w.load.events_per_second, w.load.avg_event_bytes, w.shards
        ));
    }
    if services::dynamodb::write_capacity_short(ctx) {
        found.push(format!(
            "the write rate needs more than dynamodb_max_write_capacity ({}) write units a \
             second: writes would be throttled",
            ctx.config.dynamodb_max_write_capacity
        ));
    }
    found.extend(services::dynamodb::write_cap_short(ctx));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_is_priced_and_the_total_is_their_sum() {
        let estimate = estimate(&Config::default(), DEFAULT_LOAD).expect("estimates");
        let names: Vec<&str> = estimate.services.iter().map(|s| s.service).collect();
        assert_eq!(
            names,
            [
                "Kinesis",
                "Lambda",
                "DynamoDB",
                "CloudWatch",
                "SQS",
                "S3",
                "KMS"
            ]
        );
        let sum: f64 = estimate
            .services
            .iter()
            .flat_map(|s| &s.line_items)
            .map(|i| i.monthly_usd)
            .sum();
        assert!((estimate.total_usd() - sum).abs() < 1e-9);
        assert!(estimate.warnings.is_empty(), "{:?}", estimate.warnings);
    }

    #[test]
    fn more_traffic_costs_more_and_overloads_are_warned_about() {
        let low = estimate(&Config::default(), DEFAULT_LOAD).unwrap();
        let load = Load::new(5000.0, 500.0, 0.0).unwrap();
        let high = estimate(&Config::default(), load).unwrap();
        assert!(high.total_usd() > low.total_usd());
        assert!(
            high.warnings[0].contains("kinesis_shard_count"),
            "{:?}",
            high.warnings
        );
    }

    /// A figure that overflows is refused, naming it, rather than printed as NaN or null.
    #[test]
    fn a_figure_that_overflows_is_refused_not_printed() {
        let prices = Prices {
            kinesis_shard_hour: f64::MAX,
            ..US_EAST_1
        };
        let err = estimate_with(&Config::default(), DEFAULT_LOAD, &prices).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the estimate cannot be computed: the cost of \"Shard-hours (1 shard)\" \
             is inf, not a finite number; price a smaller load"
        );
        let most = Load::new(workload::MAX_EVENTS_PER_SECOND, 1_048_576.0, 1.0).unwrap();
        for preset in crate::config::PRESETS {
            let config = Config::from_preset(preset).unwrap();
            let estimate = estimate(&config, most).expect(preset);
            assert!(estimate.total_usd().is_finite(), "{preset}");
        }
    }

    #[test]
    fn an_idle_stack_costs_only_its_fixed_parts() {
        let idle = estimate(&Config::default(), Load::new(0.0, 500.0, 0.0).unwrap()).unwrap();
        assert_eq!(idle.service("Lambda").unwrap().monthly_usd(), 0.0);
        assert!(idle.service("Kinesis").unwrap().monthly_usd() > 10.0);
    }

    /// The promise: the preset named for cost costs at most half of dev at the
    /// default load, and its savings are DynamoDB's.
    #[test]
    fn cost_optimized_costs_at_most_half_of_dev() {
        let dev = estimate(&Config::default(), DEFAULT_LOAD).unwrap();
        let cheap = estimate(
            &Config::from_preset("cost-optimized").unwrap(),
            DEFAULT_LOAD,
        )
        .unwrap();
        assert!(
            cheap.total_usd() <= 0.5 * dev.total_usd(),
            "cost-optimized {:.2} against dev {:.2}",
            cheap.total_usd(),
            dev.total_usd()
        );
        assert!(cheap.warnings.is_empty(), "{:?}", cheap.warnings);
    }

    /// cost-optimized's table storage, recomputed by hand from the price table: 100 events/s
    /// of 500 bytes for 730 hours; an item is 500 + 347 bytes plus `expiresAt` (9 + 6), plus
    /// 100 bytes of overhead, in the table and both GSIs; a 7-day TTL plus 2 days of deletion
    /// lag keeps 9 of the month's 30.4 days.
    #[test]
    fn cost_optimized_storage_matches_a_hand_calculation() {
        let config = Config::from_preset("cost-optimized").unwrap();
        let estimate = estimate(&config, DEFAULT_LOAD).unwrap();
        let storage = &estimate.service("DynamoDB").unwrap().line_items[2];
        assert!(
            storage.item.starts_with("Storage steady state"),
            "{storage:?}"
        );
        let events = 100.0 * 730.0 * 3600.0;
        let item = 500.0 + 347.0 + 15.0 + 100.0;
        let gb = events * item / 1_073_741_824.0 * (9.0 / (730.0 / 24.0)) * 3.0;
        let usd = gb * US_EAST_1.dynamodb_storage_gb_month;
        assert!(
            (storage.quantity - gb).abs() < 1e-6,
            "{} vs {gb}",
            storage.quantity
        );
        assert!(
            (storage.monthly_usd - usd).abs() < 0.005,
            "{} vs {usd}",
            storage.monthly_usd
        );
        // And the write capacity: ceil(100 WCU/s / 70 %) = 143 WCU, table and 2 GSIs.
        let writes = &estimate.service("DynamoDB").unwrap().line_items[0];
        let by_hand = 143.0 * 3.0 * 730.0 * US_EAST_1.dynamodb_wcu_hour;
        assert!(
            (writes.monthly_usd - by_hand).abs() < 0.005,
            "{writes:?} vs {by_hand}"
        );
    }

    /// Without TTL the storage is one month's and the estimate says it keeps growing; a TTL
    /// longer than a month prices month one and names the steady state.
    #[test]
    fn storage_follows_the_ttl() {
        let months = |days: u32| {
            let config = Config {
                dynamodb_ttl_days: days,
                ..Config::default()
            };
            services::dynamodb::retained(&config)
        };
        assert_eq!(months(0).month_one, 1.0);
        assert_eq!(months(0).steady, None);
        assert!((months(7).month_one - 9.0 / (730.0 / 24.0)).abs() < 1e-12);
        assert_eq!(months(90).month_one, 1.0);
        assert!(months(90).steady.unwrap() > 2.9);
        let long = Config {
            dynamodb_ttl_days: 90,
            ..Config::default()
        };
        let estimate = estimate(&long, DEFAULT_LOAD).unwrap();
        let assumptions = &estimate.service("DynamoDB").unwrap().assumptions;
        assert!(
            assumptions.iter().any(|a| a.contains("steady state")),
            "{assumptions:?}"
        );
    }

    /// Tumbling windows add their window-end invocations to Lambda and the aggregate table
    /// to DynamoDB, and say how a day is read back; without them, none of it.
    #[test]
    fn windows_price_their_invocations_and_the_aggregate_table() {
        let prod = estimate(&Config::from_preset("prod").unwrap(), DEFAULT_LOAD).unwrap();
        let lambda = prod.service("Lambda").unwrap();
        let items: Vec<&str> = lambda.line_items.iter().map(|i| i.item.as_str()).collect();
        assert_eq!(
            items[2..],
            [
                "Requests, window ends (3 shard(s) × 86,400 / 60 s a day)",
                "Compute, window ends (arm64, 256 MB, 20 ms each)"
            ]
        );
        // 3 shards × 43,800 minutes of the month.
        assert!((lambda.line_items[2].quantity - 0.1314).abs() < 1e-9);
        assert!((lambda.line_items[3].quantity - 131_400.0 * 0.02 * 0.25).abs() < 1e-6);
        let dynamodb = prod.service("DynamoDB").unwrap();
        let aggregate: Vec<&LineItem> = dynamodb
            .line_items
            .iter()
            .filter(|i| i.item.starts_with("Aggregate table"))
            .collect();
        assert_eq!(
            aggregate.len(),
            3,
            "writes, storage, point-in-time recovery"
        );
        assert_eq!(
            aggregate[0].item,
            "Aggregate table writes (2 items a shard and window, 6 WRU each)"
        );
        // 131,400 window ends × 2 items × 6 WRU.
        assert!((aggregate[0].quantity - 1.5768).abs() < 1e-9);
        let gb = 262_800.0 * (6144.0 + 100.0) / 1_073_741_824.0;
        assert!((aggregate[1].quantity - gb).abs() < 1e-9);
        assert!(
            dynamodb.assumptions.iter().any(|a| a.starts_with(
                "Reading a day of aggregates back (query aggregates, one partition, day): \
                 4,320 window ends × 2 items = 8,640 items of up to 6 KB, 50.6 MB: 51 Query \
                 pages of 1 MB"
            )),
            "{:#?}",
            dynamodb.assumptions
        );
        assert!(lambda
            .assumptions
            .iter()
            .any(|a| a.starts_with("Tumbling windows (aggregate_window_seconds = 60)")));

        let off = Config {
            aggregate_window_seconds: 0,
            ..Config::from_preset("prod").unwrap()
        };
        let off = estimate(&off, DEFAULT_LOAD).unwrap();
        assert_eq!(off.service("Lambda").unwrap().line_items.len(), 2);
        assert!(off
            .services
            .iter()
            .flat_map(|s| s.line_items.iter().map(|i| &i.item))
            .all(|item| !item.contains("window ends") && !item.starts_with("Aggregate")));
        assert!(off.total_usd() < prod.total_usd());
        assert_eq!(off.workload.window_end_invocations, 0.0);
    }

    #[test]
    fn provisioned_capacity_follows_the_rate_within_its_bounds() {
        let config = Config::from_preset("high-throughput").unwrap();
        let estimate = estimate(&config, DEFAULT_LOAD).unwrap();
        let dynamodb = estimate.service("DynamoDB").unwrap();
        // 100 writes/s at 70 % target: 143 WCU, above the base of 100.
        assert!(
            dynamodb.line_items[0].item.contains("143 WCU"),
            "{:?}",
            dynamodb.line_items[0]
        );
        assert_eq!(dynamodb.line_items[0].quantity, 143.0 * 3.0 * 730.0);
    }
}
