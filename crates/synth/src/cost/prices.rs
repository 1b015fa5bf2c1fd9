//! The price table `synth cost` multiplies by: AWS's public on-demand list prices for
//! us-east-1 (N. Virginia), in USD, without free tiers, savings plans or reserved capacity.
//!
//! Compiled on [`PRICES_AS_OF`] from the figures AWS publishes on the pages linked below
//! (DynamoDB on-demand after its November 2024 price cut). They were not re-fetched from
//! the live pages that day: check them there before relying on a total, and update this
//! table and the date together (docs/cost.md's preset table follows from the code).

/// When this table was compiled.
pub const PRICES_AS_OF: &str = "2026-11-25";

/// The region the prices are for.
pub const PRICES_REGION: &str = "us-east-1";

/// Unit prices in USD. Each field's name says its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    // https://aws.amazon.com/kinesis/data-streams/pricing/
    /// Provisioned mode: one shard for one hour.
    pub kinesis_shard_hour: f64,
    /// Provisioned mode: one million PUT payload units (25 KB chunks of a record).
    pub kinesis_million_put_payload_units: f64,
    /// Provisioned mode: retention beyond 24 hours, up to 7 days, per shard-hour.
    pub kinesis_extended_retention_shard_hour: f64,
    /// Either mode: data kept beyond 7 days (long-term retention), per GB-month.
    pub kinesis_long_term_retention_gb_month: f64,
    /// On-demand mode: one stream for one hour.
    pub kinesis_on_demand_stream_hour: f64,
    /// On-demand mode: data written, per GB (records rounded up to 1 KB).
    pub kinesis_on_demand_ingest_gb: f64,
    /// On-demand mode: data read by shared-throughput consumers, per GB.
    pub kinesis_on_demand_retrieval_gb: f64,
    /// On-demand mode: retention beyond 24 hours, up to 7 days, per GB-month.
    pub kinesis_on_demand_extended_retention_gb_month: f64,
    /// Provisioned mode: one enhanced fan-out consumer on one shard for one hour.
    pub kinesis_efo_consumer_shard_hour: f64,
    /// Provisioned mode: data read through an enhanced fan-out consumer, per GB.
    pub kinesis_efo_retrieval_gb: f64,
    /// On-demand mode: data read through an enhanced fan-out consumer, per GB (no
    /// consumer-shard hours in this mode).
    pub kinesis_on_demand_efo_retrieval_gb: f64,

    // https://aws.amazon.com/lambda/pricing/
    /// One million invocations.
    pub lambda_million_requests: f64,
    /// One GB-second of arm64 (Graviton) compute.
    pub lambda_gb_second_arm64: f64,
    /// One GB-second of x86_64 compute.
    pub lambda_gb_second_x86_64: f64,

    // https://aws.amazon.com/dynamodb/pricing/on-demand/ and .../provisioned/
    /// On-demand: one million write request units (one per 1 KB written).
    pub dynamodb_million_write_request_units: f64,
    /// On-demand: one million read request units (one per 4 KB read strongly consistent,
    /// half that eventually consistent).
    pub dynamodb_million_read_request_units: f64,
    /// Provisioned: one write capacity unit for one hour.
    pub dynamodb_wcu_hour: f64,
    /// Provisioned: one read capacity unit for one hour.
    pub dynamodb_rcu_hour: f64,
    /// Table and index storage, per GB-month.
    pub dynamodb_storage_gb_month: f64,
    /// Point-in-time recovery (continuous backups), per GB-month of table size.
    pub dynamodb_pitr_gb_month: f64,
    /// Standard-IA table class: one million write request units (on-demand).
    pub dynamodb_ia_million_write_request_units: f64,
    /// Standard-IA table class: one million read request units (on-demand).
    pub dynamodb_ia_million_read_request_units: f64,
    /// Standard-IA table class: one write capacity unit for one hour.
    pub dynamodb_ia_wcu_hour: f64,
    /// Standard-IA table class: one read capacity unit for one hour.
    pub dynamodb_ia_rcu_hour: f64,
    /// Standard-IA table class: table and index storage, per GB-month.
    pub dynamodb_ia_storage_gb_month: f64,

    // https://aws.amazon.com/cloudwatch/pricing/
    /// Logs ingested (Lambda's vended logs, first tier), per GB.
    pub logs_ingest_gb: f64,
    /// Logs stored, per GB-month.
    pub logs_storage_gb_month: f64,
    /// One custom metric (EMF or Kinesis shard-level) for a month, first 10,000 tier.
    pub cloudwatch_metric_month: f64,
    /// One standard-resolution alarm (period of 60 s or more) for a month.
    pub cloudwatch_alarm_standard_month: f64,
    /// One high-resolution alarm (period of 10, 20 or 30 s) for a month.
    pub cloudwatch_alarm_high_resolution_month: f64,
    /// One dashboard for a month (beyond the account's three free ones).
    pub cloudwatch_dashboard_month: f64,
    /// Contributor Insights for DynamoDB: one rule for a month (each table or index with it
    /// on has its own rules, which DynamoDB creates).
    pub cloudwatch_contributor_insights_rule_month: f64,
    /// Contributor Insights for DynamoDB: one million DynamoDB events the rules see (every
    /// request in ACCESSED_AND_THROTTLED_KEYS mode, throttled ones in THROTTLED_KEYS).
    pub cloudwatch_contributor_insights_million_events: f64,

    // https://aws.amazon.com/sqs/pricing/
    /// One million standard-queue requests (each 64 KB chunk of a request counts as one).
    pub sqs_million_requests: f64,

    // https://aws.amazon.com/s3/pricing/
    /// S3 Standard storage, per GB-month (first 50 TB).
    pub s3_standard_gb_month: f64,
    /// S3 Glacier Instant Retrieval storage, per GB-month (billed for at least 90 days, and
    /// objects under 128 KB as 128 KB).
    pub s3_glacier_ir_gb_month: f64,
    /// S3 Standard PUT, COPY, POST and LIST requests, per 1,000.
    pub s3_standard_1k_put_requests: f64,
    /// Lifecycle transitions into S3 Glacier Instant Retrieval, per 1,000.
    pub s3_glacier_ir_1k_transitions: f64,

    // https://aws.amazon.com/firehose/pricing/ (for the comparison in docs/cost.md only)
    /// Amazon Data Firehose ingestion, per GB, each record rounded up to 5 KB (first 500 TB).
    pub firehose_ingest_gb: f64,

    // https://aws.amazon.com/kms/pricing/
    /// One customer managed key for a month.
    pub kms_key_month: f64,
    /// Ten thousand API requests.
    pub kms_10k_requests: f64,

    // https://aws.amazon.com/privatelink/pricing/ (gateway endpoints, DynamoDB's, are free)
    /// One interface VPC endpoint in one Availability Zone for one hour.
    pub vpc_interface_endpoint_az_hour: f64,
    /// Data processed by interface endpoints, per GB (first PB tier).
    pub vpc_interface_endpoint_gb: f64,

    // https://aws.amazon.com/codedeploy/pricing/: "no additional charge for code deployments
    // to Amazon EC2, AWS Lambda, Amazon ECS"; the AWS Price List's AWSCodeDeploy offer bills
    // only on-premises instance updates (USD 0.02 each).
    /// One CodeDeploy deployment to Lambda (a gradual deploy_strategy's traffic shift).
    pub codedeploy_lambda_deployment: f64,
}

/// us-east-1 list prices as of [`PRICES_AS_OF`].
pub const US_EAST_1: Prices = Prices {
    kinesis_shard_hour: 0.015,
    kinesis_million_put_payload_units: 0.014,
    kinesis_extended_retention_shard_hour: 0.02,
    kinesis_long_term_retention_gb_month: 0.023,
    kinesis_on_demand_stream_hour: 0.04,
    kinesis_on_demand_ingest_gb: 0.08,
    kinesis_on_demand_retrieval_gb: 0.04,
    kinesis_on_demand_extended_retention_gb_month: 0.10,
    kinesis_efo_consumer_shard_hour: 0.015,
    kinesis_efo_retrieval_gb: 0.013,
    kinesis_on_demand_efo_retrieval_gb: 0.05,

    lambda_million_requests: 0.20,
    lambda_gb_second_arm64: 0.000_013_333_4,
    lambda_gb_second_x86_64: 0.000_016_666_7,

    dynamodb_million_write_request_units: 0.625,
    dynamodb_million_read_request_units: 0.125,
    dynamodb_wcu_hour: 0.000_65,
    dynamodb_rcu_hour: 0.000_13,
    dynamodb_storage_gb_month: 0.25,
    dynamodb_pitr_gb_month: 0.20,
    dynamodb_ia_million_write_request_units: 0.78125,
    dynamodb_ia_million_read_request_units: 0.15625,
    dynamodb_ia_wcu_hour: 0.000_81,
    dynamodb_ia_rcu_hour: 0.000_16,
    dynamodb_ia_storage_gb_month: 0.10,

    logs_ingest_gb: 0.50,
    logs_storage_gb_month: 0.03,
    cloudwatch_metric_month: 0.30,
    cloudwatch_alarm_standard_month: 0.10,
    cloudwatch_alarm_high_resolution_month: 0.30,
    cloudwatch_dashboard_month: 3.00,
    cloudwatch_contributor_insights_rule_month: 0.50,
    cloudwatch_contributor_insights_million_events: 0.03,

    sqs_million_requests: 0.40,

    s3_standard_gb_month: 0.023,
    s3_glacier_ir_gb_month: 0.004,
    s3_standard_1k_put_requests: 0.005,
    s3_glacier_ir_1k_transitions: 0.02,

    firehose_ingest_gb: 0.029,

    kms_key_month: 1.00,
    kms_10k_requests: 0.03,

    vpc_interface_endpoint_az_hour: 0.01,
    vpc_interface_endpoint_gb: 0.01,
    codedeploy_lambda_deployment: 0.0,
};
