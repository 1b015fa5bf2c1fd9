//! VPC endpoints, when the function runs in a VPC and the stack creates them
//! (`vpc_create_endpoints`): the SQS interface endpoint is billed per Availability Zone-hour
//! (one network interface per subnet) and per GB it carries; the DynamoDB gateway endpoint
//! is free.

use super::super::workload::{BYTES_PER_GB, HOURS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::sqs::DEAD_LETTER_ENVELOPE_BYTES;
use super::Context;

/// The endpoints' line items; `None` when the stack creates none.
pub fn estimate(ctx: &Context) -> Option<ServiceCost> {
    let config = ctx.config;
    if !config.in_vpc() {
        return None;
    }
    if !config.vpc_create_endpoints {
        return Some(ServiceCost::new("VPC", Vec::new()).assume(
            "VPC: the stack creates no endpoints (vpc_create_endpoints = false), so the function \
             reaches DynamoDB and SQS through the VPC's own endpoints or NAT gateway, which are \
             not priced here (a NAT gateway bills per hour and per GB processed)",
        ));
    }
    let w = ctx.workload;
    let p = ctx.prices;
    let zones = config.vpc_subnet_ids.len();
    // The dead letters' SendMessageBatch bodies are what crosses the SQS endpoint.
    let letter = (w.load.avg_event_bytes * 4.0 / 3.0).ceil() + DEAD_LETTER_ENVELOPE_BYTES;
    let items = vec![
        LineItem::new(
            format!("SQS interface endpoint ({zones} AZ{})", plural(zones)),
            zones as f64 * HOURS_PER_MONTH,
            "AZ-hour",
            p.vpc_interface_endpoint_az_hour,
        ),
        LineItem::new(
            "Data through the SQS endpoint (the dead letters)".into(),
            w.invalid_events * letter / BYTES_PER_GB,
            "GB",
            p.vpc_interface_endpoint_gb,
        ),
    ];
    Some(ServiceCost::new("VPC", items).assume(
        "VPC: one SQS interface endpoint network interface per subnet (each in its own \
         Availability Zone); the DynamoDB gateway endpoint is free; requests' headers and TLS \
         overhead are not counted",
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{estimate as total, DEFAULT_LOAD};
    use crate::config::Config;

    fn in_vpc(endpoints: bool) -> Config {
        let config = Config {
            vpc_subnet_ids: vec!["subnet-0a1b2c3d".into(), "subnet-0a1b2c3e".into()],
            vpc_id: "vpc-0a1b2c3d".into(),
            vpc_create_endpoints: endpoints,
            vpc_route_table_ids: if endpoints {
                vec!["rtb-0a1b2c3d".into()]
            } else {
                Vec::new()
            },
            ..Config::default()
        };
        config.validate().expect("valid");
        config
    }

    #[test]
    fn the_interface_endpoint_is_billed_per_zone_hour_and_gb() {
        let estimate = total(&in_vpc(true), DEFAULT_LOAD).unwrap();
        let vpc = estimate.service("VPC").expect("priced");
        assert_eq!(vpc.line_items[0].item, "SQS interface endpoint (2 AZs)");
        assert!((vpc.monthly_usd() - 2.0 * 730.0 * 0.01).abs() < 1e-9);
        // No invalid events at the default load: nothing crosses the endpoint.
        assert_eq!(vpc.line_items[1].quantity, 0.0);
    }

    #[test]
    fn without_endpoints_or_vpc_nothing_is_priced_and_the_first_says_why() {
        let estimate = total(&in_vpc(false), DEFAULT_LOAD).unwrap();
        let vpc = estimate.service("VPC").expect("listed");
        assert_eq!(vpc.monthly_usd(), 0.0);
        assert!(
            vpc.assumptions[0].contains("NAT gateway"),
            "{:?}",
            vpc.assumptions
        );
        let outside = total(&Config::default(), DEFAULT_LOAD).unwrap();
        assert!(outside.service("VPC").is_none());
    }
}
