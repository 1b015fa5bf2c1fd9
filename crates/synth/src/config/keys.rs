//! The table of configuration keys: for each one, the rule its value must follow and the
//! sentence that explains it.
//!
//! The same table drives validation, the error messages and the reference documentation
//! (docs/configuration.md), so the three cannot drift apart. Rules are checked on TOML values
//! rather than on typed fields: that way a value that does not even fit the field's Rust type
//! (`kinesis_shard_count = -5`, `= "abc"`) gets the same friendly message as one that is
//! merely out of range.
//!
//! Ranges and defaults come from the original Terraform recipe
//! (`real-time-data-processing-with-kinesis-lambda`, code/terraform/variables.tf) unless a
//! description says otherwise.

use toml::Value;

use super::error::Violation;
use super::{
    filters, network, regions, Architecture, BillingMode, ConsumerMode, DeployStrategy,
    GsiProjection, OnFailureDestination, ShardLevelMetric, StartingPosition, StreamMode,
    TableClass, GSI_INCLUDABLE_ATTRIBUTES,
};

/// The retention periods CloudWatch Logs accepts (`RetentionInDays`), in days.
pub(crate) const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// How many `additional_tags` we accept. AWS allows 50 tags per resource; the stack puts up to
/// 7 of its own (Name, Project, Environment, ManagedBy, Recipe, ResourceType, Purpose) on each,
/// and we keep a few spare for future ones.
pub(crate) const MAX_ADDITIONAL_TAGS: usize = 40;

/// Largest value for keys whose only limit in AWS is "at least N" (stored as `u32`).
const UNBOUNDED: i64 = u32::MAX as i64;

/// The most read or write request units a second an on-demand cap may name: DynamoDB's
/// default per-table throughput quota, which a cap cannot usefully exceed.
pub(crate) const MAX_ON_DEMAND_UNITS: i64 = 40_000;

/// The last second of 2099 in epoch seconds: a bound that lets any real start time through
/// and refuses milliseconds, whose 13 digits are far above it.
const MAX_EPOCH_SECONDS: i64 = 4_102_444_799;

/// One configuration key: its name, its rule and why it exists.
pub(crate) struct KeySpec {
    pub key: &'static str,
    pub check: Check,
    pub description: &'static str,
}

/// The rule a key's value must follow. Data rather than code, so the documentation can
/// describe the rule from the same definition that enforces it.
pub(crate) enum Check {
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// An integer in `min..=max`, or `sentinel`, which means `meaning`.
    IntOr {
        sentinel: i64,
        meaning: &'static str,
        min: i64,
        max: i64,
    },
    /// One of a fixed set of integers.
    IntOneOf(&'static [i64]),
    /// A CloudWatch alarm period: 10, 30 or a multiple of 60, up to `max`.
    AlarmPeriod {
        max: i64,
    },
    Bool,
    /// `true` or `false`, or left out, which means what `unset` says: the value then
    /// follows from other keys.
    BoolOrUnset {
        unset: &'static str,
    },
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    /// A list whose items each come from a fixed set of strings.
    ChoiceList(&'static [&'static str]),
    /// A name usable inside AWS resource names: lowercase letters, digits and hyphens,
    /// starting with a letter, at most `max_len` characters.
    Name {
        max_len: usize,
    },
    /// An AWS region of a public partition (see `regions`).
    Region,
    /// Empty, or an e-mail address.
    EmailOrEmpty,
    /// A table of AWS tags.
    Tags,
    /// A list of principals in other AWS accounts: 12-digit account IDs, or IAM role or user
    /// ARNs (`arn:aws:iam::123456789012:role/NAME`, with an optional path; partitions aws,
    /// aws-cn, aws-us-gov).
    Principals,
    /// A list of distinct event type values to filter on, at most `max`.
    EventTypes {
        max: usize,
    },
    /// A list of Lambda filter patterns, each a JSON object as text (see `filters`).
    FilterPatterns,
    /// A list of distinct EC2 resource IDs of one kind (`subnet-0abc...`), at most `max`.
    AwsIds {
        prefix: &'static str,
        max: usize,
    },
    /// Empty, or one EC2 resource ID of one kind (`vpc-0abc...`).
    AwsIdOrEmpty {
        prefix: &'static str,
    },
}

/// Every key, in the order the reference documentation lists them.
pub(crate) const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "project_name",
        check: Check::Name { max_len: 32 },
        description: "First part of every resource name and the Project tag. Kept to 32 characters so derived names stay within the 64 that Lambda and IAM allow.",
    },
    KeySpec {
        key: "environment",
        check: Check::Name { max_len: 16 },
        description: "Second part of every resource name and the Environment tag. The recipe allowed only dev, staging and prod; any short name is accepted here so one account can host several stacks.",
    },
    KeySpec {
        key: "region",
        check: Check::Region,
        description: "Region the stack is meant for; used for console links and by the deploy targets. Checked against the regions of AWS's public partitions as the AWS SDKs list them (commercial, China cn-, GovCloud us-gov-, European Sovereign Cloud eusc-), so a typo such as us-east-9 stops at synth rather than at deploy; a region opened later is one line in crates/synth/src/config/regions.rs.",
    },
    KeySpec {
        key: "kinesis_stream_mode",
        check: Check::Choice(StreamMode::NAMES),
        description: "PROVISIONED pays per shard-hour for a fixed capacity; ON_DEMAND scales by itself and ignores kinesis_shard_count. New knob; the recipe always used PROVISIONED.",
    },
    KeySpec {
        key: "kinesis_shard_count",
        check: Check::Int { min: 1, max: 1000 },
        description: "Shards of the stream (PROVISIONED mode). Each shard takes 1 MB/s or 1000 records/s of writes.",
    },
    KeySpec {
        key: "kinesis_retention_period",
        check: Check::Int { min: 24, max: 8760 },
        description: "Hours records stay readable in the stream, which bounds how far back a failed consumer can replay.",
    },
    KeySpec {
        key: "kinesis_shard_level_metrics",
        check: Check::ChoiceList(ShardLevelMetric::NAMES),
        description: "Enhanced (per-shard) CloudWatch metrics to enable; each costs extra. ALL enables every one.",
    },
    KeySpec {
        key: "producer_principals",
        check: Check::Principals,
        description: "Producers in other AWS accounts allowed to put records on the stream: an account ID lets that account's administrators delegate to any of its roles, a role or user ARN admits only that identity. Adds a stream resource policy and a statement of the data key's policy (kms:GenerateDataKey via Kinesis only); the other account must still grant its role the same actions on the stream and the key (see docs/access.md). New knob; empty admits only this account.",
    },
    KeySpec {
        key: "kinesis_consumer",
        check: Check::Choice(ConsumerMode::NAMES),
        description: "How the event source mapping reads the stream. shared (the default, the recipe's way): Lambda polls each shard about once a second with GetRecords and shares the shard's 2 MB/s of reads, and its five reads per second, with every other reader of the stream. enhanced-fan-out: the stack registers a stream consumer (AWS::Kinesis::StreamConsumer) and the mapping reads through it, with its own 2 MB/s per shard pushed over HTTP/2 (about 70 ms from put to delivery instead of about 200 ms or more); the role may subscribe through exactly that consumer. It costs a fee per consumer-shard hour and per GB read, priced by synth cost, and pays off when other applications read the same stream or latency matters. Switching modes replaces the event source mapping: make deploy creates the new one beside the old (another source, which Lambda allows), starting where the old one was reading, less a safety margin (docs/mapping-replacement.md). New knob.",
    },
    KeySpec {
        key: "lambda_memory_size",
        check: Check::Int { min: 128, max: 10240 },
        description: "Memory of the processor function in MB; CPU share grows with it.",
    },
    KeySpec {
        key: "lambda_timeout",
        check: Check::Int { min: 1, max: 900 },
        description: "Seconds one invocation (one batch) may run, retries of DynamoDB and SQS writes included.",
    },
    KeySpec {
        key: "lambda_architecture",
        check: Check::Choice(Architecture::NAMES),
        description: "Instruction set of the processor build. arm64 (Graviton) is cheaper per GB-second; the build must target the same one. New knob.",
    },
    KeySpec {
        key: "lambda_reserved_concurrency",
        check: Check::IntOr {
            sentinel: -1,
            meaning: "unreserved",
            min: 0,
            max: 1000,
        },
        description: "Concurrent executions reserved for the processor. 0 stops processing entirely; 1000 is the default account limit.",
    },
    KeySpec {
        key: "deploy_strategy",
        check: Check::Choice(DeployStrategy::NAMES),
        description: "How a new version of the processor (a new CodeS3Key, or a change of the function's configuration) takes over the stream's batches. all-at-once (the default, the recipe's way): CloudFormation updates the function and every batch after that runs the new code; the stack has no version, alias or CodeDeploy. canary-10-percent-5-minutes (prod's default), canary-10-percent-15-minutes and linear-10-percent-every-minute: the stack publishes a version for each code or configuration change, the event source mapping invokes the alias live, and a CodeDeploy deployment (CodeDeployDefault.LambdaCanary10Percent5Minutes, ...Canary10Percent15Minutes, ...Linear10PercentEvery1Minute) moves live to the new version step by step; the function-errors, failed-events and failed-batches alarms roll it back (and CloudFormation the whole update) when one goes off. AWS documents alias weights for invocations of the alias, not per stream batch: read docs/canary.md before relying on it. Changes in place (switching adds or removes the version, alias and CodeDeploy resources; the mapping keeps its place in the stream). New knob.",
    },
    KeySpec {
        key: "lambda_batch_size",
        check: Check::Int { min: 1, max: 10000 },
        description: "Most records handed to one invocation.",
    },
    KeySpec {
        key: "lambda_maximum_batching_window_in_seconds",
        check: Check::Int { min: 0, max: 300 },
        description: "Seconds Lambda may wait to fill a batch; trades latency for fewer invocations.",
    },
    KeySpec {
        key: "lambda_starting_position",
        check: Check::Choice(StartingPosition::NAMES),
        description: "Where a new event source mapping starts reading: the oldest retained record (TRIM_HORIZON), only records written after it starts (LATEST), or the records from lambda_starting_position_timestamp on (AT_TIMESTAMP, e.g. to reprocess since an incident). It applies when a mapping is created with nothing to continue from (a new stack); make deploy keeps a deployed mapping's start. Changing it (or the timestamp) replaces the mapping in two stack updates, and the new one starts at the earlier of the new setting and where the old one was reading, less a safety margin, so LATEST skips nothing (docs/mapping-replacement.md). The recipe allowed TRIM_HORIZON and LATEST.",
    },
    KeySpec {
        key: "lambda_starting_position_timestamp",
        check: Check::IntOr {
            sentinel: 0,
            meaning: "not set",
            min: 1,
            max: MAX_EPOCH_SECONDS,
        },
        description: "With lambda_starting_position = AT_TIMESTAMP (and only then), the time to start reading from, in epoch seconds (a 13-digit value is milliseconds and refused). A time before the stream's retention starts at the oldest retained record. 0, the default, sets nothing. New knob.",
    },
    KeySpec {
        key: "lambda_parallelization_factor",
        check: Check::Int { min: 1, max: 10 },
        description: "Batches processed at once per shard (order is kept per partition key). The recipe hard-coded 1.",
    },
    KeySpec {
        key: "lambda_maximum_retry_attempts",
        check: Check::IntOr {
            sentinel: -1,
            meaning: "retry until the record expires",
            min: 0,
            max: 10000,
        },
        description: "Retries of a failed batch before Lambda skips it. The recipe hard-coded 3.",
    },
    KeySpec {
        key: "lambda_maximum_record_age_in_seconds",
        check: Check::IntOr {
            sentinel: -1,
            meaning: "no limit",
            min: 60,
            max: 604800,
        },
        description: "Records older than this are skipped instead of retried. Default -1 keeps the recipe's behaviour (it set no limit); retries are already bounded by lambda_maximum_retry_attempts.",
    },
    KeySpec {
        key: "lambda_bisect_batch_on_function_error",
        check: Check::Bool,
        description: "Split a failing batch in two and retry the halves, so one poison record cannot block a shard. New knob (the recipe left it off); on by default.",
    },
    KeySpec {
        key: "aggregate_window_seconds",
        check: Check::IntOr {
            sentinel: 0,
            meaning: "off",
            min: 1,
            max: 900,
        },
        description: "Real-time aggregates from tumbling windows: the event source mapping's TumblingWindowInSeconds, 1 to 900 (Lambda's range). Lambda then carries a state from one invocation of a shard to the next within each window and invokes the function once more at the window's end (no records, the final state), when the processor writes the window's figures per event-time minute (events by type, purchases, revenue, distinct users, products) to the aggregate table (AggregateTable, output AggregateTableName, the function's AGGREGATE_TABLE; on demand, the data key, point-in-time recovery and TTL as the event table) and emits Revenue, Purchases and WindowEvents (by EventType) as EMF metrics for the dashboard, indicative only: the table is the record (query aggregates reads it, query aggregates --rebuild recomputes it from the event table). Costs one short invocation per shard and window and the table's writes and storage (synth cost prices them). AWS documents no conflict with lambda_parallelization_factor over 1, lambda_bisect_batch_on_function_error or kinesis_consumer = enhanced-fan-out, nor how windows behave with them: synth warns when one is combined with windows. 0 turns windows off and creates no table. Default 60 on every preset but cost-optimized (0). Changing it changes the mapping in place; turning it off deletes the table (kept with retain_data_on_delete). New knob.",
    },
    KeySpec {
        key: "lambda_filter_event_types",
        check: Check::EventTypes {
            max: filters::MAX_EVENT_TYPES,
        },
        description: "Event types (the records' eventType) the function is invoked for; empty, the default, means every record. Becomes one filter of the event source mapping's FilterCriteria on the record's data. Lambda drops the other records without invoking the function: they are neither stored nor dead-lettered, and cost no invocation (synth cost counts the share of the recipe's event mix that passes). Lambda filters on content only when a record's data is a JSON object: KPL-aggregated records (the producer aggregates by default; --no-aggregate sends one record per event) and records that are not JSON never match, so they are dropped too. New knob.",
    },
    KeySpec {
        key: "lambda_filter_patterns",
        check: Check::FilterPatterns,
        description: "Further Lambda event filter patterns (empty, the default, adds none), each a JSON object as text on the Kinesis record: data (the event) or partitionKey, sequenceNumber, approximateArrivalTimestamp, kinesisSchemaVersion, with every leaf a list of values or of the operators prefix, suffix, equals-ignore-case, anything-but, numeric and exists, e.g. '{\"data\": {\"eventScore\": [{\"numeric\": [\">=\", 50]}]}}'. Checked at synth, each written in canonical form. A record is processed when it matches any filter (this list or lambda_filter_event_types); at most 5 filters in all, Lambda's default quota. The same drops apply as for lambda_filter_event_types (not stored, not dead-lettered; aggregated records do not match a data pattern), and synth cost keeps the full invocation count, since a pattern's selectivity is unknown. New knob.",
    },
    KeySpec {
        key: "lambda_filter_encryption",
        check: Check::BoolOrUnset {
            unset: "on when there are filters",
        },
        description: "Encrypts the event source mapping's filter criteria (the filters of lambda_filter_event_types and lambda_filter_patterns, which name business values) with the stack's data key, the mapping's KmsKeyArn, instead of a key AWS owns. Unset, the default, encrypts them whenever there are filters; false keeps AWS's key. true without any filter is refused (exit 2, naming the filter keys), as vpc_create_endpoints = true without subnets is, rather than ignored with a warning: it asks for something the stack would not do, and a configuration whose filters a later layer emptied should stop and say so, not build a stack that differs from what it reads. With encryption, ListEventSourceMappings returns the filters as null, so the tools read the mapping with GetEventSourceMapping, which returns them to a caller allowed kms:Decrypt on the key through Lambda; the key policy lets Lambda's regional service principal decrypt them for this function's mapping only, and whoever deploys needs kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt on the key through Lambda (docs/access.md). The template still holds the filters as written. New knob.",
    },
    KeySpec {
        key: "vpc_subnet_ids",
        check: Check::AwsIds {
            prefix: "subnet",
            max: network::MAX_SUBNETS,
        },
        description: "Subnets the function runs in (subnet- and 8 or 17 hex digits), ideally in two or more Availability Zones; empty, the default, runs it outside any VPC as the recipe did. In a VPC the function reaches DynamoDB and SQS only through a NAT gateway or VPC endpoints (vpc_create_endpoints), and the role gets the network-interface permissions Lambda needs in the form AWS documents (allowed on all resources, denied to the function's own code through lambda:SourceFunctionArn; docs/access.md). Logs, the EMF metrics in them and X-Ray segments leave through Lambda itself, not the VPC. New knob.",
    },
    KeySpec {
        key: "vpc_security_group_ids",
        check: Check::AwsIds {
            prefix: "sg",
            max: network::MAX_SECURITY_GROUPS,
        },
        description: "Security groups of the function (sg- and 8 or 17 hex digits), with vpc_subnet_ids only. Empty, the default, makes the stack create one in vpc_id whose only rule lets HTTPS (TCP 443) out, all the processor needs. New knob.",
    },
    KeySpec {
        key: "vpc_id",
        check: Check::AwsIdOrEmpty { prefix: "vpc" },
        description: "The VPC of vpc_subnet_ids (vpc- and 8 or 17 hex digits): needed when the stack creates the function's security group or the endpoints. Empty by default. New knob.",
    },
    KeySpec {
        key: "vpc_route_table_ids",
        check: Check::AwsIds {
            prefix: "rtb",
            max: network::MAX_ROUTE_TABLES,
        },
        description: "Route tables of vpc_subnet_ids (rtb- and 8 or 17 hex digits) that the DynamoDB gateway endpoint is added to; needed with vpc_create_endpoints and only then. Empty by default. New knob.",
    },
    KeySpec {
        key: "vpc_create_endpoints",
        check: Check::Bool,
        description: "Create the VPC endpoints the processor needs without a NAT gateway: a DynamoDB gateway endpoint on vpc_route_table_ids (free) and an SQS interface endpoint with private DNS in vpc_subnet_ids (one per subnet, which must be in different Availability Zones; billed per AZ-hour and per GB, priced by synth cost), its security group admitting HTTPS from the function's. Off by default: a VPC with a NAT gateway, or endpoints of its own, needs none (an SQS endpoint with private DNS may exist once per VPC). Needs vpc_id and vpc_route_table_ids. New knob.",
    },
    KeySpec {
        key: "dynamodb_billing_mode",
        check: Check::Choice(BillingMode::NAMES),
        description: "PAY_PER_REQUEST bills per request; PROVISIONED bills capacity units, with auto scaling between the base and the max capacity.",
    },
    KeySpec {
        key: "dynamodb_read_capacity",
        check: Check::Int { min: 1, max: 40000 },
        description: "Base (minimum) read capacity units of the table and each index (PROVISIONED only). 40000 is AWS's default per-table quota.",
    },
    KeySpec {
        key: "dynamodb_write_capacity",
        check: Check::Int { min: 1, max: 40000 },
        description: "Base (minimum) write capacity units of the table and each index (PROVISIONED only).",
    },
    KeySpec {
        key: "dynamodb_max_read_capacity",
        check: Check::Int { min: 1, max: 40000 },
        description: "Upper bound of read auto scaling (PROVISIONED only); must be at least dynamodb_read_capacity. New knob; default 10 times the base.",
    },
    KeySpec {
        key: "dynamodb_max_write_capacity",
        check: Check::Int { min: 1, max: 40000 },
        description: "Upper bound of write auto scaling (PROVISIONED only); must be at least dynamodb_write_capacity. New knob; default 10 times the base.",
    },
    KeySpec {
        key: "dynamodb_autoscaling_target_utilization",
        check: Check::Int { min: 20, max: 90 },
        description: "Percent of provisioned capacity auto scaling aims to use (PROVISIONED only); the range is Application Auto Scaling's for DynamoDB. New knob.",
    },
    KeySpec {
        key: "dynamodb_max_on_demand_write_units",
        check: Check::IntOr {
            sentinel: 0,
            meaning: "no cap",
            min: 1,
            max: MAX_ON_DEMAND_UNITS,
        },
        description: "With dynamodb_billing_mode = PAY_PER_REQUEST (a cap with PROVISIONED is refused), the most write request units a second the events table takes, and each of its indexes: OnDemandThroughput MaxWriteRequestUnits on the table and on every GSI, a cost ceiling. Writes beyond it are throttled (throttling reason MaxOnDemandThroughputExceeded); a capped index refuses the table's write too (IndexWriteMaxOnDemandThroughputExceeded), so with the default index projection ALL the cap holds the table's writes at cap / write units per item events a second. The processor retries, then Lambda retries the batch from the stream: events back up, none is lost while the stream retains them. synth capacity takes the cap as the table's and each index's ceiling; synth cost bills at most the cap and warns when the load asks more. 0, the default, sets no cap (DynamoDB's per-table quota, 40,000 a second by default, still holds); otherwise 1 (CloudFormation's minimum) to 40,000, that quota. The aggregate table is not capped: its writes are a few items a shard at each window's end. Changes in place. New knob.",
    },
    KeySpec {
        key: "dynamodb_max_on_demand_read_units",
        check: Check::IntOr {
            sentinel: 0,
            meaning: "no cap",
            min: 1,
            max: MAX_ON_DEMAND_UNITS,
        },
        description: "With dynamodb_billing_mode = PAY_PER_REQUEST (a cap with PROVISIONED is refused), the most read request units a second the events table and each of its indexes serve: OnDemandThroughput MaxReadRequestUnits on the table and on every GSI. The pipeline itself does not read the table; people and tools do (query, verify, query aggregates --rebuild), so the cap bounds what they can spend, and reads beyond it are throttled (MaxOnDemandThroughputExceeded). synth cost states the ceiling it puts on reading. 0, the default, sets no cap; otherwise 1 to 40,000, as for dynamodb_max_on_demand_write_units. Changes in place. New knob.",
    },
    KeySpec {
        key: "dynamodb_ttl_days",
        check: Check::Int { min: 0, max: 3650 },
        description: "Days after its event that an item expires: the table's Time to Live on attribute expiresAt, which the processor writes (ITEM_TTL_DAYS) as the event's time in epoch seconds plus this many days. DynamoDB deletes expired items within a few days, without charge. 0 turns expiry off (no TTL specification, no expiresAt): the recipe's behaviour, items kept forever. New knob.",
    },
    KeySpec {
        key: "dynamodb_point_in_time_recovery_enabled",
        check: Check::Bool,
        description: "Continuous backups, restorable to any second of the last 35 days.",
    },
    KeySpec {
        key: "dynamodb_pitr_recovery_days",
        check: Check::Int { min: 1, max: 35 },
        description: "With dynamodb_point_in_time_recovery_enabled, how many days back point-in-time recovery can restore the events table and the aggregate table to (RecoveryPeriodInDays), 1 to 35, for data that must not stay restorable longer than a policy allows. It costs the same whatever the period: DynamoDB bills point-in-time recovery per GB-month of the table's size (docs/cost.md). 35, the default and DynamoDB's own, writes no RecoveryPeriodInDays. Any other value with point-in-time recovery off is refused, naming both keys: a recovery period without backups would be a promise nobody keeps. Changes in place. New knob.",
    },
    KeySpec {
        key: "dynamodb_server_side_encryption_enabled",
        check: Check::Bool,
        description: "Encrypt the table with a customer managed KMS key created by the stack (otherwise an AWS owned key).",
    },
    KeySpec {
        key: "dynamodb_gsi_projection",
        check: Check::Choice(GsiProjection::NAMES),
        description: "What EventTypeIndex and ProductIndex copy of each item. ALL (the default, the recipe's) answers a query from the index alone but stores every item three times; KEYS_ONLY copies only the keys (userId, eventKey, eventTimestamp and the index key), so index storage shrinks to a fraction, and a reader fetches the items from the table (BatchGetItem, more read units); INCLUDE adds dynamodb_gsi_include_attributes. Changing it on a deployed stack rebuilds both indexes (synth diff says so; CloudFormation changes one index per update, so deploy in steps). New knob.",
    },
    KeySpec {
        key: "dynamodb_gsi_include_attributes",
        check: Check::ChoiceList(GSI_INCLUDABLE_ATTRIBUTES),
        description: "With dynamodb_gsi_projection = INCLUDE (and only then, when it must list at least one), the item attributes the indexes copy besides the keys, which are always there. originalEvent is the event itself and most of an item's size. Empty by default. New knob.",
    },
    KeySpec {
        key: "dynamodb_table_class",
        check: Check::Choice(TableClass::NAMES),
        description: "STANDARD (the default) or STANDARD_INFREQUENT_ACCESS, whose storage costs 60 % less and whose writes and reads cost 25 % more: cheaper once storage is most of the table's bill. At 100 events/s writes dominate the first month (synth cost prices both), but without TTL storage grows every month and overtakes them within a few. The class applies to the table and its indexes and changes in place, without replacing the table; DynamoDB allows two changes in 30 days. New knob.",
    },
    KeySpec {
        key: "dynamodb_index_write_shards",
        check: Check::Int {
            min: 1,
            max: contract::index::MAX_SHARDS as i64,
        },
        description: "Write shards of each index partition key value. DynamoDB takes at most 1,000 write units per second for one partition key value, and EventTypeIndex has six values with view at about 60 % of events, so with 1 (the default, the recipe's plain keys eventType and productId) the whole pipeline tops out near 1,700 events/s whatever the shard count. With N > 1 the indexes are keyed on eventTypeShard and productIdShard (value, #, a shard number 0 to N-1 derived from the item's key, so a replay lands on the same shard; the function gets INDEX_WRITE_SHARDS), and a query by event type or product reads N partitions and merges them by eventTimestamp. Changing it on a deployed stack rebuilds both indexes (synth diff says so): CloudFormation adds or removes one index per update, so deploy such a change in steps. Presets: high-throughput uses 10 (its 5 shards take 5,000 events/s, 3,000 of them views: 300 writes/s per view shard, a third of the limit, leaving room for items over 1 KB, which take 2 units, and for uneven shards); prod and staging use 4 (3,000 and 2,000 events/s, up to 1,800 views/s: 450 per shard). New knob.",
    },
    KeySpec {
        key: "dynamodb_contributor_insights",
        check: Check::Choice(super::ContributorInsights::NAMES),
        description: "CloudWatch Contributor Insights for DynamoDB on the events table and each of its indexes (ContributorInsightsSpecification). throttled-keys (THROTTLED_KEYS) graphs the partition and sort keys of throttled requests, the hot keys behind throttling, and is billed per rule DynamoDB creates (synth cost counts the two throttled-key rules, partition key and partition and sort key, of the table and of each index) and per throttled request only; all (ACCESSED_AND_THROTTLED_KEYS) also graphs the most accessed keys, two more rules each, and is billed for every request: each item written to the table and to each index (synth cost prices both; docs/cost.md). The graphs show key values (userId, eventKey, the index keys) in plaintext in CloudWatch, outside the table's KMS encryption; AWS advises against it where key values must stay encrypted. off creates no rule. The aggregate table has none: its one partition key value a day says nothing. Default throttled-keys on prod, off elsewhere. Changes in place. New knob.",
    },
    KeySpec {
        key: "dynamodb_deletion_protection",
        check: Check::Bool,
        description: "Refuse DeleteTable calls until this is turned off again. New knob.",
    },
    KeySpec {
        key: "retain_data_on_delete",
        check: Check::Bool,
        description: "Keep the tables (the events and, with aggregate_window_seconds, the aggregates), the failure bucket, the event archive and the KMS key they are encrypted with (DeletionPolicy and UpdateReplacePolicy Retain) when the stack is deleted or they are replaced, so the data outlives the stack. Only those: the stream, the dead-letter queue (make destroy refuses while dead letters wait, and while the failure bucket holds batches not yet redriven), the log group and the alerts key go with the stack, so their fixed names never block creating it again. A kept table's name does: make deploy then stops and says what to do (docs/deploy.md); the buckets' names are generated, so a new stack gets new ones. Without it make destroy empties the buckets first, as CloudFormation deletes only empty ones. New knob.",
    },
    KeySpec {
        key: "sqs_message_retention_seconds",
        check: Check::Int { min: 60, max: 1209600 },
        description: "How long failed records wait in the dead-letter queue (max 14 days).",
    },
    KeySpec {
        key: "sqs_visibility_timeout_seconds",
        check: Check::Int { min: 0, max: 43200 },
        description: "How long a dead-letter message stays hidden after someone receives it for inspection or redrive.",
    },
    KeySpec {
        key: "on_failure_destination",
        check: Check::Choice(OnFailureDestination::NAMES),
        description: "Where the event source mapping sends a batch it gives up on (retries exhausted, or records older than lambda_maximum_record_age_in_seconds). s3 (the default on every preset): the stack creates a failure bucket (SSE-KMS with the data key, public access blocked, TLS only) and Lambda writes one object per discarded batch holding the batch's records themselves, so redrive never depends on the stream's retention; the processor also keeps there the bytes of a dead letter too large for SQS (a claim check), and an alarm fires when anything lands in it. sqs: the dead-letter queue receives only the batch's place in the stream (shard and sequence numbers), which redrive reads back while the stream retains it (kinesis_retention_period): the recipe's way. Changing it changes the mapping in place. New knob.",
    },
    KeySpec {
        key: "failure_archive_retention_days",
        check: Check::Int { min: 1, max: 3650 },
        description: "With on_failure_destination = s3, days an object of the failure bucket is kept after redrive tagged it handled (redrive=handled), as an audit trail; then a lifecycle rule expires it. An object not yet handled never expires, whatever this says. New knob.",
    },
    KeySpec {
        key: "archive_events",
        check: Check::Bool,
        description: "Keep every batch the function is invoked with in an archive bucket (events/YYYY/MM/DD/HH/, gzip, each record with its eventID and arrival time) so replay can process a time range again long after the stream forgot it. The processor writes one object per invocation before it answers (ARCHIVE_BUCKET); records the mapping's filters drop are not archived. Costs one S3 PUT per invocation and the compressed bytes (synth cost prices both). Default true on prod, false elsewhere. New knob.",
    },
    KeySpec {
        key: "archive_retention_days",
        check: Check::Int { min: 1, max: 3650 },
        description: "With archive_events, days the archive keeps a batch before a lifecycle rule expires it. From 120 days on, batches of 128 KB or more move to S3 Glacier Instant Retrieval after 30 days (same millisecond reads, about a sixth of the storage price, 90 days' minimum storage, billed per GB read); smaller ones stay in S3 Standard, where they are cheaper (docs/cost.md). New knob.",
    },
    KeySpec {
        key: "cloudwatch_alarm_threshold",
        check: Check::Int { min: 1, max: UNBOUNDED },
        description: "Failed events per period above which the failure alarm fires.",
    },
    KeySpec {
        key: "cloudwatch_alarm_evaluation_periods",
        check: Check::Int { min: 1, max: 8640 },
        description: "Consecutive periods the failure alarm looks at. CloudWatch caps periods times evaluation periods at one day for periods under an hour, seven days otherwise.",
    },
    KeySpec {
        key: "cloudwatch_alarm_period_seconds",
        check: Check::AlarmPeriod { max: 86400 },
        description: "Length of one period of the failed-events alarm. 10 and 30 make it a high-resolution alarm (charged more) and the processor then emits FailedEvents at high resolution (EMF StorageResolution 1, set through the function's FAILED_EVENTS_RESOLUTION), so the alarm sees data in every period. 20 is refused: CloudFormation's schema allows only 10, 30 and multiples of 60. The recipe allowed only 10, 30, 60, 300, 900, 3600, 21600 and 86400.",
    },
    KeySpec {
        key: "sns_email_endpoint",
        check: Check::EmailOrEmpty,
        description: "Address that alarm notifications go to (the AlertEmail parameter's default; make deploy ALERT_EMAIL=... overrides it); empty creates no topic and no subscription, so the alarms notify no one, and synth warns, naming this key.",
    },
    KeySpec {
        key: "cloudwatch_log_retention_days",
        check: Check::IntOneOf(LOG_RETENTION_DAYS),
        description: "Days the processor's log group keeps logs. The recipe hard-coded 14 (main.tf, aws_cloudwatch_log_group.lambda_logs).",
    },
    KeySpec {
        key: "additional_tags",
        check: Check::Tags,
        description: "Extra tags on every resource, after the stack's own. AWS limits: keys 1-128 and values 0-256 characters, no aws: prefix.",
    },
];

/// Finds a key's spec by name.
pub(crate) fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|spec| spec.key == key)
}

/// Checks every key of a complete configuration table, collecting one violation per bad key.
pub(crate) fn check_table(table: &toml::Table) -> Vec<Violation> {
    KEYS.iter()
        .filter_map(|spec| {
            let outcome = match table.get(spec.key) {
                Some(value) => spec.check.check(value),
                None if spec.check.unset().is_some() => Ok(()),
                None => Err(("be set".to_string(), "nothing".to_string())),
            };
            outcome
                .err()
                .map(|(rule, got)| Violation::rule(spec.key, rule, got))
        })
        .collect()
}

/// A rule that failed: what the value must do, and the value as shown to the user.
pub(crate) type Failure = (String, String);

impl Check {
    /// The value's expected TOML type, as the reference documentation names it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Check::Int { .. } | Check::IntOr { .. } | Check::IntOneOf(_) => "integer",
            Check::AlarmPeriod { .. } => "integer",
            Check::Bool | Check::BoolOrUnset { .. } => "boolean",
            Check::Choice(_) | Check::Name { .. } | Check::Region | Check::EmailOrEmpty => "string",
            Check::ChoiceList(_)
            | Check::Principals
            | Check::EventTypes { .. }
            | Check::FilterPatterns
            | Check::AwsIds { .. } => "list of strings",
            Check::AwsIdOrEmpty { .. } => "string",
            Check::Tags => "table of strings",
        }
    }

    /// What leaving the key out means, for a key that may be left out; `None` for a key
    /// that must always have a value (the defaults give every other key one).
    pub(crate) fn unset(&self) -> Option<&'static str> {
        match self {
            Check::BoolOrUnset { unset } => Some(unset),
            _ => None,
        }
    }

    /// The accepted values, short enough for a table cell.
    pub(crate) fn allowed(&self) -> String {
        match self {
            Check::Int { min, max } if *max == UNBOUNDED => format!("≥ {min}"),
            Check::Int { min, max } => format!("{min}–{max}"),
            Check::IntOr {
                sentinel,
                meaning,
                min,
                max,
            } => format!("{sentinel} ({meaning}) or {min}–{max}"),
            Check::IntOneOf(values) => join(values),
            Check::AlarmPeriod { max } => format!("10, 30 or a multiple of 60 up to {max}"),
            Check::Bool => "true, false".to_string(),
            Check::BoolOrUnset { unset } => format!("true, false, or unset ({unset})"),
            Check::Choice(names) | Check::ChoiceList(names) => names.join(", "),
            Check::Name { max_len } => {
                format!("1–{max_len} of a-z, 0-9, -; starts with a letter")
            }
            Check::Region => {
                "a region of AWS's aws, aws-cn, aws-us-gov or aws-eusc partition, e.g. us-east-1"
                    .to_string()
            }
            Check::EmailOrEmpty => "empty, or an e-mail address".to_string(),
            Check::Tags => format!("up to {MAX_ADDITIONAL_TAGS} tags; see description"),
            Check::Principals => PRINCIPALS_ALLOWED.to_string(),
            Check::EventTypes { max } => format!("up to {max} distinct event types"),
            Check::FilterPatterns => filters::PATTERNS_ALLOWED.to_string(),
            Check::AwsIds { prefix, max } => {
                format!("up to {max} distinct {}", network::id_shape(prefix))
            }
            Check::AwsIdOrEmpty { prefix } => {
                format!("empty, or {}", network::one_id_shape(prefix))
            }
        }
    }

    /// Checks one value, returning the broken rule (phrased to follow "must") and the value.
    pub(crate) fn check(&self, value: &Value) -> Result<(), Failure> {
        match self {
            Check::Int { min, max } => check_int(value, *min, *max),
            Check::IntOr {
                sentinel,
                meaning,
                min,
                max,
            } => check_int_or(value, (*sentinel, meaning), *min, *max),
            Check::IntOneOf(allowed) => check_int_one_of(value, allowed),
            Check::AlarmPeriod { max } => check_alarm_period(value, *max),
            Check::Bool | Check::BoolOrUnset { .. } => value
                .as_bool()
                .map(drop)
                .ok_or_else(|| wrong_type("be true or false", value)),
            Check::Choice(names) => check_choice(value, names),
            Check::ChoiceList(names) => check_choice_list(value, names),
            Check::Name { max_len } => check_name(value, *max_len),
            Check::Region => check_region(value),
            Check::EmailOrEmpty => check_text(
                value,
                |text| text.is_empty() || is_email(text),
                "be empty (no alerts) or an e-mail address like ops@example.com",
            ),
            Check::Tags => check_tags(value),
            Check::Principals => check_principals(value),
            Check::EventTypes { max } => filters::check_event_types(value, *max),
            Check::FilterPatterns => filters::check_patterns(value),
            Check::AwsIds { prefix, max } => network::check_ids(value, prefix, *max),
            Check::AwsIdOrEmpty { prefix } => network::check_id_or_empty(value, prefix),
        }
    }
}

/// The rule for a value of the wrong TOML type, e.g. `be an integer`.
pub(crate) fn wrong_type(rule: &str, value: &Value) -> Failure {
    (rule.to_string(), show(value))
}

fn int(value: &Value) -> Result<i64, Failure> {
    value
        .as_integer()
        .ok_or_else(|| wrong_type("be an integer", value))
}

fn text(value: &Value) -> Result<&str, Failure> {
    value
        .as_str()
        .ok_or_else(|| wrong_type("be a string", value))
}

fn check_int(value: &Value, min: i64, max: i64) -> Result<(), Failure> {
    let n = int(value)?;
    if (min..=max).contains(&n) {
        Ok(())
    } else if max == UNBOUNDED {
        Err((format!("be at least {min}"), n.to_string()))
    } else {
        Err((format!("be between {min} and {max}"), n.to_string()))
    }
}

fn check_int_or(value: &Value, sentinel: (i64, &str), min: i64, max: i64) -> Result<(), Failure> {
    let n = int(value)?;
    if n == sentinel.0 || (min..=max).contains(&n) {
        return Ok(());
    }
    let rule = format!(
        "be {} ({}) or between {min} and {max}",
        sentinel.0, sentinel.1
    );
    Err((rule, n.to_string()))
}

fn check_int_one_of(value: &Value, allowed: &[i64]) -> Result<(), Failure> {
    let n = int(value)?;
    if allowed.contains(&n) {
        Ok(())
    } else {
        Err((format!("be one of {}", join(allowed)), n.to_string()))
    }
}

fn check_alarm_period(value: &Value, max: i64) -> Result<(), Failure> {
    let n = int(value)?;
    let valid = matches!(n, 10 | 30) || (n > 0 && n % 60 == 0 && n <= max);
    if valid {
        Ok(())
    } else {
        let rule = format!("be 10, 30 or a multiple of 60 up to {max}");
        Err((rule, n.to_string()))
    }
}

fn check_choice(value: &Value, names: &[&str]) -> Result<(), Failure> {
    let given = text(value)?;
    if names.contains(&given) {
        Ok(())
    } else {
        Err((format!("be one of {}", names.join(", ")), show(value)))
    }
}

fn check_choice_list(value: &Value, names: &[&str]) -> Result<(), Failure> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("be a list of strings", value))?;
    for item in items {
        let fits = item.as_str().is_some_and(|given| names.contains(&given));
        if !fits {
            let rule = format!("contain only {}", names.join(", "));
            return Err((rule, show(item)));
        }
    }
    Ok(())
}

fn check_text(value: &Value, accept: fn(&str) -> bool, rule: &str) -> Result<(), Failure> {
    if accept(text(value)?) {
        Ok(())
    } else {
        Err((rule.to_string(), show(value)))
    }
}

fn check_name(value: &Value, max_len: usize) -> Result<(), Failure> {
    let name = text(value)?;
    let starts_with_letter = name.starts_with(|c: char| c.is_ascii_lowercase());
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if starts_with_letter && name.len() <= max_len && name.chars().all(allowed) {
        return Ok(());
    }
    let rule =
        format!("be 1 to {max_len} lowercase letters, digits or hyphens, starting with a letter");
    Err((rule, show(value)))
}

/// A region AWS has (`regions`); a name not even shaped like one (`useast1`) is told the
/// shape, one shaped like one is offered its partition's regions nearest to it.
fn check_region(value: &Value) -> Result<(), Failure> {
    let name = text(value)?;
    if regions::is_known(name) {
        Ok(())
    } else if is_region(name) {
        Err((regions::unknown_rule(name), show(value)))
    } else {
        Err((
            "be an AWS region name like us-east-1".to_string(),
            show(value),
        ))
    }
}

/// The shape of a region name (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`).
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let lowercase_word = |w: &&str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase());
    let number_ok = (1..=2).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit());
    let geo_ok = words
        .first()
        .is_some_and(|geo| (2..=4).contains(&geo.len()));
    (2..=3).contains(&words.len()) && words.iter().all(lowercase_word) && number_ok && geo_ok
}

/// The recipe's own test, `^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`, without a regex.
fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let Some((host, top)) = domain.rsplit_once('.') else {
        return false;
    };
    let local_ok = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let host_ok = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    !local.is_empty()
        && local.chars().all(local_ok)
        && !host.is_empty()
        && host.chars().all(host_ok)
        && top.len() >= 2
        && top.chars().all(|c| c.is_ascii_alphabetic())
}

/// What `producer_principals` accepts, for the reference and the error.
const PRINCIPALS_ALLOWED: &str = "12-digit AWS account IDs and IAM role or user ARNs \
     (arn:aws:iam::123456789012:role/NAME, also aws-cn and aws-us-gov)";

fn check_principals(value: &Value) -> Result<(), Failure> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("be a list of strings", value))?;
    for item in items {
        if !item.as_str().is_some_and(is_principal) {
            let rule = format!("contain only {PRINCIPALS_ALLOWED}");
            return Err((rule, show_entry(item)));
        }
    }
    Ok(())
}

/// An entry in full, as far as it could be an IAM ARN at all (a path of 512 and a name of
/// 64 characters): the part that is wrong is often at the end, where [`show`] would cut.
pub(crate) fn show_entry(item: &Value) -> String {
    const LONGEST_ARN: usize = 640;
    match item.as_str() {
        Some(text) if text.chars().count() <= LONGEST_ARN => item.to_string(),
        _ => show(item),
    }
}

/// An account ID, or the ARN of an IAM role or user. Nothing with wildcards, and no
/// assumed-role sessions (`arn:aws:sts::...`): a session lasts hours, the policy is meant for
/// the role.
pub(crate) fn is_principal(text: &str) -> bool {
    is_account_id(text) || is_iam_identity_arn(text)
}

/// Exactly 12 ASCII digits.
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME` or the same with `user/`. Names and path
/// segments use the characters IAM allows in names (letters, digits, `+=,.@_-`); names are
/// at most 64 characters.
fn is_iam_identity_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let Some((kind, path_and_name)) = resource.split_once('/') else {
        return false;
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let segments: Vec<&str> = path_and_name.split('/').collect();
    let segments_ok = segments
        .iter()
        .all(|s| !s.is_empty() && s.chars().all(name_char));
    let name_ok = segments.last().is_some_and(|name| name.len() <= 64);
    arn == "arn"
        && matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && service == "iam"
        && region.is_empty()
        && is_account_id(account)
        && matches!(kind, "role" | "user")
        && segments_ok
        && name_ok
}

fn check_tags(value: &Value) -> Result<(), Failure> {
    let tags = value
        .as_table()
        .ok_or_else(|| wrong_type("be a table of strings", value))?;
    if tags.len() > MAX_ADDITIONAL_TAGS {
        let rule = format!("have at most {MAX_ADDITIONAL_TAGS} tags");
        return Err((rule, format!("{} tags", tags.len())));
    }
    tags.iter()
        .try_for_each(|(key, value)| check_tag(key, value))
}

fn check_tag(key: &str, value: &Value) -> Result<(), Failure> {
    let shown_key = show(&Value::String(key.to_string()));
    let Some(text) = value.as_str() else {
        let got = format!("{shown_key} = {}", show(value));
        return Err(("map tag keys to string values".to_string(), got));
    };
    let rule = if !(1..=128).contains(&key.chars().count()) {
        Some("have tag keys of 1 to 128 characters")
    } else if key.to_ascii_lowercase().starts_with("aws:") {
        Some("not have tag keys starting with \"aws:\" (AWS reserves them)")
    } else if !key.chars().all(tag_char) {
        Some("have tag keys of letters, digits, spaces and _ . : / = + - @ only")
    } else {
        None
    };
    if let Some(rule) = rule {
        return Err((rule.to_string(), shown_key));
    }
    let value_rule = if text.chars().count() > 256 {
        Some("have tag values of at most 256 characters")
    } else if !text.chars().all(tag_char) {
        Some("have tag values of letters, digits, spaces and _ . : / = + - @ only")
    } else {
        None
    };
    match value_rule {
        Some(rule) => Err((rule.to_string(), format!("{shown_key} = {}", show(value)))),
        None => Ok(()),
    }
}

/// The characters AWS accepts in tag keys and values (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`).
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// A value as the user would write it in TOML, cut short if it is long enough to bury the
/// message.
pub(crate) fn show(value: &Value) -> String {
    const LIMIT: usize = 80;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}…")
}

fn join(values: &[i64]) -> String {
    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    texts.join(", ")
}
