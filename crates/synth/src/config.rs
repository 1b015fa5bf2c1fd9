//! The pipeline's configuration: one TOML file whose keys keep the names of the original
//! Terraform recipe's variables (real-time-data-processing-with-kinesis-lambda), the recipe's
//! defaults and ranges, a few new knobs, and the presets the recipe's examples describe.
//!
//! A configuration is built in layers, later ones winning key by key: the built-in defaults
//! (the `dev` preset), a preset, a file, then `--set key=value` overrides. Every value is
//! checked before anything is synthesized, and every problem is reported at once with the key,
//! the rule, the value and the layer it came from. See docs/configuration.md for the keys.

mod combinations;
mod docs;
mod error;
mod filters;
mod keys;
mod layers;
mod network;
mod regions;
#[cfg(test)]
mod tests;
pub mod warnings;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use docs::{reference, reference_markdown, KeyDoc};
pub use error::{ConfigError, Origin, Problem, Violation};

/// The presets we ship, `dev` first because it is the default. Each mirrors an example of the
/// recipe's README where there is one (see the files in crates/synth/presets/).
pub const PRESETS: &[&str] = &[
    "dev",
    "staging",
    "prod",
    "high-throughput",
    "cost-optimized",
];

/// The text of a built-in preset, embedded so the binary needs no files beside it.
fn preset_source(name: &str) -> Option<&'static str> {
    match name {
        "dev" => Some(include_str!("../presets/dev.toml")),
        "staging" => Some(include_str!("../presets/staging.toml")),
        "prod" => Some(include_str!("../presets/prod.toml")),
        "high-throughput" => Some(include_str!("../presets/high-throughput.toml")),
        "cost-optimized" => Some(include_str!("../presets/cost-optimized.toml")),
        _ => None,
    }
}

/// Defines a closed set of AWS strings as an enum whose serde form and [`as_str`] are the
/// exact spelling AWS expects, with the list of spellings for validation and docs.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every accepted spelling, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The exact string CloudFormation expects.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

aws_enum! {
    /// Where a new Kinesis event source mapping starts reading.
    StartingPosition {
        /// The oldest record still retained: nothing written before the mapping is lost.
        TrimHorizon => "TRIM_HORIZON",
        /// Only records written after the mapping starts.
        Latest => "LATEST",
        /// Records from `lambda_starting_position_timestamp` on.
        AtTimestamp => "AT_TIMESTAMP",
    }
}

aws_enum! {
    /// How the event source mapping reads the stream.
    ConsumerMode {
        /// Polls each shard with GetRecords, sharing its 2 MB/s of reads with other readers.
        Shared => "shared",
        /// A registered enhanced fan-out consumer: its own 2 MB/s per shard, pushed over HTTP/2.
        EnhancedFanOut => "enhanced-fan-out",
    }
}

aws_enum! {
    /// How the DynamoDB table is billed.
    BillingMode {
        /// Per request; no capacity to plan.
        PayPerRequest => "PAY_PER_REQUEST",
        /// Per provisioned capacity unit, auto scaled between base and max capacity.
        Provisioned => "PROVISIONED",
    }
}

aws_enum! {
    /// What the global secondary indexes copy of each item.
    GsiProjection {
        /// Every attribute: a query answers from the index alone (the recipe's).
        All => "ALL",
        /// Only the table's and the index's keys: a query must fetch the items from the table.
        KeysOnly => "KEYS_ONLY",
        /// The keys and `dynamodb_gsi_include_attributes`.
        Include => "INCLUDE",
    }
}

aws_enum! {
    /// The DynamoDB table class, which trades storage price against request price.
    TableClass {
        /// The default: cheaper requests.
        Standard => "STANDARD",
        /// About 60 % cheaper storage, 25 % dearer requests.
        StandardInfrequentAccess => "STANDARD_INFREQUENT_ACCESS",
    }
}

/// DynamoDB's point-in-time recovery period when none is set, in days, and the longest.
pub const DEFAULT_PITR_RECOVERY_DAYS: u32 = 35;

aws_enum! {
    /// What CloudWatch Contributor Insights follows on the events table and its indexes.
    ContributorInsights {
        /// Nothing: no Contributor Insights rules.
        Off => "off",
        /// Only the keys of throttled requests (`THROTTLED_KEYS`).
        ThrottledKeys => "throttled-keys",
        /// The most accessed and the most throttled keys (`ACCESSED_AND_THROTTLED_KEYS`).
        All => "all",
    }
}

/// The item attributes (docs/design.md, "Table items") that no key of the table or an index
/// uses, so `dynamodb_gsi_include_attributes` may project them. Keys are always projected.
pub const GSI_INCLUDABLE_ATTRIBUTES: &[&str] = &[
    "sessionId",
    "eventScore",
    "engagementLevel",
    "insight",
    "processedAt",
    "processingLatency",
    "version",
    "originalEvent",
    "expiresAt",
];

aws_enum! {
    /// Where the event source mapping sends the record of a batch it gives up on.
    OnFailureDestination {
        /// The failure bucket: one object per discarded batch, holding its records.
        S3 => "s3",
        /// The dead-letter queue: the batch's place in the stream, not its records.
        Sqs => "sqs",
    }
}

aws_enum! {
    /// How a new version of the processor (new code, or a new configuration of the function)
    /// takes over the stream's batches. The gradual ones are CodeDeploy's predefined Lambda
    /// deployment configurations (`stack::gradual`); docs/canary.md says what each does.
    DeployStrategy {
        /// CloudFormation updates the function in place: every batch after the update runs
        /// the new code (no version, alias or CodeDeploy: the recipe's way).
        AllAtOnce => "all-at-once",
        /// 10 % of invocations of the `live` alias for 5 minutes, then all of them.
        Canary10Percent5Minutes => "canary-10-percent-5-minutes",
        /// 10 % for 15 minutes, then all: long enough for the 5-minute rollback alarms to
        /// judge at least two full periods of the canary.
        Canary10Percent15Minutes => "canary-10-percent-15-minutes",
        /// 10 % more every minute, all after 10 minutes.
        Linear10PercentEveryMinute => "linear-10-percent-every-minute",
    }
}

impl DeployStrategy {
    /// Whether a deploy shifts traffic step by step, through a version, an alias and
    /// CodeDeploy, and can be rolled back by alarms while it does.
    pub fn is_gradual(self) -> bool {
        self != DeployStrategy::AllAtOnce
    }
}

aws_enum! {
    /// How the Kinesis stream's capacity is managed.
    StreamMode {
        /// A fixed number of shards (`kinesis_shard_count`).
        Provisioned => "PROVISIONED",
        /// Capacity follows traffic; the shard count is ignored.
        OnDemand => "ON_DEMAND",
    }
}

aws_enum! {
    /// The processor's instruction set; the Lambda build must target the same one.
    Architecture {
        /// Graviton: cheaper per GB-second.
        Arm64 => "arm64",
        /// Intel/AMD.
        X86_64 => "x86_64",
    }
}

aws_enum! {
    /// A Kinesis enhanced (shard-level) CloudWatch metric.
    ShardLevelMetric {
        /// Bytes written per shard.
        IncomingBytes => "IncomingBytes",
        /// Records written per shard.
        IncomingRecords => "IncomingRecords",
        /// Bytes read per shard.
        OutgoingBytes => "OutgoingBytes",
        /// Records read per shard.
        OutgoingRecords => "OutgoingRecords",
        /// Writes throttled per shard.
        WriteProvisionedThroughputExceeded => "WriteProvisionedThroughputExceeded",
        /// Reads throttled per shard.
        ReadProvisionedThroughputExceeded => "ReadProvisionedThroughputExceeded",
        /// How far behind readers are, per shard.
        IteratorAgeMilliseconds => "IteratorAgeMilliseconds",
        /// Every shard-level metric.
        All => "ALL",
    }
}

/// The whole configuration of the pipeline stack, one field per key.
///
/// Field names are the TOML keys (and, for the recipe's keys, its Terraform variable names).
/// The rules and the reasons for each default are in docs/configuration.md; a value built by
/// [`Config::load`] has passed [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// First part of every resource name; lowercase letters, digits, hyphens, ≤ 32.
    pub project_name: String,
    /// Second part of every resource name; lowercase letters, digits, hyphens, ≤ 16.
    pub environment: String,
    /// The AWS region the stack is meant for.
    pub region: String,

    /// Fixed shards or on-demand capacity.
    pub kinesis_stream_mode: StreamMode,
    /// Shards in PROVISIONED mode, 1–1000.
    pub kinesis_shard_count: u32,
    /// Hours records stay in the stream, 24–8760.
    pub kinesis_retention_period: u32,
    /// Enhanced per-shard metrics to enable.
    pub kinesis_shard_level_metrics: Vec<ShardLevelMetric>,
    /// Principals of other AWS accounts allowed to put records on the stream: 12-digit
    /// account IDs or IAM role/user ARNs.
    pub producer_principals: Vec<String>,
    /// Shared reads or an enhanced fan-out consumer for the processor.
    pub kinesis_consumer: ConsumerMode,

    /// Processor memory in MB, 128–10240.
    pub lambda_memory_size: u32,
    /// Processor timeout in seconds, 1–900.
    pub lambda_timeout: u32,
    /// Processor instruction set.
    pub lambda_architecture: Architecture,
    /// Reserved concurrency, or -1 for none.
    pub lambda_reserved_concurrency: i32,
    /// How a new version of the processor takes over: at once, or gradually through
    /// CodeDeploy with alarm rollback.
    pub deploy_strategy: DeployStrategy,
    /// Records per invocation, 1–10000.
    pub lambda_batch_size: u32,
    /// Seconds to wait to fill a batch, 0–300.
    pub lambda_maximum_batching_window_in_seconds: u32,
    /// Where a new mapping starts reading.
    pub lambda_starting_position: StartingPosition,
    /// With AT_TIMESTAMP, the time to start reading from in epoch seconds; 0 otherwise.
    pub lambda_starting_position_timestamp: u64,
    /// Event types the mapping hands to the function; empty for all.
    pub lambda_filter_event_types: Vec<String>,
    /// Further Lambda filter patterns (JSON objects, as text); a record matching any filter
    /// is processed.
    pub lambda_filter_patterns: Vec<String>,
    /// Whether the mapping's filters are encrypted with the data key; `None` (the key left
    /// out, the default) encrypts them when there are any ([`Config::filters_encrypted`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_filter_encryption: Option<bool>,
    /// Concurrent batches per shard, 1–10.
    pub lambda_parallelization_factor: u32,
    /// Retries of a failed batch, or -1 for "until the record expires".
    pub lambda_maximum_retry_attempts: i32,
    /// Oldest record still retried in seconds, or -1 for no limit.
    pub lambda_maximum_record_age_in_seconds: i32,
    /// Split failing batches to isolate a poison record.
    pub lambda_bisect_batch_on_function_error: bool,
    /// The event source mapping's tumbling window in seconds, 1–900, whose end writes the
    /// per-minute aggregates (the aggregate table); 0 turns windows and the table off.
    pub aggregate_window_seconds: u32,

    /// On-demand or provisioned table billing.
    pub dynamodb_billing_mode: BillingMode,
    /// Base read capacity (PROVISIONED only).
    pub dynamodb_read_capacity: u32,
    /// Base write capacity (PROVISIONED only).
    pub dynamodb_write_capacity: u32,
    /// Auto scaling ceiling for reads (PROVISIONED only), ≥ the base.
    pub dynamodb_max_read_capacity: u32,
    /// Auto scaling ceiling for writes (PROVISIONED only), ≥ the base.
    pub dynamodb_max_write_capacity: u32,
    /// Auto scaling target in percent, 20–90.
    pub dynamodb_autoscaling_target_utilization: u32,
    /// Days after its event that an item expires (attribute `expiresAt`), or 0 for never;
    /// 0–3650.
    pub dynamodb_ttl_days: u32,
    /// Continuous backups.
    pub dynamodb_point_in_time_recovery_enabled: bool,
    /// Days point-in-time recovery can restore to, 1–35 (with point-in-time recovery only).
    pub dynamodb_pitr_recovery_days: u32,
    /// Most write request units a second the on-demand table and each index take, or 0 for
    /// no cap; 0–40000.
    pub dynamodb_max_on_demand_write_units: u32,
    /// Most read request units a second the on-demand table and each index take, or 0 for
    /// no cap; 0–40000.
    pub dynamodb_max_on_demand_read_units: u32,
    /// CloudWatch Contributor Insights on the events table and its indexes.
    pub dynamodb_contributor_insights: ContributorInsights,
    /// Customer managed KMS key for the table.
    pub dynamodb_server_side_encryption_enabled: bool,
    /// What the indexes copy of each item.
    pub dynamodb_gsi_projection: GsiProjection,
    /// The non-key attributes the indexes copy with INCLUDE.
    pub dynamodb_gsi_include_attributes: Vec<String>,
    /// The table class.
    pub dynamodb_table_class: TableClass,
    /// Write shards per index partition key value, 1–100; 1 keeps the recipe's plain index
    /// keys (`eventType`, `productId`), more key the indexes on `eventTypeShard` and
    /// `productIdShard`.
    pub dynamodb_index_write_shards: u32,
    /// Refuse table deletion.
    pub dynamodb_deletion_protection: bool,
    /// Keep the table and its key when the stack goes away.
    pub retain_data_on_delete: bool,

    /// Seconds failed records stay in the dead-letter queue, 60–1209600.
    pub sqs_message_retention_seconds: u32,
    /// Dead-letter visibility timeout in seconds, 0–43200.
    pub sqs_visibility_timeout_seconds: u32,

    /// Where the event source mapping sends a batch it gives up on: the failure bucket (its
    /// records kept) or the dead-letter queue (its place in the stream).
    pub on_failure_destination: OnFailureDestination,
    /// Days an object of the failure bucket is kept after redrive marked it handled, 1–3650;
    /// an object not handled never expires.
    pub failure_archive_retention_days: u32,
    /// Whether every batch the function is invoked with is kept in the archive bucket.
    pub archive_events: bool,
    /// Days the archive bucket keeps a batch, 1–3650.
    pub archive_retention_days: u32,

    /// Failed events per period that trigger the alarm, ≥ 1.
    pub cloudwatch_alarm_threshold: u32,
    /// Periods the failure alarm evaluates.
    pub cloudwatch_alarm_evaluation_periods: u32,
    /// Seconds per failed-events alarm period: 10, 30 (high resolution) or a multiple of 60.
    pub cloudwatch_alarm_period_seconds: u32,
    /// Where alarms are mailed; empty for no alerts.
    pub sns_email_endpoint: String,
    /// Log retention in days, one of CloudWatch Logs' values.
    pub cloudwatch_log_retention_days: u32,

    /// Subnets the function runs in; empty for no VPC.
    pub vpc_subnet_ids: Vec<String>,
    /// Security groups of the function; empty for one the stack creates (HTTPS egress only).
    pub vpc_security_group_ids: Vec<String>,
    /// The VPC of the subnets, when the stack creates a security group or endpoints.
    pub vpc_id: String,
    /// Route tables of the subnets, for the DynamoDB gateway endpoint.
    pub vpc_route_table_ids: Vec<String>,
    /// Whether the stack creates the VPC endpoints the processor needs (DynamoDB, SQS).
    pub vpc_create_endpoints: bool,

    /// Extra tags on every resource.
    pub additional_tags: BTreeMap<String, String>,
}

/// The `dev` preset, which is the recipe's defaults (code/terraform/variables.tf, line of each
/// `default` noted) plus our defaults for the knobs the recipe hard-coded or lacked.
impl Default for Config {
    fn default() -> Self {
        Config {
            project_name: "retail-events".into(),         // variables.tf:7
            environment: "dev".into(),                    // variables.tf:18
            region: "us-east-1".into(),                   // variables.tf:29
            kinesis_stream_mode: StreamMode::Provisioned, // main.tf stream_mode_details
            kinesis_shard_count: 1,                       // variables.tf:36
            kinesis_retention_period: 24,                 // variables.tf:47
            kinesis_shard_level_metrics: vec![
                ShardLevelMetric::IncomingRecords,
                ShardLevelMetric::OutgoingRecords,
            ], // variables.tf:58
            producer_principals: Vec::new(),              // ours: only this account's producers
            kinesis_consumer: ConsumerMode::Shared,       // ours: the recipe's shared reads
            lambda_memory_size: 256,                      // variables.tf:77
            lambda_timeout: 120,                          // variables.tf:88
            // Ours: the recipe ran Python on x86_64; our Rust build targets Graviton.
            lambda_architecture: Architecture::Arm64,
            lambda_reserved_concurrency: -1, // variables.tf:99
            // Ours (issue 21): prod shifts new code gradually; elsewhere at once, as the recipe.
            deploy_strategy: DeployStrategy::AllAtOnce,
            lambda_batch_size: 100,                       // variables.tf:110
            lambda_maximum_batching_window_in_seconds: 5, // variables.tf:121
            lambda_starting_position: StartingPosition::Latest, // variables.tf:132
            lambda_starting_position_timestamp: 0,        // ours: only with AT_TIMESTAMP
            lambda_filter_event_types: Vec::new(),        // ours: the recipe processed every record
            lambda_filter_patterns: Vec::new(),
            lambda_filter_encryption: None, // ours (issue 22): the data key, with filters
            lambda_parallelization_factor: 1, // main.tf kinesis_trigger, hard-coded
            lambda_maximum_retry_attempts: 3, // main.tf kinesis_trigger, hard-coded
            // The recipe set no limit, which is AWS's -1.
            lambda_maximum_record_age_in_seconds: -1,
            // Ours: one poison record should not stall a shard for all retries.
            lambda_bisect_batch_on_function_error: true,
            // Ours (issue 20): per-minute aggregates from one-minute tumbling windows.
            aggregate_window_seconds: 60,
            dynamodb_billing_mode: BillingMode::PayPerRequest, // variables.tf:144
            dynamodb_read_capacity: 5,                         // variables.tf:155
            dynamodb_write_capacity: 5,                        // variables.tf:166
            // Ours: auto scaling up to 10 times the base.
            dynamodb_max_read_capacity: 50,
            dynamodb_max_write_capacity: 50,
            // Ours: the AWS console's default target.
            dynamodb_autoscaling_target_utilization: 70,
            dynamodb_ttl_days: 0, // ours: the recipe kept items forever
            dynamodb_point_in_time_recovery_enabled: true, // variables.tf:177
            dynamodb_pitr_recovery_days: 35, // ours: DynamoDB's default recovery period
            dynamodb_max_on_demand_write_units: 0, // ours: no cap, DynamoDB's default
            dynamodb_max_on_demand_read_units: 0,
            // Ours: prod turns on throttled keys; nothing elsewhere.
            dynamodb_contributor_insights: ContributorInsights::Off,
            dynamodb_server_side_encryption_enabled: true, // variables.tf:183
            dynamodb_index_write_shards: 1,                // ours: the recipe's plain index keys
            dynamodb_gsi_projection: GsiProjection::All,   // main.tf projection_type = "ALL"
            dynamodb_gsi_include_attributes: Vec::new(),
            dynamodb_table_class: TableClass::Standard, // ours: DynamoDB's default
            dynamodb_deletion_protection: false,        // ours: dev stacks come and go
            retain_data_on_delete: false,               // ours: dev stacks come and go
            sqs_message_retention_seconds: 1_209_600,   // variables.tf:190
            sqs_visibility_timeout_seconds: 30,         // variables.tf:201
            // Ours: a failed batch keeps its records, whatever the stream's retention.
            on_failure_destination: OnFailureDestination::S3,
            failure_archive_retention_days: 90,
            archive_events: false, // ours: prod keeps an event archive, dev need not
            archive_retention_days: 365,
            cloudwatch_alarm_threshold: 10,         // variables.tf:213
            cloudwatch_alarm_evaluation_periods: 1, // variables.tf:224
            cloudwatch_alarm_period_seconds: 60,    // variables.tf:235
            sns_email_endpoint: String::new(),      // variables.tf:247
            cloudwatch_log_retention_days: 14,      // main.tf aws_cloudwatch_log_group, hard-coded
            // Ours: the recipe ran the function outside any VPC.
            vpc_subnet_ids: Vec::new(),
            vpc_security_group_ids: Vec::new(),
            vpc_id: String::new(),
            vpc_route_table_ids: Vec::new(),
            vpc_create_endpoints: false,
            additional_tags: BTreeMap::new(), // variables.tf:259
        }
    }
}

impl Config {
    /// Builds the config: preset (default "dev") as base, then the TOML file's keys, then each
    /// `key=value` override, in that order; then validates everything.
    ///
    /// Unreadable input (unknown preset, missing file, broken TOML, a `--set` without `=`)
    /// stops at once; every other problem is collected into one [`ConfigError::Invalid`].
    pub fn load(
        preset: Option<&str>,
        file: Option<&Path>,
        overrides: &[String],
    ) -> Result<Config, ConfigError> {
        let mut draft = layers::Draft::new()?;
        draft.apply_preset(preset.unwrap_or("dev"))?;
        if let Some(path) = file {
            draft.apply_file(path)?;
        }
        for arg in overrides {
            draft.apply_set(arg)?;
        }
        draft.finish()
    }

    /// One of [`PRESETS`] on its own, for callers (and CI) that render every preset.
    pub fn from_preset(name: &str) -> Result<Config, ConfigError> {
        Config::load(Some(name), None, &[])
    }

    /// Checks every rule, for configs built by hand rather than by [`Config::load`]. Returns
    /// all violations at once, like `load`, but without origins: a struct has no layers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut found = keys::check_table(&self.to_table()?);
        found.extend(self.cross_field_violations());
        if found.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(found))
        }
    }

    /// Whether alarm notifications go anywhere; without an address the stack creates no SNS
    /// topic, as in the recipe.
    pub fn alerts_enabled(&self) -> bool {
        !self.sns_email_endpoint.is_empty()
    }

    /// The event source mapping's filter patterns as Lambda receives them: the pattern of
    /// `lambda_filter_event_types` first, then each of `lambda_filter_patterns` in compact
    /// form. Empty when nothing is filtered. A record matching any one is processed.
    pub fn filter_patterns(&self) -> Vec<String> {
        let by_type = (!self.lambda_filter_event_types.is_empty())
            .then(|| filters::event_types_pattern(&self.lambda_filter_event_types));
        let patterns = self.lambda_filter_patterns.iter().map(|text| {
            // A validated config's patterns parse; keep the text as given otherwise.
            filters::canonical_pattern(text).unwrap_or_else(|_| text.clone())
        });
        by_type.into_iter().chain(patterns).collect()
    }

    /// Whether the mapping filters at all (`lambda_filter_event_types` or
    /// `lambda_filter_patterns` is not empty).
    pub fn has_filters(&self) -> bool {
        !self.lambda_filter_event_types.is_empty() || !self.lambda_filter_patterns.is_empty()
    }

    /// Whether the mapping's filters are encrypted with the data key (its `KmsKeyArn`): when
    /// there are filters, unless `lambda_filter_encryption = false`.
    pub fn filters_encrypted(&self) -> bool {
        self.has_filters() && self.lambda_filter_encryption != Some(false)
    }

    /// Whether the mapping's on-failure destination is the failure bucket, which the stack
    /// then creates (`on_failure_destination = "s3"`).
    pub fn failure_bucket(&self) -> bool {
        self.on_failure_destination == OnFailureDestination::S3
    }

    /// The tumbling window's length in seconds when aggregates are on
    /// (`aggregate_window_seconds` is not 0): the mapping's `TumblingWindowInSeconds`, and
    /// the stack then creates the aggregate table.
    pub fn aggregate_window(&self) -> Option<u32> {
        (self.aggregate_window_seconds > 0).then_some(self.aggregate_window_seconds)
    }

    /// The recovery period the tables declare (`RecoveryPeriodInDays`): with point-in-time
    /// recovery on and `dynamodb_pitr_recovery_days` other than DynamoDB's own
    /// [`DEFAULT_PITR_RECOVERY_DAYS`], which is left unwritten.
    pub fn pitr_recovery_period(&self) -> Option<u32> {
        let days = self.dynamodb_pitr_recovery_days;
        (self.dynamodb_point_in_time_recovery_enabled && days != DEFAULT_PITR_RECOVERY_DAYS)
            .then_some(days)
    }

    /// What synth says about a valid configuration without refusing it, one sentence each:
    /// combinations whose behaviour AWS does not document, and alarms that notify no one
    /// (see `warnings`).
    pub fn warnings(&self) -> Vec<String> {
        warnings::of(self)
    }

    /// Whether the function runs in a VPC (`vpc_subnet_ids` is not empty).
    pub fn in_vpc(&self) -> bool {
        !self.vpc_subnet_ids.is_empty()
    }

    /// The start of every resource name, so stacks of several projects and environments can
    /// share an account: `{project_name}-{environment}`.
    pub fn name_prefix(&self) -> String {
        format!("{}-{}", self.project_name, self.environment)
    }

    /// The config as a TOML table, the form the key rules are written against.
    fn to_table(&self) -> Result<toml::Table, ConfigError> {
        toml::Table::try_from(self).map_err(|error| ConfigError::Internal(error.to_string()))
    }

    /// The rules that involve more than one key.
    fn cross_field_violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        if self.dynamodb_billing_mode == BillingMode::Provisioned {
            let pairs = [
                (
                    "dynamodb_max_read_capacity",
                    self.dynamodb_max_read_capacity,
                    "dynamodb_read_capacity",
                    self.dynamodb_read_capacity,
                ),
                (
                    "dynamodb_max_write_capacity",
                    self.dynamodb_max_write_capacity,
                    "dynamodb_write_capacity",
                    self.dynamodb_write_capacity,
                ),
            ];
            for (max_key, max, base_key, base) in pairs {
                if max < base {
                    let rule = format!(
                        "be at least {base_key} ({base}) when dynamodb_billing_mode is PROVISIONED"
                    );
                    found.push(Violation::rule(max_key, rule, max.to_string()));
                }
            }
        }
        found.extend(self.alarm_window_violation());
        found.extend(combinations::violations(self));
        found
    }

    /// CloudWatch refuses alarms that look back more than one day when the period is under an
    /// hour, or more than seven days otherwise (PutMetricAlarm, `Period`).
    fn alarm_window_violation(&self) -> Option<Violation> {
        let period = u64::from(self.cloudwatch_alarm_period_seconds.max(1));
        let window = if period < 3600 { 86_400 } else { 604_800 };
        let most = window / period;
        let periods = u64::from(self.cloudwatch_alarm_evaluation_periods);
        (periods > most).then(|| {
            let rule = format!(
                "be at most {most} when cloudwatch_alarm_period_seconds is {period} \
                 (CloudWatch looks back at most {})",
                if window == 86_400 {
                    "one day for periods under an hour"
                } else {
                    "seven days"
                }
            );
            Violation::rule(
                "cloudwatch_alarm_evaluation_periods",
                rule,
                periods.to_string(),
            )
        })
    }
}
