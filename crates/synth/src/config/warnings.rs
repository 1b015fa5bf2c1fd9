//! What synth says about a valid configuration without refusing it.
//!
//! Alarms without an address: the stack always creates its alarms, but their topic and
//! e-mail subscription only when `sns_email_endpoint` (or the `AlertEmail` parameter at
//! deploy time) names an address; without one, an alarm changes state and tells no one,
//! so synth says which key to set ([`unheard_alarms`]).
//!
//! AWS documents no conflict between tumbling windows (`aggregate_window_seconds`) and a
//! parallelization factor over 1, bisecting failed batches, or an enhanced fan-out consumer,
//! so synth builds such a stack; but AWS documents neither how windows behave with them, so
//! synth says so, once per combination, wherever it reports on a configuration or template
//! (`synth` and `--out-dir` on stderr, `synth diff` when a template brings the combination).

use super::{Config, ConsumerMode};

/// The mapping's settings the warnings read, from a configuration or a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowedMapping {
    /// `TumblingWindowInSeconds` (`aggregate_window_seconds`); 0 for none.
    pub window_seconds: u32,
    /// `ParallelizationFactor` (`lambda_parallelization_factor`).
    pub parallelization_factor: u32,
    /// `BisectBatchOnFunctionError` (`lambda_bisect_batch_on_function_error`).
    pub bisect: bool,
    /// The mapping reads through an enhanced fan-out consumer (`kinesis_consumer`).
    pub enhanced_fan_out: bool,
}

impl WindowedMapping {
    /// The mapping a configuration builds.
    pub fn of(config: &Config) -> WindowedMapping {
        WindowedMapping {
            window_seconds: config.aggregate_window_seconds,
            parallelization_factor: config.lambda_parallelization_factor,
            bisect: config.lambda_bisect_batch_on_function_error,
            enhanced_fan_out: config.kinesis_consumer == ConsumerMode::EnhancedFanOut,
        }
    }

    /// One sentence per combination of tumbling windows with a setting whose behaviour with
    /// them AWS does not document; none without windows.
    pub fn warnings(&self) -> Vec<String> {
        let window = self.window_seconds;
        if window == 0 {
            return Vec::new();
        }
        let lead = |with: String, what: &str| {
            format!(
                "aggregate_window_seconds = {window} with {with}: AWS documents no \
                 behaviour for the two together ({what}); the event table stays complete and \
                 `query aggregates --rebuild` recomputes the figures from it \
                 (docs/aggregates.md)"
            )
        };
        let mut found = Vec::new();
        if self.parallelization_factor > 1 {
            found.push(lead(
                format!(
                    "lambda_parallelization_factor = {}",
                    self.parallelization_factor
                ),
                &format!(
                    "up to {} batches of a shard run at once: whether they share the shard's \
                     window state is not said",
                    self.parallelization_factor
                ),
            ));
        }
        if self.bisect {
            found.push(lead(
                "lambda_bisect_batch_on_function_error = true".to_owned(),
                "which state a split batch's halves get is not said; the processor counts a \
                 record once by its sequence number, so a split cannot count twice",
            ));
        }
        if self.enhanced_fan_out {
            found.push(lead(
                "kinesis_consumer = enhanced-fan-out".to_owned(),
                "AWS describes tumbling windows for a mapping's polled reads and does not say \
                 whether a window's boundaries and state behave the same when records are \
                 pushed through an enhanced fan-out consumer",
            ));
        }
        found
    }
}

/// The warning for alarms that notify no one in production: the stack creates its alarms
/// whatever the configuration, and a topic for them only with an address. `None` when there
/// is one, and outside `environment = "prod"`, where silent alarms on a dashboard are the
/// usual choice and a warning on every synth would only teach people to ignore warnings.
pub fn unheard_alarms(config: &Config) -> Option<String> {
    (config.environment == "prod" && !config.alerts_enabled()).then(|| {
        "the stack's alarms notify no one: sns_email_endpoint is empty, so no alert topic is \
         created; set sns_email_endpoint = \"ops@example.com\" (or pass the address at deploy \
         time: make deploy ALERT_EMAIL=...)"
            .to_owned()
    })
}

/// The configuration's warnings ([`Config::warnings`]): the tumbling windows' combinations,
/// then alarms without an address.
pub fn of(config: &Config) -> Vec<String> {
    let mut found = WindowedMapping::of(config).warnings();
    found.extend(unheard_alarms(config));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(sets: &[&str]) -> Config {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::load(None, None, &sets).expect("valid")
    }

    /// The tumbling windows' warnings alone.
    fn with(sets: &[&str]) -> Vec<String> {
        WindowedMapping::of(&config(sets)).warnings()
    }

    fn windows(config: &Config) -> Vec<String> {
        WindowedMapping::of(config).warnings()
    }

    #[test]
    fn windows_alone_or_no_windows_warn_of_nothing() {
        assert!(with(&["lambda_bisect_batch_on_function_error=false"]).is_empty());
        assert!(with(&[
            "aggregate_window_seconds=0",
            "lambda_parallelization_factor=4",
            "kinesis_consumer=enhanced-fan-out",
        ])
        .is_empty());
        let cheap = windows(&Config::from_preset("cost-optimized").unwrap());
        assert!(cheap.is_empty(), "{cheap:?}");
    }

    #[test]
    fn each_undocumented_combination_is_one_warning_naming_both_keys() {
        let found = with(&[
            "lambda_parallelization_factor=3",
            "kinesis_consumer=enhanced-fan-out",
        ]);
        assert_eq!(found.len(), 3, "{found:#?}");
        let starts = [
            "aggregate_window_seconds = 60 with lambda_parallelization_factor = 3: AWS documents no behaviour for the two together",
            "aggregate_window_seconds = 60 with lambda_bisect_batch_on_function_error = true: AWS documents no behaviour",
            "aggregate_window_seconds = 60 with kinesis_consumer = enhanced-fan-out: AWS documents no behaviour",
        ];
        for (warning, start) in found.iter().zip(starts) {
            assert!(warning.starts_with(start), "{warning}");
            assert!(warning.contains("query aggregates --rebuild"), "{warning}");
        }
        assert!(found[0].contains("up to 3 batches of a shard run at once"));
        assert!(found[1].contains("a split cannot count twice"));
    }

    #[test]
    fn the_presets_with_windows_warn_of_bisection_and_high_throughput_of_its_parallelism() {
        let high = windows(&Config::from_preset("high-throughput").unwrap());
        assert_eq!(high.len(), 2, "{high:#?}");
        assert!(high[0].contains("lambda_parallelization_factor = 2"));
        assert!(high[1].contains("lambda_bisect_batch_on_function_error = true"));
        for preset in ["dev", "staging", "prod"] {
            let found = windows(&Config::from_preset(preset).unwrap());
            assert_eq!(found.len(), 1, "{preset}: {found:#?}");
        }
    }

    /// Every preset leaves sns_email_endpoint empty (prod's address is yours to give), and
    /// every stack has alarms: a production one says which key to set, once, after the
    /// windows' warnings; the others say nothing about it.
    #[test]
    fn alarms_without_an_address_name_the_key_to_set_in_production() {
        let mut warned = 0;
        for preset in crate::config::PRESETS {
            let config = Config::from_preset(preset).unwrap();
            let found = config.warnings();
            let unheard: Vec<&String> = found
                .iter()
                .filter(|w| w.contains("sns_email_endpoint"))
                .collect();
            if config.environment != "prod" {
                assert!(unheard.is_empty(), "{preset}: {found:#?}");
                continue;
            }
            warned += 1;
            assert_eq!(unheard.len(), 1, "{preset}: {found:#?}");
            assert_eq!(found.last(), unheard.first().copied(), "{preset}");
            assert!(
                unheard[0]
                    .starts_with("the stack's alarms notify no one: sns_email_endpoint is empty"),
                "{}",
                unheard[0]
            );
            assert!(!unheard[0].contains('\n'), "one line: {}", unheard[0]);
        }
        assert!(warned >= 1, "the prod preset is warned about");
        let heard = config(&["environment=prod", "sns_email_endpoint=ops@example.com"]);
        assert_eq!(unheard_alarms(&heard), None);
        assert_eq!(heard.warnings(), windows(&heard));
        assert!(unheard_alarms(&config(&["environment=prod"])).is_some());
    }
}
