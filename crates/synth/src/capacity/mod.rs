//! `synth capacity`: the sustained ceiling of a configured stack in events per second, and
//! the stage that sets it.
//!
//! Each stage of the pipeline has a limit of its own, in events per second: the stream's
//! writes ([`stream`]), the event source mapping and the function ([`lambda`]), the event
//! archive's PUTs with `archive_events` ([`archive`]), and the table and each of its
//! indexes ([`dynamodb`], from what the synthesized template sets, read by [`template`]). The ceiling is the lowest; the bottleneck is the stage that has it
//! (the earliest in the pipeline on a tie). The event mix ([`mix`]) and the generator's
//! spread over users and products ([`traffic`]) decide how hot the hottest partition key
//! value gets. How fast a shard's backlog drains, with the processor's adaptive write window,
//! is [`backlog`]'s. docs/capacity.md writes the formulas out with their sources.

pub mod archive;
pub mod backlog;
pub mod docs;
pub mod dynamodb;
pub mod lambda;
pub mod mix;
pub mod render;
pub mod stream;
pub mod template;
pub mod traffic;

use serde_json::Value;

use crate::config::Config;
use crate::cost::services::aggregates::Windows;

pub use mix::{EventMix, MixError};

/// What a partition key value of DynamoDB takes: 1,000 write units a second.
const PARTITION_KEY_WRITE_UNITS: f64 = 1000.0;

/// What tumbling windows write to the aggregate table, and why it sets no ceiling on
/// events/s; and what reading a day back takes.
fn aggregate_writes(windows: &Windows) -> [String; 2] {
    let per_shard = windows.items_per_window() * windows.units_per_item();
    let burst = per_shard * f64::from(windows.shards);
    let number = crate::cost::render::number;
    [
        format!(
            "Tumbling windows of {} s: each shard's window end writes about {} items of up to \
             6 KB ({} WRU each) to the aggregate table, {} WRU; the {} shard(s) end their \
             windows together and write {} WRU under one day's partition key, which takes {} \
             a second. The items do not grow with traffic, so they set no ceiling on \
             events/s; past {} shards a window's end is throttled for a moment and retried",
            windows.seconds,
            number(windows.items_per_window()),
            windows.units_per_item(),
            number(per_shard),
            windows.shards,
            number(burst),
            number(PARTITION_KEY_WRITE_UNITS),
            number((PARTITION_KEY_WRITE_UNITS / per_shard).floor()),
        ),
        windows.day_read(&crate::cost::US_EAST_1),
    ]
}

/// One stage's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// A stable name: `KinesisWrites`, `Lambda`, `ArchiveWrites`, `Table`, or an index's
    /// name.
    pub name: String,
    /// Events per second the stage sustains.
    pub events_per_second: f64,
    /// The formula with its figures, for people.
    pub limited_by: String,
    /// The figures it was computed from, by name.
    pub inputs: Vec<(&'static str, Value)>,
    /// What the figure assumes or leaves out.
    pub notes: Vec<String>,
}

impl Stage {
    /// A stage with no inputs or notes yet.
    pub fn new(name: &str, events_per_second: f64, limited_by: String) -> Stage {
        Stage {
            name: name.to_owned(),
            events_per_second,
            limited_by,
            inputs: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds an input figure.
    pub fn input(mut self, name: &'static str, value: Value) -> Stage {
        self.inputs.push((name, value));
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Stage {
        self.notes.push(note.into());
        self
    }
}

/// What the report is for besides the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Each event type's share of events.
    pub mix: EventMix,
    /// The average event (Kinesis record data) in bytes.
    pub avg_event_bytes: f64,
}

impl Default for Options {
    /// The recipe's event mix, events of the cost model's default size.
    fn default() -> Self {
        Options {
            mix: EventMix::default(),
            avg_event_bytes: traffic::DEFAULT_EVENT_BYTES,
        }
    }
}

/// The capacity of one configured stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `{project_name}-{environment}`.
    pub stack: String,
    /// What it was computed for.
    pub options: Options,
    /// Every stage, in pipeline order.
    pub stages: Vec<Stage>,
    /// Report-wide assumptions.
    pub assumptions: Vec<String>,
    /// How fast one shard's backlog drains (`None` for a report without stages).
    pub backlog: Option<backlog::Backlog>,
}

/// Two figures this close are a tie (floating point makes 3,000 / 0.6 and 5,000 differ).
const TIE: f64 = 1e-9;

impl Report {
    /// The stage that sets the ceiling: the lowest, the earliest in the pipeline on a tie
    /// (`None` only for a report without stages).
    pub fn bottleneck(&self) -> Option<&Stage> {
        let lowest = self
            .stages
            .iter()
            .map(|s| s.events_per_second)
            .fold(f64::INFINITY, f64::min);
        self.stages
            .iter()
            .find(|s| s.events_per_second <= lowest * (1.0 + TIE))
    }

    /// The sustained ceiling in events per second: the bottleneck's.
    pub fn ceiling(&self) -> Option<f64> {
        self.bottleneck().map(|s| s.events_per_second)
    }

    /// One stage by name.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    /// The synthesized template failed validation (a bug in a construct).
    #[error("the stack's template failed validation: {0}")]
    Template(String),
    /// The template has no DynamoDB table (a bug in the stack).
    #[error("the stack's template has no DynamoDB table")]
    NoTable,
}

/// The capacity of the configured stack.
pub fn assess(config: &Config, options: &Options) -> Result<Report, CapacityError> {
    let document = crate::stack::build(config)
        .to_document()
        .map_err(|e| CapacityError::Template(e.to_string()))?;
    let facts = template::table_facts(&document).ok_or(CapacityError::NoTable)?;
    let bytes = options.avg_event_bytes;
    let delivered = delivered(config, &options.mix);
    let mix = delivered.as_ref().map_or(&options.mix, |d| &d.mix);
    let mut after_filters = vec![lambda::stage(config, bytes)];
    after_filters.extend(archive::stage(config, bytes));
    after_filters.extend(dynamodb::stages(
        config,
        bytes,
        mix,
        &facts,
        write_shards(config),
    ));
    if let Some(delivered) = &delivered {
        for stage in &mut after_filters {
            stage.events_per_second /= delivered.share;
            stage
                .inputs
                .push(("filter_share", serde_json::json!(delivered.share)));
        }
    }
    let mut stages = vec![stream::stage(config, bytes)];
    stages.extend(after_filters);
    let mut assumptions = vec![
        format!(
            "Sustained load, every event valid, {} bytes an event; event mix: {}",
            crate::cost::render::number(bytes),
            options.mix
        ),
        "Burst capacity (DynamoDB's 300 s of unused capacity, on-demand warm-up) is not counted; \
         neither are other consumers of the stream or other writers to the table"
            .to_string(),
        format!(
            "Users and products spread as the recipe's event generator spreads them: {} users \
             and {} products picked uniformly",
            traffic::RECIPE_USERS,
            traffic::RECIPE_PRODUCTS
        ),
    ];
    if let Some(delivered) = &delivered {
        assumptions.push(format!(
            "The mapping's lambda_filter_event_types pass {} % of the events ({} among them): \
             every stage after the stream sees only those, and its figure is restated in events \
             arriving on the stream (its own limit / {})",
            mix::percent(delivered.share),
            delivered.mix,
            crate::cost::render::number(delivered.share)
        ));
    }
    if let Some(windows) = Windows::of(config, stream::shards(config)) {
        assumptions.extend(aggregate_writes(&windows));
    }
    if !config.lambda_filter_patterns.is_empty() {
        assumptions.push(
            "lambda_filter_patterns are set: their selectivity is unknown, so every event is \
             counted as reaching the function and the table"
                .to_string(),
        );
    }
    let mut report = Report {
        stack: config.name_prefix(),
        options: options.clone(),
        stages,
        assumptions,
        backlog: None,
    };
    if let Some(ceiling) = report.ceiling() {
        let downstream = report
            .stages
            .iter()
            .filter(|s| s.name != stream::NAME && s.name != lambda::NAME)
            .map(|s| s.events_per_second)
            .fold(f64::INFINITY, f64::min);
        report.backlog = Some(backlog::assess(config, bytes, ceiling, downstream));
    }
    Ok(report)
}

/// What the mapping's `lambda_filter_event_types` deliver of `mix`; `None` when every event
/// reaches the function (no type filter, or patterns, whose selectivity is unknown and
/// which pass a record matching any filter) or none of the mix's types passes.
fn delivered(config: &Config, mix: &EventMix) -> Option<mix::Delivered> {
    if !config.lambda_filter_patterns.is_empty() {
        return None;
    }
    mix.delivered(&config.lambda_filter_event_types)
}

/// The index write shards the configuration asks for (`dynamodb_index_write_shards`); they
/// count only for an index whose template key is a sharded attribute.
fn write_shards(config: &Config) -> u32 {
    config.dynamodb_index_write_shards.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With a type filter the stages after the stream see only the delivered events: dev's
    /// EventTypeIndex is held by add_to_cart (20 % of arriving events) instead of view, so
    /// it takes 1,000 / 0.2 = 5,000 arriving events a second, and the on-demand table's
    /// 40,000 WCU quota takes 40,000 / 0.3.
    #[test]
    fn a_type_filter_restates_the_later_stages_in_arriving_events() {
        let config = Config::load(
            None,
            None,
            &["lambda_filter_event_types=[\"purchase\", \"add_to_cart\"]".to_owned()],
        )
        .unwrap();
        let report = assess(&config, &Options::default()).unwrap();
        let close = |name: &str, expected: f64| {
            let got = report.stage(name).unwrap().events_per_second;
            assert!((got - expected).abs() < 1e-6, "{name}: {got} != {expected}");
        };
        close("KinesisWrites", 1000.0);
        close("EventTypeIndex", 5000.0);
        close("Table", 40_000.0 / 0.3);
        let unfiltered = assess(&Config::default(), &Options::default()).unwrap();
        let lambda = |r: &Report| r.stage("Lambda").unwrap().events_per_second;
        assert!((lambda(&report) - lambda(&unfiltered) / 0.3).abs() < 1e-6);
        assert!(report
            .assumptions
            .iter()
            .any(|a| a.contains("pass 30 % of the events")));
    }

    #[test]
    fn dev_is_held_by_its_one_shard() {
        let report = assess(&Config::default(), &Options::default()).unwrap();
        let names: Vec<&str> = report.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "KinesisWrites",
                "Lambda",
                "Table",
                "EventTypeIndex",
                "ProductIndex"
            ]
        );
        assert_eq!(report.bottleneck().unwrap().name, "KinesisWrites");
        assert_eq!(report.ceiling(), Some(1000.0));
    }

    /// Windows set no ceiling of their own: the report says what their table takes and how
    /// a day is read back.
    #[test]
    fn windows_say_what_the_aggregate_table_takes() {
        let prod = Config::from_preset("prod").unwrap();
        let report = assess(&prod, &Options::default()).unwrap();
        assert!(report
            .stage(crate::stack::aggregates::AGGREGATE_TABLE_ID)
            .is_none());
        let said: Vec<&String> = report
            .assumptions
            .iter()
            .filter(|a| a.contains("aggregate"))
            .collect();
        assert_eq!(said.len(), 2, "{said:#?}");
        assert!(said[0].starts_with(
            "Tumbling windows of 60 s: each shard's window end writes about 2 items of up to \
             6 KB (6 WRU each) to the aggregate table, 12 WRU; the 3 shard(s) end their windows \
             together and write 36 WRU under one day's partition key"
        ));
        assert!(said[0]
            .ends_with("past 83 shards a window's end is throttled for a moment and retried"));
        assert!(said[1].contains("51 Query pages of 1 MB"), "{}", said[1]);
        let cheap = assess(
            &Config::from_preset("cost-optimized").unwrap(),
            &Options::default(),
        );
        assert!(cheap
            .unwrap()
            .assumptions
            .iter()
            .all(|a| !a.contains("aggregate")));
    }

    #[test]
    fn a_tie_goes_to_the_earliest_stage() {
        let report = Report {
            stack: "s".into(),
            options: Options::default(),
            stages: vec![
                Stage::new("A", 5000.0, String::new()),
                Stage::new("B", 3000.0 / 0.6, String::new()),
                Stage::new("C", 4999.0 + 1.0, String::new()),
            ],
            assumptions: Vec::new(),
            backlog: None,
        };
        assert_eq!(report.bottleneck().unwrap().name, "A");
        let empty = Report {
            stages: Vec::new(),
            ..report
        };
        assert_eq!((empty.bottleneck(), empty.ceiling()), (None, None));
    }

    #[test]
    fn a_mix_of_purchases_moves_the_hot_key() {
        let options = Options {
            mix: EventMix::parse("view=0.2,purchase=0.8").unwrap(),
            ..Options::default()
        };
        let config = Config {
            kinesis_shard_count: 4,
            ..Config::default()
        };
        let report = assess(&config, &options).unwrap();
        let bottleneck = report.bottleneck().unwrap();
        assert_eq!(bottleneck.name, "EventTypeIndex");
        assert_eq!(bottleneck.events_per_second, 1000.0 / 0.8);
        assert!(bottleneck.limited_by.contains("\"purchase\""));
    }
}
