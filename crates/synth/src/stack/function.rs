//! The processor: its log group, its execution role (least privilege, from grants), the
//! function, and the event source mapping that feeds it from the stream.

use cfn::resources::dynamodb::Table;
use cfn::resources::iam::role::Policy as InlinePolicy;
use cfn::resources::iam::Role;
use cfn::resources::kinesis::Stream;
use cfn::resources::kms::Key;
use cfn::resources::lambda::event_source_mapping::{DestinationConfig, OnFailure};
use cfn::resources::lambda::function::{Code, Environment, LoggingConfig, TracingConfig};
use cfn::resources::lambda::{EventSourceMapping, Function};
use cfn::resources::logs::LogGroup;
use cfn::resources::sqs::Queue;
use cfn::{Handle, Template, Val};
use serde_json::json;

use super::dashboard::METRICS_NAMESPACE;
use super::iam::{self, Statement};
use super::names::Names;
use super::parameters::Parameters;
use super::{retention, tags};
use crate::config::Config;

/// What the function is wired to.
pub struct Wiring<'a> {
    /// The source stream.
    pub stream: &'a Handle<Stream>,
    /// The table it writes.
    pub table: &'a Handle<Table>,
    /// The dead-letter queue.
    pub queue: &'a Handle<Queue>,
    /// The key of the stream, table, queue, logs and environment.
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
}

/// Adds log group, role, function and event source mapping.
pub fn add(template: &mut Template, config: &Config, names: &Names, wiring: &Wiring) -> Processor {
    let log_group = LogGroup {
        log_group_name: Some(names.log_group.as_str().into()),
        retention_in_days: Some(i64::from(config.cloudwatch_log_retention_days).into()),
        kms_key_id: Some(wiring.key.attr_arn().into()),
        tags: tags::property(config),
        ..LogGroup::default()
    };
    let log_group = template.add_with("ProcessorLogGroup", log_group, retention::options(config));
    let role = add_role(template, config, names, wiring, &log_group);
    let function = add_function(template, config, names, wiring, &role, &log_group);
    add_mapping(template, config, wiring, &function);
    Processor {
        function,
        log_group,
    }
}

/// Every statement the processor's role holds, one grant per wired resource.
pub fn statements(wiring: &Wiring, log_group: &Handle<LogGroup>, names: &Names) -> Vec<Statement> {
    let key = || wiring.key.attr_arn();
    vec![
        iam::grant_read_stream(wiring.stream.attr_arn()),
        iam::grant_key_via("DecryptEventStream", key(), iam::KEY_STREAM_READ, "kinesis"),
        iam::grant_write_table(wiring.table.attr_arn()),
        iam::grant_key_via("EncryptEventTable", key(), iam::KEY_TABLE_WRITE, "dynamodb"),
        iam::grant_send_queue(wiring.queue.attr_arn()),
        iam::grant_key_via("EncryptDeadLetters", key(), iam::KEY_QUEUE_SEND, "sqs"),
        iam::grant_write_logs(log_group.attr_arn()),
        Statement::allow(
            "DecryptEnvironment",
            &["kms:Decrypt"],
            vec![key().to_json()],
        )
        .when(json!({
            "StringEquals": { "kms:EncryptionContext:LambdaFunctionName": names.function },
        })),
        iam::grant_xray(),
    ]
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
        iam::document(&statements(wiring, log_group, names)),
    );
    let role = Role {
        description: Some(
            format!(
                "Execution role of {}: reads the stream, writes the table, the DLQ and its logs",
                names.function
            )
            .into(),
        ),
        policies: Some(Val::Lit(vec![policy])),
        tags: tags::property(config),
        ..Role::new(iam::assume_role_by("lambda.amazonaws.com"))
    };
    template.add("ProcessorRole", role)
}

fn add_function(
    template: &mut Template,
    config: &Config,
    names: &Names,
    wiring: &Wiring,
    role: &Handle<Role>,
    log_group: &Handle<LogGroup>,
) -> Handle<Function> {
    let code = Code {
        s3_bucket: Some(wiring.params.code_bucket.to_ref().into()),
        s3_key: Some(wiring.params.code_key.to_ref().into()),
        ..Code::default()
    };
    let variables = json!({
        "TABLE_NAME": wiring.table.to_ref().to_json(),
        "DLQ_URL": wiring.queue.to_ref().to_json(),
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
        "LOG_LEVEL": "info",
    });
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
        tags: tags::property(config),
        ..Function::new(code, role.attr_arn())
    };
    template.add_with(
        "ProcessorFunction",
        function,
        super::checkov::function_skips(config),
    )
}

fn architecture(config: &Config) -> Val<cfn::resources::lambda::function::FunctionArchitectures> {
    use cfn::resources::lambda::function::FunctionArchitectures as Arch;
    match config.lambda_architecture {
        crate::config::Architecture::Arm64 => Arch::Arm64.into(),
        crate::config::Architecture::X86_64 => Arch::X86_64.into(),
    }
}

fn add_mapping(
    template: &mut Template,
    config: &Config,
    wiring: &Wiring,
    function: &Handle<Function>,
) {
    use cfn::resources::lambda::event_source_mapping::EventSourceMappingFunctionResponseTypes as ResponseType;
    let mapping = EventSourceMapping {
        event_source_arn: Some(wiring.stream.attr_arn().into()),
        starting_position: Some(config.lambda_starting_position.as_str().into()),
        batch_size: Some(i64::from(config.lambda_batch_size).into()),
        maximum_batching_window_in_seconds: Some(
            i64::from(config.lambda_maximum_batching_window_in_seconds).into(),
        ),
        parallelization_factor: Some(i64::from(config.lambda_parallelization_factor).into()),
        bisect_batch_on_function_error: Some(config.lambda_bisect_batch_on_function_error.into()),
        maximum_retry_attempts: Some(i64::from(config.lambda_maximum_retry_attempts).into()),
        maximum_record_age_in_seconds: Some(
            i64::from(config.lambda_maximum_record_age_in_seconds).into(),
        ),
        function_response_types: Some(Val::Lit(vec![ResponseType::ReportBatchItemFailures.into()])),
        destination_config: Some(DestinationConfig {
            on_failure: Some(OnFailure {
                destination: Some(wiring.queue.attr_arn().into()),
            }),
        }),
        tags: tags::property(config),
        ..EventSourceMapping::new(function.to_ref())
    };
    template.add("StreamMapping", mapping);
}
