//! CodeDeploy, with a gradual `deploy_strategy` (docs/canary.md): what the stack adds for
//! it is counted from the template and priced at what AWS charges for it, nothing. A
//! deployment to Lambda is free (the CodeDeploy pricing page; only on-premises instance
//! updates are billed), and a published version is billed neither: its code counts toward
//! Lambda's 75 GB code storage quota per Region. The canary's invocations are the stream's
//! invocations split between two versions, so Lambda's line items do not change; the
//! deployment group watches alarms the stack has anyway.

use super::super::{LineItem, ServiceCost};
use super::Context;

/// The deployment group's and the version's line items, at zero; `None` when the template
/// has no deployment group (`all-at-once`).
pub fn estimate(ctx: &Context) -> Option<ServiceCost> {
    let inventory = ctx.inventory;
    if inventory.deployment_configs.is_empty() {
        return None;
    }
    let items = vec![
        LineItem::new(
            format!(
                "Deployments to Lambda ({}), any number a month",
                inventory.deployment_configs.join(", ")
            ),
            inventory.deployment_configs.len() as f64,
            "deployment group",
            ctx.prices.codedeploy_lambda_deployment,
        ),
        LineItem::new(
            "Published versions (code storage, within Lambda's quota)".into(),
            inventory.function_versions as f64,
            "version",
            0.0,
        ),
    ];
    Some(ServiceCost::new("CodeDeploy", items).assume(
        "CodeDeploy: a gradual deploy_strategy adds a CodeDeploy application, deployment group \
         and service role, a published version and an alias, all free: CodeDeploy charges \
         nothing for deployments to Lambda, and a version's code only counts toward Lambda's \
         75 GB code storage quota (kept versions add up: docs/canary.md says how to delete old \
         ones); a canary splits the same invocations between two versions, and the group \
         watches alarms the stack has anyway",
    ))
}

#[cfg(test)]
mod tests {
    use super::super::super::{estimate as total, DEFAULT_LOAD};
    use crate::config::{Config, DeployStrategy};

    #[test]
    fn a_gradual_strategy_is_listed_and_costs_nothing() {
        let all_at_once = total(&Config::default(), DEFAULT_LOAD).unwrap();
        assert!(all_at_once.service("CodeDeploy").is_none());
        let canary = Config {
            deploy_strategy: DeployStrategy::Canary10Percent5Minutes,
            ..Config::default()
        };
        let estimate = total(&canary, DEFAULT_LOAD).unwrap();
        let codedeploy = estimate.service("CodeDeploy").expect("listed");
        assert_eq!(codedeploy.monthly_usd(), 0.0);
        assert_eq!(
            codedeploy.line_items[0].item,
            "Deployments to Lambda (CodeDeployDefault.LambdaCanary10Percent5Minutes), any number a month"
        );
        assert_eq!(codedeploy.line_items[1].quantity, 1.0);
        assert!(codedeploy.assumptions[0].contains("75 GB"));
        // Nothing else changes: the same alarms, the same invocations.
        assert!((estimate.total_usd() - all_at_once.total_usd()).abs() < 1e-9);
    }
}
