//! Rules between keys: a starting timestamp goes with AT_TIMESTAMP and only with it, the
//! mapping's filters fit Lambda's quota, INCLUDE lists its attributes, a recovery period
//! needs point-in-time recovery, the on-demand caps need on-demand billing, and the VPC keys
//! describe one placement the stack can build. Each violation names the key at fault and, in
//! its rule, the key it conflicts with.

use toml::Value;

use super::error::Violation;
use super::filters::MAX_FILTERS;
use super::keys::show;
use super::{BillingMode, Config, GsiProjection, StartingPosition, DEFAULT_PITR_RECOVERY_DAYS};

/// Every broken combination of the consumer keys.
pub fn violations(config: &Config) -> Vec<Violation> {
    let mut found = Vec::new();
    found.extend(starting_position(config));
    found.extend(filter_count(config));
    found.extend(filter_encryption(config));
    found.extend(projection(config));
    found.extend(recovery_period(config));
    found.extend(on_demand_caps(config));
    found.extend(vpc(config));
    found
}

/// A recovery period other than DynamoDB's default needs point-in-time recovery: without
/// continuous backups there is nothing to restore, and a period that silently does nothing
/// would read as a protection the stack does not have.
fn recovery_period(config: &Config) -> Option<Violation> {
    let days = config.dynamodb_pitr_recovery_days;
    let without_backups = !config.dynamodb_point_in_time_recovery_enabled;
    (without_backups && days != DEFAULT_PITR_RECOVERY_DAYS).then(|| {
        Violation::rule(
            "dynamodb_pitr_recovery_days",
            format!(
                "be {DEFAULT_PITR_RECOVERY_DAYS} (the default) unless \
                 dynamodb_point_in_time_recovery_enabled is true (it is false: there are no \
                 backups to restore)"
            ),
            days.to_string(),
        )
    })
}

/// The on-demand caps exist only on demand: CloudFormation refuses `OnDemandThroughput` on a
/// provisioned table, whose capacity keys already bound it.
fn on_demand_caps(config: &Config) -> Vec<Violation> {
    if config.dynamodb_billing_mode != BillingMode::Provisioned {
        return Vec::new();
    }
    [
        (
            "dynamodb_max_on_demand_write_units",
            config.dynamodb_max_on_demand_write_units,
            "dynamodb_max_write_capacity",
        ),
        (
            "dynamodb_max_on_demand_read_units",
            config.dynamodb_max_on_demand_read_units,
            "dynamodb_max_read_capacity",
        ),
    ]
    .into_iter()
    .filter(|(_, units, _)| *units != 0)
    .map(|(key, units, instead)| {
        Violation::rule(
            key,
            format!(
                "be 0 (no cap) when dynamodb_billing_mode is PROVISIONED (caps are for \
                 PAY_PER_REQUEST; {instead} bounds a provisioned table)"
            ),
            units.to_string(),
        )
    })
    .collect()
}

fn starting_position(config: &Config) -> Option<Violation> {
    const KEY: &str = "lambda_starting_position_timestamp";
    let at_timestamp = config.lambda_starting_position == StartingPosition::AtTimestamp;
    let timestamp = config.lambda_starting_position_timestamp;
    match (at_timestamp, timestamp) {
        (true, 0) => Some(Violation::rule(
            KEY,
            "be set to the time to start reading from, in epoch seconds, when \
             lambda_starting_position is AT_TIMESTAMP",
            "0 (not set)",
        )),
        (false, 1..) => Some(Violation::rule(
            KEY,
            format!(
                "be 0 (not set) unless lambda_starting_position is AT_TIMESTAMP (it is {})",
                config.lambda_starting_position
            ),
            timestamp.to_string(),
        )),
        _ => None,
    }
}

/// INCLUDE lists what it includes, the other projections list nothing, and nothing twice.
fn projection(config: &Config) -> Option<Violation> {
    const KEY: &str = "dynamodb_gsi_include_attributes";
    let attributes = &config.dynamodb_gsi_include_attributes;
    let include = config.dynamodb_gsi_projection == GsiProjection::Include;
    if include && attributes.is_empty() {
        return Some(Violation::rule(
            KEY,
            "list at least one attribute when dynamodb_gsi_projection is INCLUDE",
            "[]",
        ));
    }
    if !include && !attributes.is_empty() {
        return Some(Violation::rule(
            KEY,
            format!(
                "be empty unless dynamodb_gsi_projection is INCLUDE (it is {})",
                config.dynamodb_gsi_projection
            ),
            show(&list(attributes)),
        ));
    }
    let repeated = attributes
        .iter()
        .enumerate()
        .find(|(i, a)| attributes[..*i].contains(a))?;
    Some(Violation::rule(
        KEY,
        "not list an attribute twice",
        show(&Value::String(repeated.1.clone())),
    ))
}

fn filter_count(config: &Config) -> Option<Violation> {
    let by_type = usize::from(!config.lambda_filter_event_types.is_empty());
    let patterns = config.lambda_filter_patterns.len();
    (by_type + patterns > MAX_FILTERS).then(|| {
        let room = MAX_FILTERS - by_type;
        let rule = if by_type == 1 {
            format!(
                "have at most {room} patterns when lambda_filter_event_types is set (it takes \
                 one of the {MAX_FILTERS} filters per event source mapping, Lambda's default \
                 quota)"
            )
        } else {
            format!(
                "have at most {room} patterns ({MAX_FILTERS} filters per event source mapping, \
                 Lambda's default quota)"
            )
        };
        Violation::rule(
            "lambda_filter_patterns",
            rule,
            format!("{patterns} patterns"),
        )
    })
}

/// `lambda_filter_encryption = true` asks for encrypted filters: without a filter there is
/// nothing to encrypt, and the stack would not be what the configuration says. Refused, like
/// `vpc_create_endpoints` without subnets; `false` without filters is what happens anyway.
fn filter_encryption(config: &Config) -> Option<Violation> {
    (config.lambda_filter_encryption == Some(true) && !config.has_filters()).then(|| {
        Violation::rule(
            "lambda_filter_encryption",
            "be left unset or false while lambda_filter_event_types and lambda_filter_patterns \
             are both empty (there are no filters to encrypt); set a filter too",
            "true",
        )
    })
}

fn vpc(config: &Config) -> Vec<Violation> {
    if config.in_vpc() {
        placed(config)
    } else {
        unplaced(config)
    }
}

/// Without subnets there is no VPC placement: every other VPC key must stay unset.
fn unplaced(config: &Config) -> Vec<Violation> {
    let set: [(&str, bool, Value); 4] = [
        (
            "vpc_security_group_ids",
            !config.vpc_security_group_ids.is_empty(),
            list(&config.vpc_security_group_ids),
        ),
        (
            "vpc_id",
            !config.vpc_id.is_empty(),
            Value::String(config.vpc_id.clone()),
        ),
        (
            "vpc_route_table_ids",
            !config.vpc_route_table_ids.is_empty(),
            list(&config.vpc_route_table_ids),
        ),
        (
            "vpc_create_endpoints",
            config.vpc_create_endpoints,
            Value::Boolean(config.vpc_create_endpoints),
        ),
    ];
    set.into_iter()
        .filter(|(_, is_set, _)| *is_set)
        .map(|(key, _, value)| {
            Violation::rule(
                key,
                "stay unset while vpc_subnet_ids is empty (the function runs in no VPC); \
                 list the subnets too",
                show(&value),
            )
        })
        .collect()
}

/// With subnets: what the stack creates needs vpc_id, and the route tables go with the
/// endpoints.
fn placed(config: &Config) -> Vec<Violation> {
    let mut found = Vec::new();
    let creates_group = config.vpc_security_group_ids.is_empty();
    if config.vpc_id.is_empty() && (creates_group || config.vpc_create_endpoints) {
        let why = match (creates_group, config.vpc_create_endpoints) {
            (true, true) => {
                "vpc_security_group_ids is empty and vpc_create_endpoints is true (the stack \
                 creates the function's security group and the endpoints in it)"
            }
            (true, false) => {
                "vpc_subnet_ids is set and vpc_security_group_ids is empty (the stack creates \
                 the function's security group in it)"
            }
            _ => "vpc_create_endpoints is true (the stack creates the endpoints in it)",
        };
        found.push(Violation::rule(
            "vpc_id",
            format!("be the subnets' VPC when {why}"),
            "\"\"",
        ));
    }
    let tables = &config.vpc_route_table_ids;
    if config.vpc_create_endpoints && tables.is_empty() {
        found.push(Violation::rule(
            "vpc_route_table_ids",
            "list the route tables of vpc_subnet_ids when vpc_create_endpoints is true (the \
             DynamoDB gateway endpoint is added to them)",
            "[]",
        ));
    }
    if !config.vpc_create_endpoints && !tables.is_empty() {
        found.push(Violation::rule(
            "vpc_route_table_ids",
            "be empty unless vpc_create_endpoints is true (only the DynamoDB gateway endpoint \
             uses them)",
            show(&list(tables)),
        ));
    }
    if tables.len() > config.vpc_subnet_ids.len() {
        found.push(Violation::rule(
            "vpc_route_table_ids",
            format!(
                "list at most as many route tables as vpc_subnet_ids has subnets ({}): each \
                 subnet has one",
                config.vpc_subnet_ids.len()
            ),
            format!("{} route tables", tables.len()),
        ));
    }
    found
}

fn list(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    fn load(sets: &[&str]) -> Result<Config, ConfigError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::load(None, None, &sets)
    }

    fn error(sets: &[&str]) -> String {
        load(sets).expect_err("refused").to_string()
    }

    const SUBNETS: &str = r#"vpc_subnet_ids=["subnet-0123456789abcdef0","subnet-0a1b2c3d"]"#;
    const VPC: &str = "vpc_id=vpc-0123456789abcdef0";
    const TABLES: &str = r#"vpc_route_table_ids=["rtb-0123456789abcdef0"]"#;
    const GROUPS: &str = r#"vpc_security_group_ids=["sg-0123456789abcdef0"]"#;

    #[test]
    fn at_timestamp_and_its_timestamp_come_together_and_name_each_other() {
        assert_eq!(
            error(&["lambda_starting_position=AT_TIMESTAMP"]),
            "lambda_starting_position_timestamp must be set to the time to start reading \
             from, in epoch seconds, when lambda_starting_position is AT_TIMESTAMP, got 0 \
             (not set)"
        );
        assert_eq!(
            error(&["lambda_starting_position_timestamp=1764633600"]),
            "lambda_starting_position_timestamp must be 0 (not set) unless \
             lambda_starting_position is AT_TIMESTAMP (it is LATEST), got 1764633600 (from \
             --set lambda_starting_position_timestamp=1764633600)"
        );
        let both = load(&[
            "lambda_starting_position=AT_TIMESTAMP",
            "lambda_starting_position_timestamp=1764633600",
        ])
        .expect("valid");
        assert_eq!(both.lambda_starting_position_timestamp, 1_764_633_600);
        // Milliseconds are refused by the range, naming it.
        assert!(error(&[
            "lambda_starting_position=AT_TIMESTAMP",
            "lambda_starting_position_timestamp=1764633600000",
        ])
        .starts_with(
            "lambda_starting_position_timestamp must be 0 (not set) or between 1 and \
             4102444799, got 1764633600000"
        ));
    }

    /// Filters are encrypted unless the configuration says false; true without a filter
    /// promises an encryption that cannot happen and is refused, naming the filter keys and
    /// where the true came from.
    #[test]
    fn filter_encryption_follows_the_filters_and_true_needs_one() {
        let types = r#"lambda_filter_event_types=["purchase"]"#;
        let pattern = r#"lambda_filter_patterns=["{\"data\": {\"eventScore\": [10]}}"]"#;
        assert!(!load(&[]).unwrap().filters_encrypted(), "no filters");
        assert!(load(&[types]).unwrap().filters_encrypted());
        assert!(load(&[pattern]).unwrap().filters_encrypted());
        assert!(load(&[types, "lambda_filter_encryption=true"])
            .unwrap()
            .filters_encrypted());
        assert!(!load(&[types, "lambda_filter_encryption=false"])
            .unwrap()
            .filters_encrypted());
        assert!(!load(&["lambda_filter_encryption=false"])
            .unwrap()
            .filters_encrypted());
        assert_eq!(
            error(&["lambda_filter_encryption=true"]),
            "lambda_filter_encryption must be left unset or false while \
             lambda_filter_event_types and lambda_filter_patterns are both empty (there are no \
             filters to encrypt); set a filter too, got true (from --set \
             lambda_filter_encryption=true)"
        );
        assert!(error(&["lambda_filter_encryption=yes"])
            .starts_with("lambda_filter_encryption must be true or false"));
    }

    #[test]
    fn five_filters_fit_and_a_sixth_is_refused() {
        let patterns = |n: usize| {
            let list: Vec<String> = (0..n)
                .map(|i| format!(r#""{{\"data\": {{\"n\": [{i}]}}}}""#))
                .collect();
            format!("lambda_filter_patterns=[{}]", list.join(","))
        };
        assert!(load(&[&patterns(5)]).is_ok());
        assert!(load(&[r#"lambda_filter_event_types=["view"]"#, &patterns(4)]).is_ok());
        assert!(
            error(&[r#"lambda_filter_event_types=["view"]"#, &patterns(5)]).starts_with(
                "lambda_filter_patterns must have at most 4 patterns when \
             lambda_filter_event_types is set (it takes one of the 5 filters per event \
             source mapping, Lambda's default quota), got 5 patterns (from --set \
             lambda_filter_patterns="
            )
        );
        assert!(error(&[&patterns(6)]).starts_with(
            "lambda_filter_patterns must have at most 5 patterns (5 filters per event source \
             mapping, Lambda's default quota), got 6 patterns"
        ));
    }

    #[test]
    fn a_bad_pattern_or_event_type_is_refused_naming_the_key_and_the_entry() {
        assert_eq!(
            error(&[
                r#"lambda_filter_patterns=["{\"data\": {\"eventType\": [\"view\"]}}", "[1]"]"#
            ]),
            "lambda_filter_patterns must contain only Lambda filter patterns (not a JSON \
             object), got \"[1]\" (from --set lambda_filter_patterns=[\"{\\\"data\\\": \
             {\\\"eventType\\\": [\\\"view\\\"]}}\", \"[1]\"])"
        );
        assert_eq!(
            error(&[r#"lambda_filter_event_types=["view", ""]"#]),
            "lambda_filter_event_types must contain only event types of 1 to 64 printable \
             characters, got \"\" (from --set lambda_filter_event_types=[\"view\", \"\"])"
        );
        assert!(
            error(&[r#"lambda_filter_event_types=["view", "view"]"#]).starts_with(
                "lambda_filter_event_types must not list an event type twice, got \"view\""
            )
        );
    }

    #[test]
    fn include_lists_what_it_includes_and_only_include_does() {
        assert_eq!(
            error(&["dynamodb_gsi_projection=INCLUDE"]),
            "dynamodb_gsi_include_attributes must list at least one attribute when \
             dynamodb_gsi_projection is INCLUDE, got []"
        );
        assert_eq!(
            error(&[r#"dynamodb_gsi_include_attributes=["eventScore"]"#]),
            "dynamodb_gsi_include_attributes must be empty unless dynamodb_gsi_projection is \
             INCLUDE (it is ALL), got [\"eventScore\"] (from --set \
             dynamodb_gsi_include_attributes=[\"eventScore\"])"
        );
        assert!(error(&[
            "dynamodb_gsi_projection=INCLUDE",
            r#"dynamodb_gsi_include_attributes=["eventScore","eventScore"]"#,
        ])
        .starts_with(
            "dynamodb_gsi_include_attributes must not list an attribute twice, got \"eventScore\""
        ));
        assert!(error(&[
            "dynamodb_gsi_projection=INCLUDE",
            r#"dynamodb_gsi_include_attributes=["userId"]"#,
        ])
        .starts_with(
            "dynamodb_gsi_include_attributes must contain only sessionId, eventScore, \
             engagementLevel, insight, processedAt, processingLatency, version, originalEvent, \
             expiresAt, got \"userId\""
        ));
        assert!(load(&[
            "dynamodb_gsi_projection=INCLUDE",
            r#"dynamodb_gsi_include_attributes=["eventScore","insight"]"#,
        ])
        .is_ok());
    }

    #[test]
    fn vpc_keys_without_subnets_are_refused_one_by_one() {
        let message = error(&[GROUPS, VPC, TABLES, "vpc_create_endpoints=true"]);
        for key in [
            "vpc_security_group_ids",
            "vpc_id",
            "vpc_route_table_ids",
            "vpc_create_endpoints",
        ] {
            let line = format!(
                "{key} must stay unset while vpc_subnet_ids is empty (the function runs in no \
                 VPC); list the subnets too"
            );
            assert!(message.contains(&line), "{key}: {message}");
        }
        assert!(
            message.starts_with("4 problems in the configuration:"),
            "{message}"
        );
    }

    #[test]
    fn what_the_stack_creates_needs_vpc_id_and_route_tables_go_with_endpoints() {
        assert_eq!(
            error(&[SUBNETS]),
            "vpc_id must be the subnets' VPC when vpc_subnet_ids is set and \
             vpc_security_group_ids is empty (the stack creates the function's security group \
             in it), got \"\""
        );
        assert_eq!(
            error(&[SUBNETS, GROUPS, TABLES, "vpc_create_endpoints=true"]),
            "vpc_id must be the subnets' VPC when vpc_create_endpoints is true (the stack \
             creates the endpoints in it), got \"\""
        );
        assert_eq!(
            error(&[SUBNETS, VPC, "vpc_create_endpoints=true"]),
            "vpc_route_table_ids must list the route tables of vpc_subnet_ids when \
             vpc_create_endpoints is true (the DynamoDB gateway endpoint is added to them), \
             got []"
        );
        assert!(error(&[SUBNETS, VPC, TABLES]).starts_with(
            "vpc_route_table_ids must be empty unless vpc_create_endpoints is true (only the \
             DynamoDB gateway endpoint uses them), got [\"rtb-0123456789abcdef0\"]"
        ));
        let three = r#"vpc_route_table_ids=["rtb-0a1b2c3d","rtb-0a1b2c3e","rtb-0a1b2c3f"]"#;
        assert!(
            error(&[SUBNETS, VPC, three, "vpc_create_endpoints=true"]).starts_with(
                "vpc_route_table_ids must list at most as many route tables as vpc_subnet_ids has \
             subnets (2): each subnet has one, got 3 route tables"
            )
        );
        // The placements the stack can build.
        for sets in [
            vec![SUBNETS, GROUPS],
            vec![SUBNETS, VPC],
            vec![SUBNETS, GROUPS, VPC],
            vec![SUBNETS, VPC, TABLES, "vpc_create_endpoints=true"],
            vec![SUBNETS, GROUPS, VPC, TABLES, "vpc_create_endpoints=true"],
        ] {
            assert!(load(&sets).is_ok(), "{sets:?}: {:?}", load(&sets).err());
        }
    }
}
