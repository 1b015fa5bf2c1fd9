//! CloudWatch Contributor Insights for DynamoDB (`dynamodb_contributor_insights`), billed by
//! CloudWatch: a monthly fee per rule, and a fee per million DynamoDB events the rules see.
//!
//! ```text
//! rules  = Σ over the table and each index with it on:
//!          (1 + has a sort key) × (1 with throttled-keys, 2 with all)
//! events = all:            every item written to each such table or index (stored events each)
//!          throttled-keys: throttled requests only: none at a load within capacity
//! ```
//!
//! DynamoDB creates the rules itself: for each table or index, one for its partition keys
//! and, with a sort key, one for its partition and sort keys, for the most accessed keys and
//! for the most throttled ones (DynamoDB developer guide, "CloudWatch Contributor Insights
//! for DynamoDB: How it works"). THROTTLED_KEYS graphs only the throttled keys, so it counts
//! only their rules: AWS documents what the mode tracks, not which rules it keeps, and this is
//! the estimate's assumption, stated with the figures. Reads are events too with `all`; no
//! reads are in this estimate.

use super::super::LineItem;
use super::{dynamodb, Context};
use crate::cost::inventory::InsightsTarget;
use crate::cost::render::number;

/// Rules DynamoDB creates for one table or index.
fn rules(target: &InsightsTarget) -> usize {
    let per_kind = 1 + usize::from(target.sort_key);
    let kinds = 1 + usize::from(target.accessed);
    per_kind * kinds
}

/// Contributor Insights' line items and the assumption behind them; nothing when no table
/// or index of the template has it on.
pub fn cloudwatch_items(ctx: &Context) -> Option<(Vec<LineItem>, String)> {
    let targets = &ctx.inventory.contributor_insights;
    if targets.is_empty() {
        return None;
    }
    let p = ctx.prices;
    let indexes = targets.iter().filter(|t| t.index).count();
    let table = targets.len() - indexes;
    let rule_count: usize = targets.iter().map(rules).sum();
    let accessed = targets.iter().filter(|t| t.accessed).count();
    let mut items = vec![LineItem::new(
        format!(
            "Contributor Insights rules ({rule_count}: {} table{} and {indexes} GSI{})",
            table,
            if table == 1 { "" } else { "s" },
            if indexes == 1 { "" } else { "s" },
        ),
        rule_count as f64,
        "rule-month",
        p.cloudwatch_contributor_insights_rule_month,
    )];
    let events = dynamodb::stored_events(ctx) * accessed as f64;
    if accessed > 0 {
        items.push(LineItem::new(
            format!(
                "Contributor Insights events ({accessed} per stored event: its writes to the \
                 table and GSIs followed)"
            ),
            events / 1e6,
            "million events",
            p.cloudwatch_contributor_insights_million_events,
        ));
    }
    let mode = if accessed > 0 {
        format!(
            "accessed and throttled keys: every request is an event, {} million a month from \
             the writes (reads are events too and are not in this estimate)",
            number(events / 1e6)
        )
    } else {
        "throttled keys only: only throttled requests are events, none at a load the table \
         takes (this estimate warns when it would not)"
            .to_owned()
    };
    let assumption = format!(
        "Contributor Insights for DynamoDB (dynamodb_contributor_insights = {}): ${:.2} per rule a \
         month for the {rule_count} rules DynamoDB creates (per table or index, partition key \
         and partition and sort key, for each kind of key followed; throttled-keys is counted \
         with its throttled-key rules only) and ${:.2} per million DynamoDB events; {mode}. \
         CloudWatch's free tier (one rule, one million events) is not applied",
        ctx.config.dynamodb_contributor_insights,
        p.cloudwatch_contributor_insights_rule_month,
        p.cloudwatch_contributor_insights_million_events,
    );
    Some((items, assumption))
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ContributorInsights};
    use crate::cost::{estimate, LineItem, DEFAULT_LOAD, US_EAST_1};

    fn insights_items(config: &Config) -> Vec<LineItem> {
        let estimate = estimate(config, DEFAULT_LOAD).expect("estimates");
        estimate
            .service("CloudWatch")
            .unwrap()
            .line_items
            .iter()
            .filter(|i| i.item.starts_with("Contributor Insights"))
            .cloned()
            .collect()
    }

    fn with(insights: ContributorInsights) -> Config {
        Config {
            dynamodb_contributor_insights: insights,
            ..Config::default()
        }
    }

    #[test]
    fn off_costs_nothing() {
        assert!(insights_items(&Config::default()).is_empty());
    }

    /// Throttled keys: two rules for the table and each of its two indexes (all have a sort
    /// key), and no events at a load the table takes: 3 USD a month.
    #[test]
    fn throttled_keys_bill_their_rules_only() {
        let items = insights_items(&with(ContributorInsights::ThrottledKeys));
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(
            items[0].item,
            "Contributor Insights rules (6: 1 table and 2 GSIs)"
        );
        assert_eq!(items[0].quantity, 6.0);
        assert_eq!(items[0].monthly_usd, 3.0);
    }

    /// All: four rules each, and every item written to the table and both indexes is an
    /// event: 262.8 M events a month × 3 at 0.03 USD a million.
    #[test]
    fn all_bills_every_write_as_an_event() {
        let items = insights_items(&with(ContributorInsights::All));
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].quantity, 12.0);
        let events = 100.0 * 730.0 * 3600.0 * 3.0 / 1e6;
        assert!((items[1].quantity - events).abs() < 1e-9, "{:?}", items[1]);
        let usd = 12.0 * 0.5 + events * US_EAST_1.cloudwatch_contributor_insights_million_events;
        let total: f64 = items.iter().map(|i| i.monthly_usd).sum();
        assert!((total - usd).abs() < 1e-9, "{total} vs {usd}");
        assert!((total - 29.652).abs() < 0.001, "{total}");
    }

    /// A write cap bounds the events too: only the writes the table takes are requests.
    #[test]
    fn a_write_cap_bounds_the_events() {
        let capped = Config {
            dynamodb_max_on_demand_write_units: 50,
            ..with(ContributorInsights::All)
        };
        let items = insights_items(&capped);
        let events = 50.0 * 730.0 * 3600.0 * 3.0 / 1e6;
        assert!((items[1].quantity - events).abs() < 1e-9, "{:?}", items[1]);
    }
}
