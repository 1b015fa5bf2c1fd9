//! The function's log: did it log an error while verify's batch went through?
//!
//! The processor logs JSON lines through `tracing` (`"level":"ERROR"` for errors; see
//! `init_logging` in crates/processor/src/main.rs), and the function's log format is JSON,
//! so CloudWatch Logs can filter on `{ $.level = "ERROR" }`. The lines it returns are
//! checked again here, because not every endpoint applies JSON filter patterns (moto
//! returns every event for one). A log group with no events since the run started is
//! reported as nothing to check, not as a failure; so is a log the SDK cannot parse, which
//! only moto writes (its stand-in Lambda logs fractional timestamps when it cannot start a
//! container; the processor never runs there).

use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::config::http::HttpResponse;
use aws_sdk_cloudwatchlogs::error::SdkError;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;

use crate::error::{self, Error};

/// CloudWatch Logs' filter for the processor's error lines.
pub const ERROR_PATTERN: &str = r#"{ $.level = "ERROR" }"#;

/// Error lines quoted in the report at most.
const EXAMPLES: usize = 3;

/// Pages of FilterLogEvents read at most (each up to 10,000 events, or 1 MB).
const MAX_PAGES: usize = 20;

/// What the log said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCheck {
    /// Nothing to check, and why.
    NoLogs(String),
    /// The log was read.
    Checked {
        /// Error lines since the run started.
        errors: usize,
        /// The first few of them, shortened.
        examples: Vec<String>,
    },
}

impl LogCheck {
    /// Error lines found; `None` when there was nothing to check.
    pub fn errors(&self) -> Option<usize> {
        match self {
            LogCheck::NoLogs(_) => None,
            LogCheck::Checked { errors, .. } => Some(*errors),
        }
    }
}

/// Whether a log event is one of the processor's error lines: a JSON object whose `level`
/// is `ERROR` (as `tracing`'s JSON format and Lambda's JSON log format write it).
pub fn is_error_line(message: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(message.trim())
        .ok()
        .and_then(|line| {
            line.get("level")
                .and_then(|l| l.as_str())
                .map(|l| l.eq_ignore_ascii_case("error"))
        })
        .unwrap_or(false)
}

/// Reads `group`'s events since `since_ms` (epoch ms).
pub async fn check(config: &SdkConfig, group: &str, since_ms: i64) -> Result<LogCheck, Error> {
    let client = aws_sdk_cloudwatchlogs::Client::new(config);
    let mut errors = 0;
    let mut examples = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = match client
            .filter_log_events()
            .log_group_name(group)
            .start_time(since_ms)
            .filter_pattern(ERROR_PATTERN)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(LogCheck::NoLogs(format!(
                    "no function logs to check: log group {group} does not exist (the \
                     function has not run yet, or the stack does not own its log group)"
                )));
            }
            Err(e) if unreadable(&e) => return Ok(not_read(group, &e)),
            Err(e) => return Err(log_error(group, &e)),
        };
        for message in page.events().iter().filter_map(|e| e.message()) {
            if is_error_line(message) {
                errors += 1;
                if examples.len() < EXAMPLES {
                    examples.push(shorten(message.trim(), 300));
                }
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    if errors == 0 {
        match has_events(&client, group, since_ms).await {
            Ok(true) => {}
            Ok(false) => {
                return Ok(LogCheck::NoLogs(format!(
                    "no function logs to check: log group {group} has no events since the \
                     run started (none ingested yet; on moto no Lambda runs)"
                )))
            }
            Err(e) if unreadable(&e) => return Ok(not_read(group, &e)),
            Err(e) => return Err(log_error(group, &e)),
        }
    }
    Ok(LogCheck::Checked { errors, examples })
}

async fn has_events(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    since_ms: i64,
) -> Result<bool, SdkError<FilterLogEventsError, HttpResponse>> {
    let page = client
        .filter_log_events()
        .log_group_name(group)
        .start_time(since_ms)
        .limit(1)
        .send()
        .await?;
    Ok(!page.events().is_empty())
}

/// An answer with a success status that the SDK could not parse. AWS never sends one;
/// moto does, when its own Lambda emulation logs that it cannot start a container: those
/// events carry fractional timestamps. The log is then reported as not checked, not as a
/// failed call.
fn unreadable(err: &SdkError<FilterLogEventsError, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && err.raw_response().is_some_and(|r| r.status().is_success())
}

fn not_read(group: &str, err: &SdkError<FilterLogEventsError, HttpResponse>) -> LogCheck {
    LogCheck::NoLogs(format!(
        "function log not checked: the FilterLogEvents answer for log group {group} could not \
         be parsed ({}); moto's stand-in Lambda writes such events, AWS does not",
        aws_edge::error::describe(err)
    ))
}

fn log_error(group: &str, err: &SdkError<FilterLogEventsError, HttpResponse>) -> Error {
    error::call(
        "CloudWatch Logs",
        format!("FilterLogEvents({group})"),
        err,
        format!("the caller needs logs:FilterLogEvents on log group {group}"),
    )
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_json_with_level_error() {
        let tracing_error = r#"{"level":"ERROR","fields":{"message":"BatchWriteItem failed"}}"#;
        assert!(is_error_line(tracing_error));
        assert!(is_error_line(&format!("  {tracing_error}\n")));
        assert!(is_error_line(
            r#"{"timestamp":"t","level":"error","message":"m"}"#
        ));
        for other in [
            r#"{"level":"INFO","fields":{"message":"ERROR in a message"}}"#,
            r#"{"_aws":{"CloudWatchMetrics":[]},"FailedEvents":3}"#,
            "ERROR plain text is not the processor's",
            r#"{"type":"platform.report","record":{"status":"success"}}"#,
            "",
        ] {
            assert!(!is_error_line(other), "{other}");
        }
    }

    #[test]
    fn long_lines_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("ééééé", 2), "éé…");
    }

    #[test]
    fn only_a_read_log_has_an_error_count() {
        assert_eq!(LogCheck::NoLogs("x".into()).errors(), None);
        let checked = LogCheck::Checked {
            errors: 2,
            examples: vec![],
        };
        assert_eq!(checked.errors(), Some(2));
    }
}
