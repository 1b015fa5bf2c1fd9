//! The function's configuration, read once at init from its environment. The variables'
//! names are the `contract` crate's, which the stack sets them by.

use std::time::Duration;

use contract::env;

use crate::index_shards::IndexShards;

/// What the processor needs to know about where it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of processed events (`TABLE_NAME`).
    pub table_name: String,
    /// URL of the dead-letter queue (`DLQ_URL`).
    pub dlq_url: String,
    /// CloudWatch namespace of the EMF metrics (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
    /// The function's name, a metric dimension and part of every dead letter
    /// (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda).
    pub function_name: String,
    /// `tracing` filter directive (`LOG_LEVEL`, default `info`).
    pub log_level: String,
    /// Time kept back from the invocation's deadline for the response (`SAFETY_MARGIN_MS`).
    pub safety_margin: Duration,
    /// BatchWriteItem requests in flight at once (`WRITE_CONCURRENCY`).
    pub write_concurrency: usize,
    /// Days after its event that an item expires (`ITEM_TTL_DAYS`, default 0: never); the
    /// items then carry the table's TTL attribute `expiresAt`.
    pub item_ttl_days: u32,
    /// EMF `StorageResolution` of `FailedEvents`: 1 (high) or 60 (standard, the default)
    /// (`FAILED_EVENTS_RESOLUTION`).
    pub failed_events_resolution: u32,
    /// Write shards of the indexes' partition keys (`INDEX_WRITE_SHARDS`, default 1: the
    /// plain keys); with more, the items carry `eventTypeShard` and `productIdShard`.
    pub index_write_shards: IndexShards,
    /// The failure archive's bucket (`FAILURE_BUCKET`; unset or empty: none): a dead letter
    /// too large for an SQS message keeps its record's bytes there (a claim check).
    pub failure_bucket: Option<String>,
    /// The event archive's bucket (`ARCHIVE_BUCKET`; unset or empty: none): every
    /// invocation writes its batch there before it answers.
    pub archive_bucket: Option<String>,
    /// The per-minute aggregate table (`AGGREGATE_TABLE`; unset or empty: none): a
    /// tumbling window's figures are written there at its end.
    pub aggregate_table: Option<String>,
}

/// A variable that is missing or unusable; init fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error(
        "environment variable {0} is not set; the stack sets it on the function (see crates/synth)"
    )]
    Missing(&'static str),
    /// A variable is set but empty or malformed.
    #[error("environment variable {name} must be {rule}, got {value:?}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it must be.
        rule: &'static str,
        /// What it was.
        value: String,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration deployed function `function_name` with `environment` runs with,
    /// writing to `table` and `dlq_url` instead of its TABLE_NAME and DLQ_URL (the
    /// emulator's and redrive's choices, which may be overrides): what the function would do
    /// with every variable it reads (TTL, index write shards, ...), the caller does too.
    /// Lambda sets the function's name at run time, so it is given here.
    pub fn for_function(
        function_name: &str,
        environment: &std::collections::HashMap<String, String>,
        table: &str,
        dlq_url: &str,
    ) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| match name {
            env::FUNCTION_NAME => Some(function_name.to_owned()),
            env::TABLE_NAME => Some(table.to_owned()),
            env::DLQ_URL => Some(dlq_url.to_owned()),
            _ => environment.get(name).cloned(),
        })
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| -> Result<String, ConfigError> {
            match lookup(name) {
                None => Err(ConfigError::Missing(name)),
                Some(value) if value.trim().is_empty() => Err(ConfigError::Invalid {
                    name,
                    rule: "non-empty",
                    value,
                }),
                Some(value) => Ok(value),
            }
        };
        let number = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(ConfigError::Invalid {
                        name,
                        rule: "a whole number in range",
                        value,
                    }),
                },
            }
        };
        let concurrency = number(env::WRITE_CONCURRENCY, 8, 64)?;
        let ttl_days = number(env::ITEM_TTL_DAYS, 0, u64::from(env::MAX_ITEM_TTL_DAYS))?;
        let resolution = match lookup(env::FAILED_EVENTS_RESOLUTION) {
            None => 60,
            Some(value) => match value.trim() {
                "1" => 1,
                "60" => 60,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: env::FAILED_EVENTS_RESOLUTION,
                        rule: "1 (high resolution) or 60 (standard)",
                        value,
                    })
                }
            },
        };
        let index_write_shards = index_write_shards(lookup(env::INDEX_WRITE_SHARDS))?;
        // A bucket name has no spaces; an empty (or blank) value is how a template says "none".
        let bucket = |name: &'static str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        Ok(Config {
            table_name: required(env::TABLE_NAME)?,
            dlq_url: required(env::DLQ_URL)?,
            metrics_namespace: lookup(env::METRICS_NAMESPACE)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| contract::metrics::DEFAULT_NAMESPACE.to_owned()),
            function_name: lookup(env::FUNCTION_NAME).unwrap_or_else(|| "processor".to_owned()),
            log_level: lookup(env::LOG_LEVEL).unwrap_or_else(|| "info".to_owned()),
            safety_margin: Duration::from_millis(number(env::SAFETY_MARGIN_MS, 2_000, 60_000)?),
            write_concurrency: usize::try_from(concurrency.max(1)).unwrap_or(8),
            item_ttl_days: u32::try_from(ttl_days).unwrap_or(0),
            failed_events_resolution: resolution,
            index_write_shards,
            failure_bucket: bucket(env::FAILURE_BUCKET),
            archive_bucket: bucket(env::ARCHIVE_BUCKET),
            aggregate_table: bucket(env::AGGREGATE_TABLE),
        })
    }
}

/// `INDEX_WRITE_SHARDS` as the processor reads it: unset is 1 (nothing added), `1` to
/// `100` that many shards, anything else an error naming the variable and the value. For
/// the tools that stand in for the function (local-runner, redrive) or read what it wrote
/// (query), so they read the deployed function's environment by the same rule.
pub fn index_write_shards(value: Option<String>) -> Result<IndexShards, ConfigError> {
    contract::index::write_shards_of(value.as_deref())
        .and_then(IndexShards::new)
        .ok_or_else(|| ConfigError::Invalid {
            name: env::INDEX_WRITE_SHARDS,
            rule: "a whole number from 1 to 100",
            value: value.unwrap_or_default(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    use contract::env::{DLQ_URL, TABLE_NAME, WRITE_CONCURRENCY};

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn a_missing_variable_is_named() {
        assert_eq!(
            config(&[(DLQ_URL, "u")]),
            Err(ConfigError::Missing(TABLE_NAME))
        );
        assert_eq!(
            config(&[(TABLE_NAME, "t")]),
            Err(ConfigError::Missing(DLQ_URL))
        );
        let message = ConfigError::Missing(TABLE_NAME).to_string();
        assert!(message.contains(TABLE_NAME), "{message}");
    }

    #[test]
    fn defaults_fill_the_optional_variables() {
        let c = config(&[(TABLE_NAME, "t"), (DLQ_URL, "u")]).unwrap();
        assert_eq!(c.metrics_namespace, contract::metrics::DEFAULT_NAMESPACE);
        assert_eq!(c.write_concurrency, 8);
        assert_eq!(c.safety_margin, Duration::from_secs(2));
        assert_eq!(c.item_ttl_days, 0);
    }

    #[test]
    fn failed_events_resolution_is_1_or_60() {
        use contract::env::FAILED_EVENTS_RESOLUTION as RES;
        let base = [(TABLE_NAME, "t"), (DLQ_URL, "u")];
        assert_eq!(config(&base).unwrap().failed_events_resolution, 60);
        let high = config(&[base[0], base[1], (RES, "1")]).unwrap();
        assert_eq!(high.failed_events_resolution, 1);
        let bad = config(&[base[0], base[1], (RES, "10")]);
        assert!(
            matches!(bad, Err(ConfigError::Invalid { name: RES, .. })),
            "{bad:?}"
        );
    }

    #[test]
    fn item_ttl_days_is_read_and_bounded() {
        use contract::env::ITEM_TTL_DAYS;
        let c = config(&[(TABLE_NAME, "t"), (DLQ_URL, "u"), (ITEM_TTL_DAYS, "30")]).unwrap();
        assert_eq!(c.item_ttl_days, 30);
        for bad in ["3651", "-1", "a month"] {
            let result = config(&[(TABLE_NAME, "t"), (DLQ_URL, "u"), (ITEM_TTL_DAYS, bad)]);
            assert!(
                matches!(
                    result,
                    Err(ConfigError::Invalid {
                        name: ITEM_TTL_DAYS,
                        ..
                    })
                ),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn index_write_shards_is_1_to_100() {
        use contract::env::INDEX_WRITE_SHARDS as SHARDS;
        let base = [(TABLE_NAME, "t"), (DLQ_URL, "u")];
        let shards = |value: &str| config(&[base[0], base[1], (SHARDS, value)]);
        assert_eq!(config(&base).unwrap().index_write_shards, IndexShards::NONE);
        assert_eq!(shards("1").unwrap().index_write_shards, IndexShards::NONE);
        assert_eq!(shards("8").unwrap().index_write_shards.count(), 8);
        assert_eq!(shards(" 100 ").unwrap().index_write_shards.count(), 100);
        for bad in ["0", "101", "-1", "8.0", "eight", ""] {
            let err = shards(bad).unwrap_err();
            assert_eq!(
                err,
                ConfigError::Invalid {
                    name: SHARDS,
                    rule: "a whole number from 1 to 100",
                    value: bad.to_owned(),
                }
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "environment variable INDEX_WRITE_SHARDS must be a whole number from 1 \
                     to 100, got {bad:?}"
                )
            );
        }
    }

    #[test]
    fn malformed_numbers_and_empty_values_are_refused() {
        let bad = config(&[
            (TABLE_NAME, "t"),
            (DLQ_URL, "u"),
            (WRITE_CONCURRENCY, "lots"),
        ]);
        assert!(matches!(
            bad,
            Err(ConfigError::Invalid {
                name: WRITE_CONCURRENCY,
                ..
            })
        ));
        let empty = config(&[(TABLE_NAME, " "), (DLQ_URL, "u")]);
        assert!(matches!(
            empty,
            Err(ConfigError::Invalid {
                name: TABLE_NAME,
                ..
            })
        ));
    }

    #[test]
    fn the_archive_buckets_are_optional_and_empty_is_unset() {
        use contract::env::{ARCHIVE_BUCKET, FAILURE_BUCKET};
        let base = [(TABLE_NAME, "t"), (DLQ_URL, "u")];
        let unset = config(&base).unwrap();
        assert_eq!(unset.failure_bucket, None);
        assert_eq!(unset.archive_bucket, None);
        let set = config(&[
            base[0],
            base[1],
            (FAILURE_BUCKET, "retail-failures"),
            (ARCHIVE_BUCKET, " retail-archive "),
        ])
        .unwrap();
        assert_eq!(set.failure_bucket.as_deref(), Some("retail-failures"));
        assert_eq!(set.archive_bucket.as_deref(), Some("retail-archive"));
        for empty in ["", "  "] {
            let c = config(&[
                base[0],
                base[1],
                (FAILURE_BUCKET, empty),
                (ARCHIVE_BUCKET, empty),
            ])
            .unwrap();
            assert_eq!(
                (c.failure_bucket, c.archive_bucket),
                (None, None),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn a_deployed_functions_buckets_come_from_its_environment() {
        use contract::env::{ARCHIVE_BUCKET, FAILURE_BUCKET};
        let environment: HashMap<String, String> = [
            (FAILURE_BUCKET.to_owned(), "f".to_owned()),
            (ARCHIVE_BUCKET.to_owned(), String::new()),
        ]
        .into_iter()
        .collect();
        let c = Config::for_function("fn", &environment, "t", "u").unwrap();
        assert_eq!(c.failure_bucket.as_deref(), Some("f"));
        assert_eq!(c.archive_bucket, None);
    }

    /// What the stack may set is exactly what the processor reads (besides Lambda's own
    /// variables): synth's tests check the stack against the same lists.
    #[test]
    fn the_processor_reads_exactly_the_contract_variables() {
        let asked = RefCell::new(Vec::new());
        let config = Config::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            Some("1".to_owned())
        });
        assert!(config.is_ok(), "{config:?}");
        let mut asked = asked.into_inner();
        asked.sort();
        let mut read: Vec<String> = contract::env::READ.iter().map(|v| v.to_string()).collect();
        read.sort();
        assert_eq!(asked, read);
    }

    #[test]
    fn every_required_variable_is_refused_when_missing() {
        for missing in contract::env::REQUIRED {
            let result = Config::from_lookup(|name| (name != *missing).then(|| "1".to_owned()));
            assert_eq!(result, Err(ConfigError::Missing(missing)));
        }
    }
}
