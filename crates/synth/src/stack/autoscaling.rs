//! Application Auto Scaling for a provisioned table: read and write capacity of the table
//! and of each index track a target utilization between the configured base and maximum.
//!
//! No role is given: Application Auto Scaling then uses its DynamoDB service-linked role,
//! which AWS creates on first use and scopes to exactly this job.

use cfn::resources::applicationautoscaling::scalable_target::ScalableTargetScalableDimension as Dimension;
use cfn::resources::applicationautoscaling::scaling_policy::{
    PredefinedMetricSpecification, PredefinedMetricSpecificationPredefinedMetricType as MetricType,
    ScalingPolicyPolicyType, TargetTrackingScalingPolicyConfiguration,
};
use cfn::resources::applicationautoscaling::{ScalableTarget, ScalingPolicy};
use cfn::Template;

use super::names::Names;
use super::table::{EventTable, INDEXES};
use crate::config::Config;

/// One scaled dimension: what, where, and between which bounds.
struct Scaled {
    id: String,
    resource_id: String,
    dimension: Dimension,
    metric: MetricType,
    min: u32,
    max: u32,
}

/// Adds a scalable target and a target-tracking policy per table/index and read/write,
/// when the table's capacity is provisioned (on-demand tables scale themselves).
pub fn add(template: &mut Template, config: &Config, names: &Names, table: &EventTable) {
    if !table.provisioned {
        return;
    }
    for scaled in dimensions(config, names) {
        let target = ScalableTarget::new(
            scaled.resource_id.as_str(),
            cfn::resources::applicationautoscaling::scalable_target::ScalableTargetServiceNamespace::Dynamodb,
            scaled.dimension,
            i64::from(scaled.min),
            i64::from(scaled.max),
        );
        let options = cfn::ResourceOptions {
            depends_on: vec![table.resource.logical_id().to_owned()],
            ..Default::default()
        };
        let target = template.add_with(&format!("{}ScalableTarget", scaled.id), target, options);
        let tracking = TargetTrackingScalingPolicyConfiguration {
            predefined_metric_specification: Some(PredefinedMetricSpecification::new(
                scaled.metric,
            )),
            ..TargetTrackingScalingPolicyConfiguration::new(f64::from(
                config.dynamodb_autoscaling_target_utilization,
            ))
        };
        let policy = ScalingPolicy {
            scaling_target_id: Some(target.to_ref().into()),
            target_tracking_scaling_policy_configuration: Some(tracking),
            ..ScalingPolicy::new(
                format!("{}-{}", names.prefix, scaled.id.to_lowercase()),
                ScalingPolicyPolicyType::TargetTrackingScaling,
            )
        };
        template.add(&format!("{}ScalingPolicy", scaled.id), policy);
    }
}

fn dimensions(config: &Config, names: &Names) -> Vec<Scaled> {
    let read = (
        config.dynamodb_read_capacity,
        config.dynamodb_max_read_capacity,
    );
    let write = (
        config.dynamodb_write_capacity,
        config.dynamodb_max_write_capacity,
    );
    let mut out = Vec::new();
    let mut push = |id: String, resource_id: String, index: bool| {
        let (table_read, table_write) = if index {
            (
                Dimension::DynamodbIndexReadCapacityUnits,
                Dimension::DynamodbIndexWriteCapacityUnits,
            )
        } else {
            (
                Dimension::DynamodbTableReadCapacityUnits,
                Dimension::DynamodbTableWriteCapacityUnits,
            )
        };
        out.push(Scaled {
            id: format!("{id}Read"),
            resource_id: resource_id.clone(),
            dimension: table_read,
            metric: MetricType::DynamoDBReadCapacityUtilization,
            min: read.0,
            max: read.1,
        });
        out.push(Scaled {
            id: format!("{id}Write"),
            resource_id,
            dimension: table_write,
            metric: MetricType::DynamoDBWriteCapacityUtilization,
            min: write.0,
            max: write.1,
        });
    };
    push("Table".into(), format!("table/{}", names.table), false);
    for (index, _) in INDEXES {
        push(
            index.to_string(),
            format!("table/{}/index/{index}", names.table),
            true,
        );
    }
    out
}
