//! The event source mapping from the stack's stream to the processor, as the Lambda API
//! reports it (-1 = unlimited), read with GetEventSourceMapping.
//!
//! GetEventSourceMapping, not ListEventSourceMappings: a mapping's filters encrypted with a
//! customer managed key (`lambda_filter_encryption`) come back from the list as null, and
//! only GetEventSourceMapping returns them, decrypted, to a caller allowed kms:Decrypt on
//! the key through Lambda; one who is not gets a `FilterCriteriaError` in their place
//! ([`Mapping::filter_error`]), which a reader that needs the filters must refuse rather
//! than read as "no filters". GetEventSourceMapping can also be granted on the one mapping,
//! which a list cannot (docs/access.md, "Encrypted filters"). The mapping is the one the
//! stack's output `EventSourceMappingId` names; a stack without it has its function's
//! mappings listed for their UUIDs, each then read the same way.
//!
//! Where the API is silent the stack's template completes it: moto drops a mapping's
//! StartingPositionTimestamp, so for an AT_TIMESTAMP mapping without one the timestamp is
//! read from the template ([`from_template`]). The filters never are: the API's answer is
//! what the deployed mapping does, and the template may be newer than the mapping.

use aws_config::SdkConfig;
use aws_edge::error::CallError;
use aws_sdk_lambda::operation::get_event_source_mapping::GetEventSourceMappingOutput;
use contract::outputs;
use serde_json::Value;

use crate::{Stack, StackError};

/// A mapping's settings as the Lambda API reports them (-1 = unlimited).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// Its UUID (the physical ID of the stack's mapping resource).
    pub uuid: String,
    /// The stream's ARN, or a stream consumer's (enhanced fan-out).
    pub event_source_arn: String,
    /// The function's ARN as Lambda reports it (with the version or alias the mapping
    /// invokes, if it names one).
    pub function_arn: String,
    /// BatchSize.
    pub batch_size: i32,
    /// MaximumBatchingWindowInSeconds.
    pub window_secs: i32,
    /// BisectBatchOnFunctionError.
    pub bisect: bool,
    /// MaximumRetryAttempts.
    pub max_retries: i32,
    /// MaximumRecordAgeInSeconds.
    pub max_record_age_secs: i32,
    /// FunctionResponseTypes contains ReportBatchItemFailures.
    pub report_item_failures: bool,
    /// DestinationConfig.OnFailure.Destination.
    pub on_failure: Option<String>,
    /// StartingPosition: TRIM_HORIZON, LATEST or AT_TIMESTAMP.
    pub starting_position: Option<String>,
    /// StartingPositionTimestamp, epoch seconds.
    pub starting_position_timestamp: Option<f64>,
    /// FilterCriteria.Filters[].Pattern, decrypted when they are encrypted.
    pub filter_patterns: Vec<String>,
    /// KMSKeyArn: the customer managed key the filters are encrypted with, if any.
    pub kms_key_arn: Option<String>,
    /// FilterCriteriaError: why Lambda could not decrypt the filters for the caller
    /// (`ErrorCode: Message`); `filter_patterns` is then empty but the mapping filters.
    pub filter_error: Option<String>,
    /// TumblingWindowInSeconds, as the API reports it (`None`: no tumbling window).
    pub tumbling_window_secs: Option<i32>,
}

impl Mapping {
    /// Whether the timestamp to start at has to come from elsewhere (the template).
    pub fn lacks_timestamp(&self) -> bool {
        self.starting_position.as_deref() == Some("AT_TIMESTAMP")
            && self.starting_position_timestamp.is_none()
    }

    /// The mapping as GetEventSourceMapping reports it.
    pub fn from_output(m: &GetEventSourceMappingOutput) -> Mapping {
        Mapping {
            uuid: m.uuid().unwrap_or_default().to_owned(),
            event_source_arn: m.event_source_arn().unwrap_or_default().to_owned(),
            function_arn: m.function_arn().unwrap_or_default().to_owned(),
            batch_size: m.batch_size().unwrap_or(100),
            window_secs: m.maximum_batching_window_in_seconds().unwrap_or(0),
            bisect: m.bisect_batch_on_function_error().unwrap_or(false),
            max_retries: m.maximum_retry_attempts().unwrap_or(-1),
            max_record_age_secs: m.maximum_record_age_in_seconds().unwrap_or(-1),
            report_item_failures: m
                .function_response_types()
                .iter()
                .any(|t| t.as_str() == "ReportBatchItemFailures"),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned),
            starting_position: m.starting_position().map(|p| p.as_str().to_owned()),
            starting_position_timestamp: m.starting_position_timestamp().map(|t| t.as_secs_f64()),
            filter_patterns: m
                .filter_criteria()
                .map(|c| {
                    c.filters()
                        .iter()
                        .filter_map(|f| f.pattern().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            kms_key_arn: m.kms_key_arn().filter(|k| !k.is_empty()).map(str::to_owned),
            filter_error: m.filter_criteria_error().map(|e| {
                format!(
                    "{}: {}",
                    e.error_code().unwrap_or("KMS error"),
                    e.message().unwrap_or("no message")
                )
            }),
            tumbling_window_secs: m.tumbling_window_in_seconds(),
        }
    }
}

/// What the stack's template says of a mapping where the Lambda API (moto's) is silent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateMapping {
    /// Properties.StartingPositionTimestamp.
    pub starting_position_timestamp: Option<f64>,
}

/// Reads mapping `logical_id` from `template` (the stack's template body, YAML or JSON
/// in CloudFormation's long form); without an ID, the template's only mapping.
pub fn from_template(template: &str, logical_id: Option<&str>) -> Result<TemplateMapping, String> {
    let parsed: Value = serde_yaml::from_str(template)
        .map_err(|e| format!("the stack's template cannot be read: {e}"))?;
    let resources = parsed
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or("the stack's template has no Resources")?;
    let resource = match logical_id {
        Some(id) => resources
            .get(id)
            .ok_or_else(|| format!("the stack's template has no resource {id}"))?,
        None => {
            let mut mappings = resources.values().filter(|r| {
                r.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::EventSourceMapping")
            });
            match (mappings.next(), mappings.next()) {
                (Some(only), None) => only,
                (None, _) => return Err("the stack's template has no event source mapping".into()),
                (Some(_), Some(_)) => {
                    return Err("the stack's template has several event source mappings".into())
                }
            }
        }
    };
    let properties = resource.get("Properties");
    let timestamp = properties.and_then(|p| p.get("StartingPositionTimestamp"));
    let starting_position_timestamp = match timestamp {
        None => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => Some(s.trim().parse::<f64>().map_err(|_| {
            format!("StartingPositionTimestamp in the stack's template is not a number: {s:?}")
        })?),
        Some(other) => {
            return Err(format!(
                "StartingPositionTimestamp in the stack's template is not a number: {other}"
            ))
        }
    };
    Ok(TemplateMapping {
        starting_position_timestamp,
    })
}

impl Stack {
    /// The stack's event source mapping (output `EventSourceMappingId`), or, for a stack
    /// without that output, every mapping of function `function` (ListEventSourceMappings,
    /// for their UUIDs); each read with GetEventSourceMapping and completed from the
    /// stack's template where the API left its starting timestamp out.
    pub async fn mappings(
        &self,
        config: &SdkConfig,
        function: &str,
    ) -> Result<Vec<Mapping>, StackError> {
        let lambda = aws_sdk_lambda::Client::new(config);
        let uuids = match self.optional(outputs::EVENT_SOURCE_MAPPING_ID) {
            Some(uuid) => vec![uuid.to_owned()],
            None => list(&lambda, function).await?,
        };
        let mut mappings = Vec::with_capacity(uuids.len());
        for uuid in uuids {
            let mut mapping = get(&lambda, &uuid).await?;
            if mapping.lacks_timestamp() {
                self.complete_from_template(config, &mut mapping).await?;
            }
            mappings.push(mapping);
        }
        Ok(mappings)
    }

    /// Fills in what the Lambda API left out of `mapping` from the stack's template. The
    /// stack's resources tell which template resource the mapping is (its physical ID is
    /// the mapping's UUID).
    async fn complete_from_template(
        &self,
        config: &SdkConfig,
        mapping: &mut Mapping,
    ) -> Result<(), StackError> {
        let stack = self.name();
        let cfn = aws_sdk_cloudformation::Client::new(config);
        let mut logical_id = None;
        let mut token: Option<String> = None;
        loop {
            let page = cfn
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    CallError::new(format!("CloudFormation ListStackResources({stack})"), &e)
                })?;
            logical_id = logical_id.or_else(|| {
                page.stack_resource_summaries()
                    .iter()
                    .find(|r| r.physical_resource_id() == Some(mapping.uuid.as_str()))
                    .and_then(|r| r.logical_resource_id())
                    .map(str::to_owned)
            });
            token = page.next_token().map(str::to_owned);
            if token.is_none() || logical_id.is_some() {
                break;
            }
        }
        let body = cfn
            .get_template()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| CallError::new(format!("CloudFormation GetTemplate({stack})"), &e))?
            .template_body()
            .unwrap_or_default()
            .to_owned();
        let found =
            from_template(&body, logical_id.as_deref()).map_err(|reason| StackError::Template {
                stack: stack.to_owned(),
                reason: format!("event source mapping {}: {reason}", mapping.uuid),
            })?;
        if mapping.starting_position_timestamp.is_none() {
            mapping.starting_position_timestamp = found.starting_position_timestamp;
        }
        Ok(())
    }
}

/// A mapping as ListEventSourceMappings lists it: which source feeds which function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    /// Its UUID.
    pub uuid: String,
    /// The stream's ARN, or a stream consumer's.
    pub event_source_arn: String,
    /// The function's ARN, with the version or alias it invokes, if any.
    pub function_arn: String,
    /// `Enabled`, `Deleting`, ...
    pub state: String,
}

/// Every mapping of event source `source` (a stream's or a consumer's ARN), whichever
/// function it invokes (ListEventSourceMappings, paged; `lambda:ListEventSourceMappings`).
pub async fn of_source(config: &SdkConfig, source: &str) -> Result<Vec<Listed>, CallError> {
    let lambda = aws_sdk_lambda::Client::new(config);
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = lambda
            .list_event_source_mappings()
            .event_source_arn(source)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| {
                CallError::new(format!("Lambda ListEventSourceMappings({source})"), &e)
                    .when_denied("the caller needs lambda:ListEventSourceMappings (Resource \"*\")")
            })?;
        found.extend(page.event_source_mappings().iter().map(|m| Listed {
            uuid: m.uuid().unwrap_or_default().to_owned(),
            event_source_arn: m.event_source_arn().unwrap_or_default().to_owned(),
            function_arn: m.function_arn().unwrap_or_default().to_owned(),
            state: m.state().unwrap_or_default().to_owned(),
        }));
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            return Ok(found);
        }
    }
}

/// Whether mapping `uuid` is gone (GetEventSourceMapping answers that it does not exist),
/// as it is once deleted; an error when Lambda could not be asked.
pub async fn is_deleted(config: &SdkConfig, uuid: &str) -> Result<bool, CallError> {
    let lambda = aws_sdk_lambda::Client::new(config);
    match lambda.get_event_source_mapping().uuid(uuid).send().await {
        Ok(_) => Ok(false),
        Err(e) => {
            let error = CallError::new(format!("Lambda GetEventSourceMapping({uuid})"), &e);
            if error.failure == aws_edge::error::Failure::NotFound {
                Ok(true)
            } else {
                Err(error)
            }
        }
    }
}

/// The UUIDs of function `function`'s mappings (ListEventSourceMappings; its filters are
/// not read from here: encrypted ones are null).
async fn list(lambda: &aws_sdk_lambda::Client, function: &str) -> Result<Vec<String>, CallError> {
    let listed = lambda
        .list_event_source_mappings()
        .function_name(function)
        .send()
        .await
        .map_err(|e| {
            CallError::new(format!("Lambda ListEventSourceMappings({function})"), &e).when_denied(
                "the caller needs lambda:ListEventSourceMappings (Resource \"*\"), or a stack \
                 with the output EventSourceMappingId",
            )
        })?;
    Ok(listed
        .event_source_mappings()
        .iter()
        .filter_map(|m| m.uuid().map(str::to_owned))
        .collect())
}

/// Mapping `uuid` as GetEventSourceMapping reports it.
async fn get(lambda: &aws_sdk_lambda::Client, uuid: &str) -> Result<Mapping, CallError> {
    let got = lambda
        .get_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .map_err(|e| {
            CallError::new(format!("Lambda GetEventSourceMapping({uuid})"), &e)
                .when_not_found(
                    "the stack's output EventSourceMappingId names a mapping that does not \
                     exist; is the stack's update complete?",
                )
                .when_denied(
                    "the caller needs lambda:GetEventSourceMapping on the mapping, which the \
                     stack's RedrivePolicy and ReplayPolicy grant (docs/access.md)",
                )
        })?;
    Ok(Mapping::from_output(&got))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  EventStream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn:
        Fn::GetAtt:
          - EventStream
          - Arn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 1764000000
      FilterCriteria:
        Filters:
          - Pattern: '{"data":{"eventType":["purchase","add_to_cart"]}}'
"#;

    #[test]
    fn the_template_gives_what_the_api_does_not() {
        let expected = TemplateMapping {
            starting_position_timestamp: Some(1_764_000_000.0),
        };
        assert_eq!(
            from_template(TEMPLATE, Some("StreamMapping")),
            Ok(expected.clone())
        );
        assert_eq!(from_template(TEMPLATE, None), Ok(expected));
        let json = r#"{"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"StartingPositionTimestamp": "1764000000.25"}}}}"#;
        assert_eq!(
            from_template(json, None),
            Ok(TemplateMapping {
                starting_position_timestamp: Some(1_764_000_000.25),
            })
        );
    }

    fn output() -> aws_sdk_lambda::operation::get_event_source_mapping::builders::GetEventSourceMappingOutputBuilder{
        GetEventSourceMappingOutput::builder()
            .uuid("e40edd69")
            .event_source_arn("arn:aws:kinesis:us-east-1:123456789012:stream/s")
            .batch_size(100)
    }

    /// GetEventSourceMapping returns encrypted filters decrypted to a caller who may
    /// decrypt them: they are read, with the key they are encrypted with.
    #[test]
    fn decrypted_filters_are_read_with_their_key() {
        use aws_sdk_lambda::types::{Filter, FilterCriteria};
        let pattern = r#"{"data":{"eventType":["purchase"]}}"#;
        let key = "arn:aws:kms:us-east-1:123456789012:key/k";
        let got = output()
            .filter_criteria(
                FilterCriteria::builder()
                    .filters(Filter::builder().pattern(pattern).build())
                    .build(),
            )
            .kms_key_arn(key)
            .build();
        let mapping = Mapping::from_output(&got);
        assert_eq!(mapping.filter_patterns, [pattern]);
        assert_eq!(mapping.kms_key_arn.as_deref(), Some(key));
        assert_eq!(mapping.filter_error, None);
        assert_eq!(
            (mapping.uuid.as_str(), mapping.batch_size),
            ("e40edd69", 100)
        );
        // An empty KMSKeyArn is Lambda's way of saying "AWS's own key".
        let plain = Mapping::from_output(&output().kms_key_arn("").build());
        assert_eq!(plain.kms_key_arn, None);
        assert!(plain.filter_patterns.is_empty());
    }

    /// A caller who may not decrypt them gets no filters and the KMS error instead, which
    /// must not read as "no filters".
    #[test]
    fn undecryptable_filters_keep_the_reason() {
        use aws_sdk_lambda::types::FilterCriteriaError;
        let got = output()
            .kms_key_arn("arn:aws:kms:us-east-1:123456789012:key/k")
            .filter_criteria_error(
                FilterCriteriaError::builder()
                    .error_code("KMSAccessDeniedException")
                    .message("not authorized to perform kms:Decrypt")
                    .build(),
            )
            .build();
        let mapping = Mapping::from_output(&got);
        assert!(mapping.filter_patterns.is_empty());
        assert_eq!(
            mapping.filter_error.as_deref(),
            Some("KMSAccessDeniedException: not authorized to perform kms:Decrypt")
        );
    }

    #[test]
    fn a_template_without_the_mapping_says_so() {
        assert_eq!(
            from_template(TEMPLATE, Some("Missing")),
            Err("the stack's template has no resource Missing".into())
        );
        assert_eq!(
            from_template("Resources: {}", None),
            Err("the stack's template has no event source mapping".into())
        );
        assert!(from_template(": not yaml: [", None)
            .unwrap_err()
            .starts_with("the stack's template cannot be read"));
        let bad = TEMPLATE.replace("1764000000", "soon");
        assert_eq!(
            from_template(&bad, None),
            Err(
                r#"StartingPositionTimestamp in the stack's template is not a number: "soon""#
                    .into()
            )
        );
    }
}
