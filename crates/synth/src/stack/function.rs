//! The processor: its log group, its execution role (least privilege: the union of what
//! its wiring grants), the function, and the event source mapping that feeds it from the
//! stream. Its environment is the processor's contract (the `contract` crate).

use cfn::resources::iam::role::Policy as InlinePolicy;
use cfn::resources::iam::Role;
use cfn::resources::kms::Key;
use cfn::resources::lambda::event_source_mapping::{
    DestinationConfig, Filter, FilterCriteria, MetricsConfig, MetricsConfigMetrics, OnFailure,
};
use cfn::resources::lambda::function::{Code, Environment, LoggingConfig, TracingConfig};
use cfn::resources::lambda::{EventSourceMapping, Function};
use cfn::resources::logs::LogGroup;
use cfn::{Expr, Handle, Template, Val};
use serde_json::json;

use super::aggregates::AggregateTable;
use super::buckets::Buckets;
use super::consumer::FanOutConsumer;
use super::dashboard::METRICS_NAMESPACE;
use super::gradual::{self, Live};
use super::iam::{self, Grants, Layout, Statement};
use super::names::Names;
use super::parameters::Parameters;
use super::queue::DeadLetterQueue;
use super::stream::EventStream;
use super::table::EventTable;
use super::vpc::Placement;
use super::{retention, tags};
use crate::config::{Config, StartingPosition};

/// What the function is wired to.
pub struct Wiring<'a> {
    /// The source stream.
    pub stream: &'a EventStream,
    /// The enhanced fan-out consumer the mapping reads through, if any.
    pub consumer: Option<&'a FanOutConsumer>,
    /// The function's place in a VPC, if any.
    pub placement: Option<&'a Placement>,
    /// The table it writes.
    pub table: &'a EventTable,
    /// The aggregate table it writes at a window's end, with tumbling windows.
    pub aggregates: Option<&'a AggregateTable>,
    /// The dead-letter queue.
    pub queue: &'a DeadLetterQueue,
    /// The failure bucket and the event archive, when configured.
    pub buckets: &'a Buckets,
    /// The key of the logs and the environment.
    pub key: &'a Handle<Key>,
    /// The deploy-time parameters (code location).
    pub params: &'a Parameters,
}

/// The function and its log group, for alarms, the dashboard and outputs.
pub struct Processor {
    /// The Lambda function.
    pub function: Handle<Function>,
    /// Its log group.
    pub log_group: Handle<LogGroup>,
    /// Its execution role.
    pub role: Handle<Role>,
    /// The event source mapping from the stream.
    pub mapping: Handle<EventSourceMapping>,
    /// The key the mapping's filters are encrypted with (its `KmsKeyArn`), when they are.
    pub filter_key: Option<Handle<Key>>,
    /// With a gradual `deploy_strategy`, the published version and the alias the mapping
    /// invokes (`gradual`); `None` when the mapping invokes the function itself.
    pub live: Option<Live>,
}

impl Processor {
    /// Invokes the function synchronously, reading its configuration (to check it is the
    /// stack's processor and how long it may run) first. Its environment's key is Lambda's
    /// business, not the caller's.
    pub fn grant_invoke(&self, grants: &mut Grants) {
        grants.allow(Statement::allow(
            "InvokeProcessor",
            iam::FUNCTION_INVOKE_ACTIONS,
            vec![self.function.attr_arn().to_json()],
        ));
    }

    /// Reads the event source mapping back as Lambda reports it (GetEventSourceMapping, on
    /// this mapping only) and, when its filters are encrypted with the data key, decrypts
    /// them through Lambda: ListEventSourceMappings cannot be scoped to one mapping and
    /// returns encrypted filters as null (docs/access.md, "Encrypted filters").
    pub fn grant_read_mapping(&self, grants: &mut Grants) {
        let access = Statement::allow(
            "ReadEventSourceMapping",
            iam::MAPPING_READ_ACTIONS,
            vec![self.mapping_arn().to_json()],
        );
        let key = self.filter_key.as_ref().map(|key| {
            iam::key_via(
                "DecryptMappingFilters",
                key,
                iam::KEY_MAPPING_FILTERS_READ,
                "lambda",
            )
        });
        grants.add(access, key);
    }

    /// The mapping's ARN. Its `Ref` is its UUID, which the ARN ends with; the
    /// `EventSourceMappingArn` attribute is newer than moto's model of the resource.
    pub fn mapping_arn(&self) -> Expr {
        Expr::sub_with(
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:${Mapping}",
            vec![("Mapping", self.mapping.to_ref().to_json())],
        )
    }
}

/// Adds log group, role, function, (with a gradual `deploy_strategy`) its version and alias,
/// and the event source mapping.
pub fn add(template: &mut Template, config: &Config, names: &Names, wiring: &Wiring) -> Processor {
    let log_group = LogGroup {
        log_group_name: Some(names.log_group.as_str().into()),
        retention_in_days: Some(i64::from(config.cloudwatch_log_retention_days).into()),
        kms_key_id: Some(wiring.key.attr_arn().into()),
        tags: tags::property(config),
        ..LogGroup::default()
    };
    let log_group = template.add_with("ProcessorLogGroup", log_group, retention::with_the_stack());
    let role = add_role(template, config, names, wiring, &log_group);
    let (function, fingerprint) = add_function(template, config, names, wiring, &role, &log_group);
    let live = gradual::publish(
        template,
        config,
        names,
        &function,
        &fingerprint,
        &wiring.params.code_key,
    );
    let invoked = live
        .as_ref()
        .map_or_else(|| function.to_ref(), Live::invoked);
    let mapping = add_mapping(template, config, wiring, invoked);
    Processor {
        function,
        log_group,
        role,
        mapping,
        filter_key: config.filters_encrypted().then(|| wiring.key.clone()),
        live,
    }
}

/// What the processor's role is granted: the stream it reads (and the consumer it reads
/// through), the on-failure destination the mapping delivers to with the role (the failure
/// bucket; the queue's send is the processor's own), where the processor writes (its sinks:
/// [`grant_sinks`], and the aggregate table at a window's end), its own log streams, X-Ray, and in a VPC its network interfaces, each
/// with its key's statement. Nothing for the environment's key: Lambda decrypts the
/// environment through the grant it creates on the key when the function is deployed, not
/// with the execution role.
pub fn grants(wiring: &Wiring, log_group: &Handle<LogGroup>) -> Grants {
    let mut grants = Grants::new();
    wiring.stream.grant_read(&mut grants);
    if let Some(consumer) = wiring.consumer {
        consumer.grant_subscribe(&mut grants);
    }
    if let Some(failure) = &wiring.buckets.failure {
        failure.grant_on_failure_delivery(&mut grants);
    }
    grant_sinks(&mut grants, wiring.table, wiring.queue, wiring.buckets);
    if let Some(aggregates) = wiring.aggregates {
        aggregates.grant_write(&mut grants);
    }
    grants
        .allow(Statement::allow(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![log_group.attr_arn().to_json()],
        ))
        .allow(iam::write_traces());
    if let Some(placement) = wiring.placement {
        placement.grant_network_interfaces(&mut grants);
    }
    grants
}

/// Where the processor writes, whoever runs it (Lambda with the role; redrive and replay
/// with `--local` in their own process, with the caller's credentials): the table, the
/// dead-letter queue, the failure bucket's claim checks and the event archive, each with its
/// key's statement.
pub fn grant_sinks(
    grants: &mut Grants,
    table: &EventTable,
    queue: &DeadLetterQueue,
    buckets: &Buckets,
) {
    table.grant_write(grants);
    queue.grant_send(grants);
    if let Some(failure) = &buckets.failure {
        failure.grant_claim_checks(grants);
    }
    if let Some(archive) = &buckets.archive {
        archive.grant_write(grants);
    }
}

fn add_role(
    template: &mut Template,
    config: &Config,
    names: &Names,
    wiring: &Wiring,
    log_group: &Handle<LogGroup>,
) -> Handle<Role> {
    let policy = InlinePolicy::new(
        "processor",
        grants(wiring, log_group).document(Layout::Paired),
    );
    let role = Role {
        description: Some(
            format!(
                "Execution role of {}: reads the stream, writes the table, the DLQ, its buckets and its logs",
                names.function
            )
            .into(),
        ),
        policies: Some(Val::Lit(vec![policy])),
        tags: tags::property(config),
        ..Role::new(iam::assume_role_by("lambda.amazonaws.com"))
    };
    template.add_with(
        iam::PROCESSOR_ROLE_ID,
        role,
        super::checkov::role_skips(config),
    )
}

fn add_function(
    template: &mut Template,
    config: &Config,
    names: &Names,
    wiring: &Wiring,
    role: &Handle<Role>,
    log_group: &Handle<LogGroup>,
) -> (Handle<Function>, String) {
    let code = Code {
        s3_bucket: Some(wiring.params.code_bucket.to_ref().into()),
        s3_key: Some(wiring.params.code_key.to_ref().into()),
        ..Code::default()
    };
    let variables = environment(config, wiring);
    let function = Function {
        function_name: Some(names.function.as_str().into()),
        description: Some("Validates and enriches retail events from Kinesis into DynamoDB; bad records go to the DLQ".into()),
        runtime: Some(cfn::resources::lambda::function::FunctionRuntime::ProvidedAl2023.into()),
        handler: Some("bootstrap".into()),
        architectures: Some(Val::Lit(vec![architecture(config)])),
        memory_size: Some(i64::from(config.lambda_memory_size).into()),
        timeout: Some(i64::from(config.lambda_timeout).into()),
        reserved_concurrent_executions: (config.lambda_reserved_concurrency >= 0)
            .then(|| i64::from(config.lambda_reserved_concurrency).into()),
        tracing_config: Some(TracingConfig { mode: Some(cfn::resources::lambda::function::TracingConfigMode::Active.into()) }),
        environment: Some(Environment { variables: Some(variables) }),
        kms_key_arn: Some(wiring.key.attr_arn().into()),
        logging_config: Some(LoggingConfig {
            log_group: Some(log_group.to_ref().into()),
            log_format: Some(cfn::resources::lambda::function::LoggingConfigLogFormat::Json.into()),
            ..LoggingConfig::default()
        }),
        vpc_config: wiring.placement.map(Placement::vpc_config),
        tags: tags::property(config),
        ..Function::new(code, role.attr_arn())
    };
    let fingerprint = gradual::fingerprint(&function);
    let function = template.add_with(
        "ProcessorFunction",
        function,
        super::checkov::function_skips(config),
    );
    (function, fingerprint)
}

/// The processor's environment: where it writes (the failure bucket and the archive only
/// when they exist), the metrics namespace the alarms and the dashboard watch, when items
/// expire, whether `FailedEvents` is high-resolution (its alarm's period is under a minute),
/// over how many write shards the index keys are spread (only when more than one, so the
/// recipe's keys need no variable), and the aggregate table with tumbling windows.
fn environment(config: &Config, wiring: &Wiring) -> serde_json::Value {
    use contract::env::{
        AGGREGATE_TABLE, ARCHIVE_BUCKET, DLQ_URL, FAILED_EVENTS_RESOLUTION, FAILURE_BUCKET,
        INDEX_WRITE_SHARDS, ITEM_TTL_DAYS, LOG_LEVEL, METRICS_NAMESPACE as NAMESPACE, TABLE_NAME,
    };
    let mut variables = json!({
        TABLE_NAME: wiring.table.resource.to_ref().to_json(),
        DLQ_URL: wiring.queue.resource.to_ref().to_json(),
        NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: "info",
    });
    if config.dynamodb_ttl_days > 0 {
        variables[ITEM_TTL_DAYS] = config.dynamodb_ttl_days.to_string().into();
    }
    if super::alarms::failed_events_high_resolution(config) {
        variables[FAILED_EVENTS_RESOLUTION] = "1".into();
    }
    if config.dynamodb_index_write_shards > 1 {
        variables[INDEX_WRITE_SHARDS] = config.dynamodb_index_write_shards.to_string().into();
    }
    if let Some(failure) = &wiring.buckets.failure {
        variables[FAILURE_BUCKET] = failure.resource().to_ref().to_json();
    }
    if let Some(archive) = &wiring.buckets.archive {
        variables[ARCHIVE_BUCKET] = archive.resource().to_ref().to_json();
    }
    if let Some(aggregates) = wiring.aggregates {
        variables[AGGREGATE_TABLE] = aggregates.resource.to_ref().to_json();
    }
    variables
}

fn architecture(config: &Config) -> Val<cfn::resources::lambda::function::FunctionArchitectures> {
    use cfn::resources::lambda::function::FunctionArchitectures as Arch;
    match config.lambda_architecture {
        crate::config::Architecture::Arm64 => Arch::Arm64.into(),
        crate::config::Architecture::X86_64 => Arch::X86_64.into(),
    }
}

/// The mapping from the stream (or its consumer) to `invoked`: the function, or with a
/// gradual `deploy_strategy` its alias `live`.
fn add_mapping(
    template: &mut Template,
    config: &Config,
    wiring: &Wiring,
    invoked: Expr,
) -> Handle<EventSourceMapping> {
    use cfn::resources::lambda::event_source_mapping::EventSourceMappingFunctionResponseTypes as ResponseType;
    let source = match wiring.consumer {
        Some(consumer) => consumer.arn(),
        None => wiring.stream.resource.attr_arn(),
    };
    let mapping = EventSourceMapping {
        event_source_arn: Some(source.into()),
        starting_position: Some(config.lambda_starting_position.as_str().into()),
        starting_position_timestamp: (config.lambda_starting_position
            == StartingPosition::AtTimestamp)
            .then(|| (config.lambda_starting_position_timestamp as f64).into()),
        filter_criteria: filter_criteria(config),
        // Filters can name business values: the data key, not a key AWS owns.
        kms_key_arn: config
            .filters_encrypted()
            .then(|| wiring.key.attr_arn().into()),
        batch_size: Some(i64::from(config.lambda_batch_size).into()),
        maximum_batching_window_in_seconds: Some(
            i64::from(config.lambda_maximum_batching_window_in_seconds).into(),
        ),
        parallelization_factor: Some(i64::from(config.lambda_parallelization_factor).into()),
        bisect_batch_on_function_error: Some(config.lambda_bisect_batch_on_function_error.into()),
        // The window's end is when the processor writes the aggregates (AGGREGATE_TABLE).
        tumbling_window_in_seconds: config
            .aggregate_window()
            .map(|seconds| i64::from(seconds).into()),
        maximum_retry_attempts: Some(i64::from(config.lambda_maximum_retry_attempts).into()),
        maximum_record_age_in_seconds: Some(
            i64::from(config.lambda_maximum_record_age_in_seconds).into(),
        ),
        function_response_types: Some(Val::Lit(vec![ResponseType::ReportBatchItemFailures.into()])),
        destination_config: Some(DestinationConfig {
            on_failure: Some(OnFailure {
                destination: Some(on_failure_destination(wiring).into()),
            }),
        }),
        // The mapping's own event counts, among them OnFailureDestinationDeliveredEventCount,
        // which the failed-batches alarm watches.
        metrics_config: Some(MetricsConfig {
            metrics: Some(Val::Lit(vec![MetricsConfigMetrics::EventCount.into()])),
        }),
        tags: tags::property(config),
        ..EventSourceMapping::new(invoked)
    };
    template.add("StreamMapping", mapping)
}

/// Where the mapping sends a batch it gives up on: the failure bucket (the batch's records
/// kept) when there is one, else the dead-letter queue (the batch's place in the stream).
fn on_failure_destination(wiring: &Wiring) -> cfn::Expr {
    match &wiring.buckets.failure {
        Some(failure) => failure.resource().attr_arn(),
        None => wiring.queue.resource.attr_arn(),
    }
}

/// The mapping's filters, when the configuration filters at all: Lambda processes a record
/// that matches any of them and drops the rest without invoking the function.
fn filter_criteria(config: &Config) -> Option<FilterCriteria> {
    let patterns = config.filter_patterns();
    (!patterns.is_empty()).then(|| FilterCriteria {
        filters: Some(Val::Lit(
            patterns
                .into_iter()
                .map(|pattern| Filter {
                    pattern: Some(pattern.into()),
                })
                .collect(),
        )),
    })
}
