//! The event source mapping across deploys: `mapping-plan`, `mapping-start` and
//! `mapping-template`, which `make deploy` and `make changeset` run on every deploy
//! (docs/mapping-replacement.md).
//!
//! A mapping's `EventSourceArn`, `StartingPosition` and `StartingPositionTimestamp` are
//! create-only: changing one replaces the mapping. CloudFormation creates the replacement
//! before it deletes the old mapping, and Lambda refuses a second mapping of the same event
//! source and function (`ResourceConflictException`), so a replacement that keeps the source
//! fails as one update; and a replacement that succeeds starts where the configuration says
//! (LATEST skips what arrives in between, TRIM_HORIZON reads the whole retention again).
//! So, for the template's one mapping:
//!
//! - **Pinned** ([`Action::Keep`]). A deployed mapping keeps its starting position:
//!   `lambda_starting_position` applies when a mapping is created. What the configuration
//!   asked for is recorded in the mapping's Metadata ([`START_METADATA`], `Configured`), so a
//!   later deploy tells a changed setting from a position make deploy chose.
//! - **Another source** ([`Action::Replace`]: enhanced fan-out switched on or off, the stream
//!   replaced). Lambda allows a mapping of another source beside the old one, so
//!   CloudFormation's order works: one update, the new mapping created, the old one deleted.
//! - **The same source** ([`Action::ReplaceInTwoSteps`]: the setting changed). Removed in one
//!   update, created in the next. The first records the chosen start in the template's
//!   Metadata ([`PENDING_METADATA`]), so a deploy after a failed second step still creates
//!   the mapping there ([`Action::Resume`]).
//! - **Where the new mapping starts** ([`choose`]): AT_TIMESTAMP where the old one was
//!   reading, less a safety margin ([`continuation`], from its IteratorAge), or earlier when
//!   a changed setting asks for earlier (TRIM_HORIZON, an earlier AT_TIMESTAMP). Records
//!   read by both mappings are written again under the same item keys.

use std::path::{Path, PathBuf};

use clap::Args;
use review::diff::{ChangeKind, Replacement};
use serde_json::{json, Map, Value};

use super::Answer;

/// The resource type this module plans for.
pub const MAPPING_TYPE: &str = "AWS::Lambda::EventSourceMapping";

/// The mapping resource's Metadata key: `{"Configured": START, "Chosen": WHY}`, what the
/// configuration asked for when make deploy last wrote the mapping and, when make deploy
/// chose the start itself, why.
pub const START_METADATA: &str = "MappingStart";

/// The template's top-level Metadata key while a replacement in two steps is half done:
/// `{"Mapping": ID, "Start": START, "Configured": START, "Why": WHY}`.
pub const PENDING_METADATA: &str = "MappingReplacement";

/// What references to the removed mapping read while it is being replaced (its outputs, the
/// alarms' dimension, the policies' ARNs): nothing is there to name.
pub const PLACEHOLDER: &str = "replacing";

/// The IteratorAge statistics' period, seconds: a datapoint's time is its minute's start.
pub const PERIOD_SECS: f64 = 60.0;

/// The default safety margin, seconds: CloudWatch's delay in publishing a minute's
/// IteratorAge, clock skew, a batch's spread.
pub const DEFAULT_MARGIN_SECS: u64 = 300;

/// Where a mapping starts reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Start {
    /// The oldest retained record.
    TrimHorizon,
    /// Records written after the mapping is created.
    Latest,
    /// Records that arrived at or after this time, epoch seconds.
    AtTimestamp(f64),
}

impl Start {
    /// The start a mapping's `Properties` give.
    pub fn of(properties: &Value) -> Result<Start, String> {
        match properties.get("StartingPosition").and_then(Value::as_str) {
            Some("TRIM_HORIZON") => Ok(Start::TrimHorizon),
            Some("LATEST") => Ok(Start::Latest),
            Some("AT_TIMESTAMP") => {
                let secs = match properties.get("StartingPositionTimestamp") {
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(Value::String(s)) => s.trim().parse().ok(),
                    _ => None,
                };
                secs.map(Start::AtTimestamp).ok_or_else(|| {
                    "starts AT_TIMESTAMP without a numeric StartingPositionTimestamp".into()
                })
            }
            Some(other) => Err(format!(
                "has StartingPosition {other:?}, not TRIM_HORIZON, LATEST or AT_TIMESTAMP"
            )),
            None => Err("has no StartingPosition".into()),
        }
    }

    /// What this module writes and reads back: `TRIM_HORIZON`, `LATEST`,
    /// `AT_TIMESTAMP 1764633600`.
    pub fn label(self) -> String {
        match self {
            Start::TrimHorizon => "TRIM_HORIZON".into(),
            Start::Latest => "LATEST".into(),
            Start::AtTimestamp(secs) => format!("AT_TIMESTAMP {}", number(secs)),
        }
    }

    /// For people: `AT_TIMESTAMP 2025-12-02T00:00:00Z (1764633600)`.
    pub fn describe(self) -> String {
        match self {
            Start::AtTimestamp(secs) => {
                format!("AT_TIMESTAMP {} ({})", iso8601(secs), number(secs))
            }
            other => other.label(),
        }
    }

    /// A start as written by [`Start::label`], or as a person gives it (MAPPING_START):
    /// `TRIM_HORIZON`, epoch seconds, an ISO 8601 UTC time. LATEST is refused: a replacement
    /// starting there skips what arrives while it is made.
    pub fn parse(text: &str) -> Result<Start, String> {
        let text = text.trim();
        let time = text.strip_prefix("AT_TIMESTAMP").map_or(text, str::trim);
        match time {
            "TRIM_HORIZON" => Ok(Start::TrimHorizon),
            "LATEST" => Err(
                "LATEST is not a start for a replaced mapping: it would skip the \
                             records that arrive while the mapping is replaced; give a time"
                    .into(),
            ),
            _ => parse_time(time).map(Start::AtTimestamp).ok_or_else(|| {
                format!(
                    "expected TRIM_HORIZON, epoch seconds or an ISO 8601 UTC time \
                     (2026-11-25T08:00:00Z), got {text:?}"
                )
            }),
        }
    }

    /// Whether this start reads from before `other`: TRIM_HORIZON first, LATEST last.
    pub fn is_before(self, other: Start) -> bool {
        let rank = |start: Start| match start {
            Start::TrimHorizon => f64::NEG_INFINITY,
            Start::AtTimestamp(secs) => secs,
            Start::Latest => f64::INFINITY,
        };
        rank(self) < rank(other)
    }

    /// Writes this start into a mapping's `Properties`.
    fn apply(self, properties: &mut Map<String, Value>) {
        let position = match self {
            Start::TrimHorizon => "TRIM_HORIZON",
            Start::Latest => "LATEST",
            Start::AtTimestamp(_) => "AT_TIMESTAMP",
        };
        properties.insert("StartingPosition".into(), position.into());
        match self {
            Start::AtTimestamp(secs) if secs.fract() == 0.0 => {
                properties.insert("StartingPositionTimestamp".into(), json!(secs as i64));
            }
            Start::AtTimestamp(secs) => {
                properties.insert("StartingPositionTimestamp".into(), json!(secs));
            }
            _ => {
                properties.remove("StartingPositionTimestamp");
            }
        }
    }
}

/// Seconds without a needless `.0`.
fn number(secs: f64) -> String {
    if secs.fract() == 0.0 && secs.abs() < 1e15 {
        format!("{}", secs as i64)
    } else {
        format!("{secs}")
    }
}

/// What make deploy does with the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The template has no event source mapping.
    None,
    /// A new mapping, with nothing deployed to continue from: it starts where the
    /// configuration says.
    Create,
    /// The deployed mapping stays; its starting position is pinned.
    Keep,
    /// Replaced by a mapping of another source, created beside it: one update.
    Replace,
    /// Replaced by a mapping of the same source: removed, then created, two updates.
    ReplaceInTwoSteps,
    /// An earlier deploy removed the mapping to replace it: created at the start it chose.
    Resume,
}

impl Action {
    /// The word `mapping-plan` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Create => "create",
            Action::Keep => "keep",
            Action::Replace => "replace",
            Action::ReplaceInTwoSteps => "replace-in-two-steps",
            Action::Resume => "resume",
        }
    }
}

/// A replacement half done, as the template's Metadata records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Where the new mapping starts.
    pub start: Start,
    /// What the configuration asked for then.
    pub configured: Start,
    /// Why that start.
    pub why: String,
}

/// What make deploy does with the template's mapping, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What.
    pub action: Action,
    /// The mapping's logical ID (empty for [`Action::None`]).
    pub logical_id: String,
    /// What the configuration (the new template) asks for.
    pub configured: Option<Start>,
    /// The setting the configuration had when the deployed mapping was written, when it
    /// changed since.
    pub changed_from: Option<Start>,
    /// For [`Action::Resume`]: the recorded start.
    pub pending: Option<Pending>,
    /// Why, for people.
    pub why: String,
}

/// The template's one event source mapping, `(logical ID, resource)`; `None` when it has
/// none. Several are refused: make deploy plans for one.
pub fn the_mapping(template: &Value) -> Result<Option<(&str, &Value)>, String> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Ok(None);
    };
    let mut found = resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(MAPPING_TYPE));
    match (found.next(), found.next()) {
        (Some((id, resource)), None) => Ok(Some((id.as_str(), resource))),
        (None, _) => Ok(None),
        (Some((a, _)), Some((b, _))) => Err(format!(
            "the template has several event source mappings ({a}, {b}, ...); make deploy \
             plans the replacement of one"
        )),
    }
}

fn properties(resource: &Value) -> Value {
    resource
        .get("Properties")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// What the configuration asked for when the deployed mapping was written: its recorded
/// `Configured`, or (written before make deploy recorded it) its own properties.
fn configured_of(mapping: &Value) -> Result<Start, String> {
    let recorded = mapping
        .pointer(&format!("/Metadata/{START_METADATA}/Configured"))
        .and_then(Value::as_str);
    match recorded {
        Some(text) => Start::parse_recorded(text),
        None => Start::of(&properties(mapping)),
    }
}

impl Start {
    /// A start as [`Start::label`] wrote it (LATEST included).
    fn parse_recorded(text: &str) -> Result<Start, String> {
        if text.trim() == "LATEST" {
            Ok(Start::Latest)
        } else {
            Start::parse(text)
        }
    }
}

fn pending_of(template: &Value, id: &str) -> Result<Option<Pending>, String> {
    let Some(pending) = template.pointer(&format!("/Metadata/{PENDING_METADATA}")) else {
        return Ok(None);
    };
    if pending.get("Mapping").and_then(Value::as_str) != Some(id) {
        return Ok(None);
    }
    let field = |key: &str| {
        pending.get(key).and_then(Value::as_str).ok_or_else(|| {
            format!("the deployed template's Metadata {PENDING_METADATA} has no {key}")
        })
    };
    Ok(Some(Pending {
        start: Start::parse_recorded(field("Start")?)?,
        configured: Start::parse_recorded(field("Configured")?)?,
        why: field("Why")?.to_owned(),
    }))
}

/// How the deploy changes the mapping's event source: `Will` when its `EventSourceArn`
/// changes (or references a replaced resource), `May` when that is known only at deploy
/// time. An ARN that names another resource's attribute than before (a stream consumer's
/// `ConsumerARN` for the stream's `Arn`) is another source, though neither is known
/// offline.
fn source_change(deployed: &Value, new: &Value, id: &str) -> Replacement {
    let predicted = review::diff::diff(deployed, new)
        .resources
        .iter()
        .filter(|r| r.logical_id == id && r.kind == ChangeKind::Modified)
        .flat_map(|r| &r.reasons)
        .filter(|r| r.property == "EventSourceArn")
        .map(|r| r.replacement)
        .max()
        .unwrap_or_default();
    let arn = |template: &Value| {
        template
            .pointer(&format!("/Resources/{id}/Properties/EventSourceArn"))
            .and_then(referenced)
    };
    match (predicted, arn(deployed), arn(new)) {
        (Replacement::May, Some(before), Some(after)) if before != after => Replacement::Will,
        (predicted, _, _) => predicted,
    }
}

/// The resource and attribute a `Ref` or `Fn::GetAtt` names (`Ref`: no attribute).
fn referenced(value: &Value) -> Option<(String, Option<String>)> {
    if let Some(target) = value.get("Ref").and_then(Value::as_str) {
        return Some((target.to_owned(), None));
    }
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => Some((
            parts.first()?.as_str()?.to_owned(),
            Some(parts.get(1)?.as_str()?.to_owned()),
        )),
        Value::String(dotted) => {
            let (target, attribute) = dotted.split_once('.')?;
            Some((target.to_owned(), Some(attribute.to_owned())))
        }
        _ => None,
    }
}

/// Decides what happens to the mapping of template `new`, given the stack's `deployed`
/// template (`None`: no stack yet).
pub fn plan(deployed: Option<&Value>, new: &Value) -> Result<Plan, String> {
    let Some((id, mapping)) = the_mapping(new)? else {
        return Ok(Plan {
            action: Action::None,
            logical_id: String::new(),
            configured: None,
            changed_from: None,
            pending: None,
            why: "the template has no event source mapping".into(),
        });
    };
    let configured = Start::of(&properties(mapping)).map_err(|e| format!("{id} {e}"))?;
    let plan = |action, changed_from, pending, why: String| Plan {
        action,
        logical_id: id.to_owned(),
        configured: Some(configured),
        changed_from,
        pending,
        why,
    };
    let Some(deployed) = deployed else {
        return Ok(plan(
            Action::Create,
            None,
            None,
            format!(
                "a new stack: the mapping starts at {} (lambda_starting_position)",
                configured.describe()
            ),
        ));
    };
    let old = deployed
        .get("Resources")
        .and_then(|r| r.get(id))
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some(MAPPING_TYPE));
    let Some(old) = old else {
        if let Some(pending) = pending_of(deployed, id)? {
            return Ok(plan(
                Action::Resume,
                (pending.configured != configured).then_some(pending.configured),
                Some(pending),
                format!(
                    "an earlier make deploy removed {id} to replace it (step 1 of 2) and did \
                     not create it again: it is created now, where that deploy chose"
                ),
            ));
        }
        return Ok(plan(
            Action::Create,
            None,
            None,
            format!(
                "the deployed stack has no {id}: the new mapping starts at {} \
                 (lambda_starting_position)",
                configured.describe()
            ),
        ));
    };
    let was_configured = configured_of(old).map_err(|e| format!("the deployed {id} {e}"))?;
    let changed_from = (was_configured != configured).then_some(was_configured);
    let source = source_change(deployed, new, id);
    if source == Replacement::Will {
        return Ok(plan(
            Action::Replace,
            changed_from,
            None,
            format!(
                "its EventSourceArn changes (create-only): Lambda allows a mapping of another \
                 source beside the old one, so CloudFormation creates the new {id} and then \
                 deletes the old one, in one stack update"
            ),
        ));
    }
    if let Some(before) = changed_from {
        return Ok(plan(
            Action::ReplaceInTwoSteps,
            changed_from,
            None,
            format!(
                "lambda_starting_position changed from {} to {}: StartingPosition is \
                 create-only and Lambda refuses a second mapping of the same stream and \
                 function, so {id} is removed in one stack update and created in a second",
                before.label(),
                configured.label()
            ),
        ));
    }
    if source == Replacement::May {
        return Ok(plan(
            Action::ReplaceInTwoSteps,
            None,
            None,
            format!(
                "its EventSourceArn may change at deploy time: in case it keeps the stream, \
                 {id} is removed in one stack update and created in a second"
            ),
        ));
    }
    let deployed_start =
        Start::of(&properties(old)).map_err(|e| format!("the deployed {id} {e}"))?;
    let why = if deployed_start == configured {
        format!("{id} keeps reading where it is")
    } else {
        format!(
            "{id} keeps reading where it is: its starting position {} stays (create-only; \
             lambda_starting_position {} applies when a mapping is created)",
            deployed_start.describe(),
            configured.label()
        )
    };
    Ok(plan(Action::Keep, None, None, why))
}

/// What make deploy reads of the mapping being replaced, from the aws CLI.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Its UUID.
    pub uuid: String,
    /// `State`: `Enabled`, `Disabled`, ... (`None`: not reported).
    pub state: Option<String>,
    /// `StateTransitionReason`.
    pub state_reason: Option<String>,
    /// `LastProcessingResult`: `OK`, `No records processed`, `PROBLEM: ...`.
    pub last_result: Option<String>,
    /// `MaximumBatchingWindowInSeconds`.
    pub batching_window_secs: f64,
    /// The function's `Timeout`, seconds.
    pub timeout_secs: f64,
    /// IteratorAge, one `(start of the minute, Maximum in ms)` per minute with invocations.
    pub iterator_age: Vec<(f64, f64)>,
}

impl Observed {
    /// From `get-event-source-mapping`, `get-function-configuration` and
    /// `get-metric-statistics --statistics Maximum` as the aws CLI prints them (`--output
    /// json`); each `(name, text)`.
    pub fn read(
        mapping: (&str, &str),
        function: (&str, &str),
        iterator_age: (&str, &str),
    ) -> Result<Observed, String> {
        let esm = super::parse_json(mapping.0, mapping.1, "get-event-source-mapping")?;
        let text = |key: &str| esm.get(key).and_then(Value::as_str).map(str::to_owned);
        let function_config =
            super::parse_json(function.0, function.1, "get-function-configuration")?;
        let timeout_secs = function_config
            .get("Timeout")
            .and_then(Value::as_f64)
            .ok_or_else(|| {
                format!(
                    "{}: not get-function-configuration output: no Timeout",
                    function.0
                )
            })?;
        let stats = super::parse_json(iterator_age.0, iterator_age.1, "get-metric-statistics")?;
        let points = stats
            .get("Datapoints")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                format!(
                    "{}: not get-metric-statistics output: no Datapoints",
                    iterator_age.0
                )
            })?;
        let mut ages = Vec::with_capacity(points.len());
        for point in points {
            let at = match point.get("Timestamp") {
                Some(Value::String(s)) => parse_time(s),
                Some(Value::Number(n)) => n.as_f64(),
                _ => None,
            };
            let (Some(at), Some(max)) = (at, point.get("Maximum").and_then(Value::as_f64)) else {
                return Err(format!(
                    "{}: not get-metric-statistics --statistics Maximum output: a datapoint \
                     without Timestamp or Maximum: {point}",
                    iterator_age.0
                ));
            };
            ages.push((at, max));
        }
        ages.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Observed {
            uuid: text("UUID").unwrap_or_else(|| "(no UUID)".into()),
            state: text("State"),
            state_reason: text("StateTransitionReason"),
            last_result: text("LastProcessingResult"),
            batching_window_secs: esm
                .get("MaximumBatchingWindowInSeconds")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            timeout_secs,
            iterator_age: ages,
        })
    }
}

/// Where the old mapping was reading at `now`, less `margin` seconds and its batching
/// window: epoch seconds, and why.
///
/// IteratorAge is, per invocation, how long the batch's last record had been in the stream
/// when the mapping sent it to the function; a minute's Maximum `L` at minute start `m`
/// says every shard invoked in that minute had read the records that arrived before
/// `m − L`. A shard's checkpoint only moves forward, and a shard with records waiting
/// invokes at least once per function timeout (retries are invocations too), so over the
/// minutes that overlap the last `timeout + margin` seconds the lowest `m − L` is a position
/// every such shard had passed. A shard without an invocation in that time had nothing waiting.
/// The margin covers CloudWatch's delay in publishing a minute and the clock, the batching
/// window a batch's spread. A mapping that is not enabled, or that invoked nothing while
/// reporting a problem, has no position to continue from: refused, naming why.
pub fn continuation(observed: &Observed, now: f64, margin: f64) -> Result<(f64, String), String> {
    let uuid = &observed.uuid;
    if let Some(state) = observed.state.as_deref() {
        if !matches!(state, "Enabled" | "Updating") {
            return Err(format!(
                "mapping {uuid} is {state}{}: it is not reading, so where it stopped cannot \
                 be told from its IteratorAge; enable it and let it catch up, or set \
                 MAPPING_START to the time the new mapping starts at",
                observed
                    .state_reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(" ({r})"))
            ));
        }
    }
    let recent = observed.timeout_secs + margin;
    let lowest = observed
        .iterator_age
        .iter()
        .filter(|(minute, _)| *minute + PERIOD_SECS >= now - recent && *minute <= now)
        .map(|&(minute, age_ms)| (minute - age_ms / 1000.0, minute, age_ms))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let window = observed.batching_window_secs;
    let less = format!(
        "less the {} s margin and the {} s batching window",
        number(margin),
        number(window)
    );
    let (position, how) = match lowest {
        Some((position, minute, age_ms)) => (
            position.min(now),
            format!(
                "mapping {uuid} had read every record that arrived before {}: the lowest of \
                 its IteratorAge minutes over the last {} s (the minute from {}, {:.1} s behind)",
                iso8601(position.min(now).floor()),
                number(recent),
                iso8601(minute),
                age_ms / 1000.0
            ),
        ),
        None => {
            let result = observed.last_result.as_deref().unwrap_or("(none reported)");
            if result.starts_with("PROBLEM") {
                return Err(format!(
                    "mapping {uuid} invoked nothing in the last {} s (no IteratorAge) and \
                     reports LastProcessingResult {result:?}: where it stopped cannot be told; \
                     fix that first, or set MAPPING_START to the time the new mapping starts at",
                    number(recent)
                ));
            }
            (
                now,
                format!(
                    "mapping {uuid} invoked nothing in the last {} s (no IteratorAge; \
                     LastProcessingResult {result}): no records were waiting at {}",
                    number(recent),
                    iso8601(now.floor())
                ),
            )
        }
    };
    let start = (position - margin - window).floor();
    Ok((start, format!("{how}; {less}")))
}

/// The start make deploy chose, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// Where the new mapping starts.
    pub start: Start,
    /// Why, for people (and the template's Metadata).
    pub why: String,
}

/// Where the replacing mapping of `plan` starts: `given` (MAPPING_START) when set; the
/// recorded start of a half-done replacement; else where the old mapping was reading
/// ([`continuation`] of `observed`), or earlier when a changed setting asks for earlier.
pub fn choose(
    plan: &Plan,
    observed: Option<&Observed>,
    now: f64,
    margin: f64,
    given: Option<Start>,
) -> Result<Chosen, String> {
    if let Some(start) = given {
        return Ok(Chosen {
            start,
            why: format!("MAPPING_START {}", start.describe()),
        });
    }
    let asked = plan.changed_from.and(plan.configured);
    let earlier = |start: Start, why: String| match asked {
        Some(asked) if asked.is_before(start) => Chosen {
            start: asked,
            why: format!(
                "lambda_starting_position changed to {}, which reads from before where the \
                 old mapping was ({}): the new mapping starts there",
                asked.label(),
                start.describe()
            ),
        },
        Some(asked) => Chosen {
            start,
            why: format!(
                "{why}; lambda_starting_position {} would skip what the old mapping had not \
                 read, so the new one starts there",
                asked.label()
            ),
        },
        None => Chosen { start, why },
    };
    match plan.action {
        Action::Resume => {
            let pending = plan
                .pending
                .as_ref()
                .ok_or("a resumed replacement has its recorded start")?;
            Ok(earlier(
                pending.start,
                format!("as chosen at step 1: {}", pending.why),
            ))
        }
        Action::Replace | Action::ReplaceInTwoSteps => {
            let observed = observed.ok_or(
                "the mapping is replaced: give --mapping, --function and --iterator-age (or \
                 --start) to choose where the new one starts",
            )?;
            let (start, why) = continuation(observed, now, margin)?;
            Ok(earlier(Start::AtTimestamp(start), why))
        }
        other => Err(format!(
            "nothing to choose: the mapping is not replaced (mapping-plan says {})",
            other.as_str()
        )),
    }
}

/// The template to deploy: `new` with the mapping's start pinned to the deployed one
/// (keep), set to `chosen` (a replacement), or as configured (create), and what the
/// configuration asked for recorded in its Metadata.
pub fn final_template(
    plan: &Plan,
    deployed: Option<&Value>,
    new: &Value,
    chosen: Option<&Chosen>,
) -> Result<Value, String> {
    let mut out = new.clone();
    let (Some(configured), false) = (plan.configured, plan.logical_id.is_empty()) else {
        return Ok(out);
    };
    let id = plan.logical_id.as_str();
    let mut record = Map::new();
    record.insert("Configured".into(), configured.label().into());
    let resource = out
        .pointer_mut(&format!("/Resources/{id}"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("the template has no {id}"))?;
    let props = resource
        .entry("Properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("{id}'s Properties is not a mapping"))?;
    match plan.action {
        Action::None | Action::Create => {}
        Action::Keep => {
            let old = deployed
                .and_then(|d| d.pointer(&format!("/Resources/{id}")))
                .ok_or_else(|| format!("the deployed template has no {id} to keep"))?;
            for key in ["StartingPosition", "StartingPositionTimestamp"] {
                match old.pointer(&format!("/Properties/{key}")) {
                    Some(value) => props.insert(key.into(), value.clone()),
                    None => props.remove(key),
                };
            }
            let why = old.pointer(&format!("/Metadata/{START_METADATA}/Chosen"));
            if let Some(why) = why {
                record.insert("Chosen".into(), why.clone());
            }
        }
        Action::Replace | Action::ReplaceInTwoSteps | Action::Resume => {
            let chosen = chosen.ok_or("the mapping is replaced: give --start and --why")?;
            chosen.start.apply(props);
            record.insert("Chosen".into(), chosen.why.clone().into());
        }
    }
    let metadata = resource
        .entry("Metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("{id}'s Metadata is not a mapping"))?;
    metadata.insert(START_METADATA.into(), Value::Object(record));
    Ok(out)
}

/// Step 1 of a replacement in two steps: the `deployed` template without the mapping, every
/// reference to it reading [`PLACEHOLDER`], and the chosen start recorded in the
/// template's Metadata for step 2 (and for a deploy after a failed step 2).
pub fn removal_template(plan: &Plan, deployed: &Value, chosen: &Chosen) -> Result<Value, String> {
    if plan.action != Action::ReplaceInTwoSteps {
        return Err(format!(
            "only a replacement in two steps removes the mapping first (mapping-plan says {})",
            plan.action.as_str()
        ));
    }
    let id = plan.logical_id.as_str();
    let configured = plan.configured.ok_or("the plan names what is configured")?;
    let mut out = deployed.clone();
    out.get_mut("Resources")
        .and_then(Value::as_object_mut)
        .and_then(|resources| resources.remove(id))
        .ok_or_else(|| format!("the deployed template has no {id} to remove"))?;
    unreference(&mut out, id);
    let top = out
        .as_object_mut()
        .ok_or("the deployed template is not a mapping")?;
    let metadata = top
        .entry("Metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("the deployed template's Metadata is not a mapping")?;
    metadata.insert(
        PENDING_METADATA.into(),
        json!({
            "Mapping": id,
            "Start": chosen.start.label(),
            "Configured": configured.label(),
            "Why": chosen.why,
        }),
    );
    Ok(out)
}

/// Replaces every reference to resource `id` (`Ref`, `Fn::GetAtt`, `${id}` and `${id.Attr}`
/// in `Fn::Sub`, `DependsOn`) with [`PLACEHOLDER`] or nothing.
fn unreference(value: &mut Value, id: &str) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                let target = match (map.get("Ref"), map.get("Fn::GetAtt")) {
                    (Some(Value::String(target)), _) => Some(target.as_str()),
                    (_, Some(Value::Array(parts))) => parts.first().and_then(Value::as_str),
                    (_, Some(Value::String(dotted))) => dotted.split('.').next(),
                    _ => None,
                };
                if target == Some(id) {
                    *value = PLACEHOLDER.into();
                    return;
                }
                match map.get_mut("Fn::Sub") {
                    Some(Value::String(text)) => *text = substitute(text, id),
                    Some(Value::Array(parts)) => {
                        let shadowed = parts
                            .get(1)
                            .and_then(Value::as_object)
                            .is_some_and(|vars| vars.contains_key(id));
                        if let (false, Some(Value::String(text))) = (shadowed, parts.first_mut()) {
                            *text = substitute(text, id);
                        }
                    }
                    _ => {}
                }
            }
            match map.get_mut("DependsOn") {
                Some(Value::Array(ids)) => ids.retain(|d| d.as_str() != Some(id)),
                Some(Value::String(d)) if d == id => {
                    map.remove("DependsOn");
                }
                _ => {}
            }
            for child in map.values_mut() {
                unreference(child, id);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| unreference(item, id)),
        _ => {}
    }
}

/// `text` with `${id}` and `${id.Attr}` replaced; `${!literal}` and other names kept.
fn substitute(text: &str, id: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        if name == id || name.strip_prefix(id).is_some_and(|r| r.starts_with('.')) {
            out.push_str(PLACEHOLDER);
        } else {
            out.push_str(&rest[open..open + 2 + close + 1]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Seconds since the epoch of `text`: a number, or an ISO 8601 time
/// (`2026-11-25T08:00:00Z`, `2026-11-25T08:00:00.5+00:00`, a space for the `T`).
pub fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return secs.is_finite().then_some(secs);
    }
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let field = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if [bytes[4], bytes[7]] != [b'-', b'-'] || [bytes[13], bytes[16]] != [b':', b':'] {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = 0.0;
    if let Some(digits) = rest.strip_prefix('.') {
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        fraction = format!("0.{}", &digits[..end]).parse().ok()?;
        rest = &digits[end..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = digits[..2].parse().ok()?;
            let minutes: i64 = digits[2..].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(secs as f64 + fraction)
}

/// `2026-11-25T08:00:00Z` for epoch seconds (the fraction dropped).
pub fn iso8601(secs: f64) -> String {
    let secs = secs.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What make deploy does with the event source mapping: one line,
/// `ACTION<TAB>LOGICAL_ID<TAB>WHY` (LOGICAL_ID `-` when there is no mapping).
///
/// ACTION is `none` (the template has no mapping), `create` (nothing deployed to continue
/// from: it starts at lambda_starting_position), `keep` (the deployed mapping stays; its
/// create-only starting position is kept), `replace` (its EventSourceArn changes: the new
/// mapping is created beside the old one, which is then deleted, in one update),
/// `replace-in-two-steps` (the same source: removed in one update, created in a second) or
/// `resume` (an earlier deploy removed it and did not create it again).
///
/// TEMPLATE is the synthesized template (cfn-out/stack.json); --deployed the stack's as
/// `aws cloudformation get-template --query TemplateBody --output json` prints it, absent
/// for a new stack. docs/mapping-replacement.md has the rules.
#[derive(Debug, Args)]
pub struct MappingPlanArgs {
    /// The deployed template (get-template's TemplateBody), when the stack exists.
    #[arg(long, value_name = "TEMPLATE_BODY")]
    pub deployed: Option<PathBuf>,

    /// The template to deploy, as synth wrote it.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,
}

/// Where the replacing mapping starts: one line, `START<TAB>FOR_PEOPLE<TAB>WHY`, START being
/// `AT_TIMESTAMP <epoch seconds>` or `TRIM_HORIZON` (what mapping-template --start takes),
/// FOR_PEOPLE the same with the time in ISO 8601 (`AT_TIMESTAMP 2026-11-25T08:00:00Z
/// (1795593600)`).
///
/// For `replace` and `replace-in-two-steps`: where the old mapping was reading (its
/// IteratorAge over the last function timeout + margin seconds), less the margin and its
/// batching window; earlier when lambda_starting_position changed to something earlier
/// (TRIM_HORIZON, an earlier AT_TIMESTAMP). For `resume`: what step 1 recorded. --start
/// (MAPPING_START) overrides it. A mapping that is not enabled, or that invoked nothing
/// while reporting a PROBLEM, is refused (exit 1) unless --start is given.
#[derive(Debug, Args)]
pub struct MappingStartArgs {
    /// The deployed template (get-template's TemplateBody).
    #[arg(long, value_name = "TEMPLATE_BODY")]
    pub deployed: Option<PathBuf>,

    /// The template to deploy, as synth wrote it.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The old mapping, as `aws lambda get-event-source-mapping --output json` prints it.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,

    /// Its function, as `aws lambda get-function-configuration --output json` prints it.
    #[arg(long, value_name = "FILE")]
    pub function: Option<PathBuf>,

    /// The function's IteratorAge, as `aws cloudwatch get-metric-statistics --namespace
    /// AWS/Lambda --metric-name IteratorAge --dimensions Name=FunctionName,Value=NAME
    /// --period 60 --statistics Maximum --output json` prints it.
    #[arg(long, value_name = "FILE")]
    pub iterator_age: Option<PathBuf>,

    /// Now, epoch seconds.
    #[arg(long, value_name = "SECS")]
    pub now: f64,

    /// The safety margin, seconds (MAPPING_MARGIN).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_MARGIN_SECS)]
    pub margin: u64,

    /// Start here instead (MAPPING_START): TRIM_HORIZON, epoch seconds or an ISO 8601 UTC
    /// time. Empty: not given.
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub start: Option<String>,
}

/// The template to deploy, as JSON: TEMPLATE with the mapping's start kept (`keep`), set to
/// --start (a replacement) or as configured (`create`), and what the configuration asked for
/// recorded in the mapping's Metadata (MappingStart). With --removal: step 1 of
/// `replace-in-two-steps`, the deployed template without the mapping (references to it read
/// "replacing") and --start and --why recorded in its Metadata (MappingReplacement).
#[derive(Debug, Args)]
pub struct MappingTemplateArgs {
    /// The deployed template (get-template's TemplateBody), when the stack exists.
    #[arg(long, value_name = "TEMPLATE_BODY")]
    pub deployed: Option<PathBuf>,

    /// The template to deploy, as synth wrote it.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// Where the replacing mapping starts, as mapping-start printed it.
    #[arg(long, value_name = "START")]
    pub start: Option<String>,

    /// Why, as mapping-start printed it.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub why: Option<String>,

    /// Print step 1 of a replacement in two steps instead.
    #[arg(long)]
    pub removal: bool,
}

/// Both templates and the plan.
fn planned(
    deployed: Option<&Path>,
    template: &Path,
) -> Result<(Option<Value>, Value, Plan), String> {
    let deployed = match deployed {
        Some(path) => {
            let (name, text) = super::read_input(path)?;
            Some(super::kept::template_from_body(&name, &text)?)
        }
        None => None,
    };
    let new = super::read_template(template)?;
    let plan = plan(deployed.as_ref(), &new)?;
    Ok((deployed, new, plan))
}

/// Prints the plan's line.
pub fn run_plan(args: &MappingPlanArgs) -> Result<Answer, String> {
    let (_, _, plan) = planned(args.deployed.as_deref(), &args.template)?;
    let logical_id = if plan.logical_id.is_empty() {
        "-"
    } else {
        &plan.logical_id
    };
    Ok(Answer::Print(super::tsv_line(&[
        plan.action.as_str(),
        logical_id,
        &plan.why,
    ])))
}

/// Prints the start and why, or says why none can be chosen (exit 1).
pub fn run_start(args: &MappingStartArgs) -> Result<Answer, String> {
    let (_, _, plan) = planned(args.deployed.as_deref(), &args.template)?;
    let given = match args.start.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Start::parse(text).map_err(|e| format!("MAPPING_START: {e}"))?),
    };
    let observed = match (&args.mapping, &args.function, &args.iterator_age) {
        (Some(mapping), Some(function), Some(ages)) if given.is_none() => {
            let (m, f, a) = (
                super::read_input(mapping)?,
                super::read_input(function)?,
                super::read_input(ages)?,
            );
            Some(Observed::read((&m.0, &m.1), (&f.0, &f.1), (&a.0, &a.1))?)
        }
        _ => None,
    };
    match choose(
        &plan,
        observed.as_ref(),
        args.now,
        args.margin as f64,
        given,
    ) {
        Ok(chosen) => Ok(Answer::Print(super::tsv_line(&[
            &chosen.start.label(),
            &chosen.start.describe(),
            &chosen.why,
        ]))),
        Err(reason) => Ok(Answer::No(Some(reason))),
    }
}

/// Prints the template to deploy (or step 1's).
pub fn run_template(args: &MappingTemplateArgs) -> Result<Answer, String> {
    let (deployed, new, plan) = planned(args.deployed.as_deref(), &args.template)?;
    let chosen = match &args.start {
        Some(start) => Some(Chosen {
            start: Start::parse_recorded(start)?,
            why: args.why.clone().unwrap_or_default(),
        }),
        None => None,
    };
    let template = if args.removal {
        let deployed = deployed.as_ref().ok_or("--removal needs --deployed")?;
        let chosen = chosen.as_ref().ok_or("--removal needs --start and --why")?;
        removal_template(&plan, deployed, chosen)?
    } else {
        final_template(&plan, deployed.as_ref(), &new, chosen.as_ref())?
    };
    serde_json::to_string_pretty(&template)
        .map(|text| Answer::Print(text + "\n"))
        .map_err(|e| format!("cannot write the template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(start: Value) -> Value {
        let mut props = json!({
            "EventSourceArn": {"Fn::GetAtt": ["EventStream", "Arn"]},
            "FunctionName": {"Ref": "ProcessorFunction"},
        });
        for (k, v) in start.as_object().unwrap() {
            props[k] = v.clone();
        }
        json!({"Type": MAPPING_TYPE, "Properties": props})
    }

    fn template(mapping: Value) -> Value {
        json!({
            "Resources": {
                "EventStream": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "s"}},
                "ProcessorFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
                "StreamMapping": mapping,
                "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": ["StreamMapping", "EventStream"],
                          "Properties": {"Dimensions": [{"Name": "EventSourceMappingUUID", "Value": {"Ref": "StreamMapping"}}]}},
                "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": {"Fn::Sub": "[\"${StreamMapping}\",\"${AWS::Region}\",\"${!StreamMapping}\",\"${StreamMappingX}\"]"}}},
                "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Resource": {"Fn::Sub": ["arn:${Mapping}:${StreamMapping.Arn}", {"Mapping": {"Ref": "StreamMapping"}}]}}},
            },
            "Outputs": {"EventSourceMappingId": {"Value": {"Ref": "StreamMapping"}},
                        "Arn": {"Value": {"Fn::GetAtt": ["StreamMapping", "EventSourceMappingArn"]}}},
        })
    }

    fn latest() -> Value {
        template(mapping(json!({"StartingPosition": "LATEST"})))
    }

    fn deployed_with(start: Value, configured: &str) -> Value {
        let mut t = template(mapping(start));
        t["Resources"]["StreamMapping"]["Metadata"] =
            json!({START_METADATA: {"Configured": configured, "Chosen": "earlier reasons"}});
        t
    }

    fn observed(ages: &[(f64, f64)]) -> Observed {
        Observed {
            uuid: "e40edd69".into(),
            state: Some("Enabled".into()),
            state_reason: Some("USER_INITIATED".into()),
            last_result: Some("OK".into()),
            batching_window_secs: 5.0,
            timeout_secs: 120.0,
            iterator_age: ages.to_vec(),
        }
    }

    const NOW: f64 = 1_764_000_000.0;

    #[test]
    fn starts_read_write_and_order() {
        let at = Start::of(
            &json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1764633600.0}),
        )
        .unwrap();
        assert_eq!(at, Start::AtTimestamp(1_764_633_600.0));
        assert_eq!(at.label(), "AT_TIMESTAMP 1764633600");
        assert_eq!(
            at.describe(),
            "AT_TIMESTAMP 2025-12-02T00:00:00Z (1764633600)"
        );
        assert_eq!(Start::parse(&at.label()), Ok(at));
        assert_eq!(Start::parse("2025-12-02T00:00:00Z"), Ok(at));
        assert_eq!(Start::parse("1764633600"), Ok(at));
        assert_eq!(Start::parse("TRIM_HORIZON"), Ok(Start::TrimHorizon));
        assert!(Start::parse("LATEST").unwrap_err().contains("would skip"));
        assert!(Start::parse("soon").unwrap_err().contains("got \"soon\""));
        assert_eq!(Start::parse_recorded("LATEST"), Ok(Start::Latest));
        assert!(Start::TrimHorizon.is_before(at) && at.is_before(Start::Latest));
        assert!(!Start::Latest.is_before(at));
        let text = Start::of(
            &json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": "12.5"}),
        );
        assert_eq!(text, Ok(Start::AtTimestamp(12.5)));
        assert!(Start::of(&json!({"StartingPosition": "AT_TIMESTAMP"})).is_err());
        assert!(Start::of(&json!({}))
            .unwrap_err()
            .contains("no StartingPosition"));
        let mut props = Map::new();
        at.apply(&mut props);
        assert_eq!(
            Value::Object(props.clone()),
            json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1764633600})
        );
        Start::Latest.apply(&mut props);
        assert_eq!(Value::Object(props), json!({"StartingPosition": "LATEST"}));
    }

    #[test]
    fn times_read_and_print_as_utc() {
        assert_eq!(parse_time("2026-11-25T08:00:00Z"), Some(1_795_593_600.0));
        assert_eq!(
            parse_time("2026-11-25T09:00:00+01:00"),
            Some(1_795_593_600.0)
        );
        assert_eq!(
            parse_time("2026-11-25 08:00:00.250+00:00"),
            Some(1_795_593_600.25)
        );
        assert_eq!(parse_time("1795593600"), Some(1_795_593_600.0));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_time("2000-02-29T12:00:00Z"), Some(951_825_600.0));
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-11-25",
            "2026-11-25T08:00:00+1",
            "nan",
            "x",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(iso8601(1_795_593_600.9), "2026-11-25T08:00:00Z");
        assert_eq!(iso8601(951_825_600.0), "2000-02-29T12:00:00Z");
        assert_eq!(iso8601(-1.0), "1969-12-31T23:59:59Z");
        for secs in [0.0, 951_782_400.0, 1_764_633_599.0, 4_102_444_800.0] {
            assert_eq!(parse_time(&iso8601(secs)), Some(secs));
        }
    }

    #[test]
    fn a_new_stack_creates_the_mapping_as_configured() {
        let p = plan(None, &latest()).unwrap();
        assert_eq!(p.action, Action::Create);
        assert_eq!(p.logical_id, "StreamMapping");
        assert!(p.why.contains("starts at LATEST"), "{}", p.why);
        let t = final_template(&p, None, &latest(), None).unwrap();
        assert_eq!(
            t["Resources"]["StreamMapping"]["Properties"]["StartingPosition"],
            "LATEST"
        );
        assert_eq!(
            t["Resources"]["StreamMapping"]["Metadata"],
            json!({START_METADATA: {"Configured": "LATEST"}})
        );
        let none = plan(None, &json!({"Resources": {}})).unwrap();
        assert_eq!(none.action, Action::None);
        assert_eq!(
            final_template(&none, None, &json!({"Resources": {}}), None).unwrap(),
            json!({"Resources": {}})
        );
    }

    #[test]
    fn a_start_make_deploy_chose_is_pinned_while_the_setting_is_unchanged() {
        let deployed = deployed_with(
            json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1764000000}),
            "LATEST",
        );
        let p = plan(Some(&deployed), &latest()).unwrap();
        assert_eq!(p.action, Action::Keep, "{}", p.why);
        assert!(
            p.why.contains("applies when a mapping is created"),
            "{}",
            p.why
        );
        let t = final_template(&p, Some(&deployed), &latest(), None).unwrap();
        assert_eq!(
            t["Resources"]["StreamMapping"],
            deployed["Resources"]["StreamMapping"]
        );
        // The template deployed next time plans the same again: nothing changes.
        assert_eq!(plan(Some(&t), &latest()).unwrap().action, Action::Keep);
        assert_eq!(final_template(&p, Some(&t), &latest(), None).unwrap(), t);
    }

    #[test]
    fn a_mapping_deployed_before_the_record_counts_its_own_start_as_configured() {
        let deployed = latest();
        let p = plan(Some(&deployed), &latest()).unwrap();
        assert_eq!(
            (p.action, p.why.as_str()),
            (Action::Keep, "StreamMapping keeps reading where it is")
        );
        let mut trim = latest();
        trim["Resources"]["StreamMapping"]["Properties"]["StartingPosition"] =
            "TRIM_HORIZON".into();
        let p = plan(Some(&deployed), &trim).unwrap();
        assert_eq!(p.action, Action::ReplaceInTwoSteps);
        assert_eq!(p.changed_from, Some(Start::Latest));
        assert!(
            p.why.contains("changed from LATEST to TRIM_HORIZON"),
            "{}",
            p.why
        );
    }

    #[test]
    fn another_source_is_replaced_in_one_update_and_a_maybe_in_two() {
        let deployed = latest();
        let mut efo = latest();
        efo["Resources"]["Consumer"] =
            json!({"Type": "AWS::Kinesis::StreamConsumer", "Properties": {"ConsumerName": "c"}});
        efo["Resources"]["StreamMapping"]["Properties"]["EventSourceArn"] =
            json!({"Fn::GetAtt": ["Consumer", "ConsumerARN"]});
        let p = plan(Some(&deployed), &efo).unwrap();
        assert_eq!(p.action, Action::Replace, "{}", p.why);
        assert!(p.why.contains("beside the old one"), "{}", p.why);
        // The stream replaced: the mapping's source changes though its text does not.
        let mut renamed = latest();
        renamed["Resources"]["EventStream"]["Properties"]["Name"] = "t".into();
        assert_eq!(
            plan(Some(&deployed), &renamed).unwrap().action,
            Action::Replace
        );
        let mut maybe = latest();
        maybe["Resources"]["EventStream"]["Properties"]["Name"] = json!({"Ref": "Name"});
        assert_eq!(
            plan(Some(&deployed), &maybe).unwrap().action,
            Action::ReplaceInTwoSteps
        );
    }

    #[test]
    fn the_new_mapping_starts_where_the_old_one_was_less_the_margin() {
        // Minutes at NOW-180 (2 s behind), NOW-120 (30 s behind), NOW-60 (1 s behind); one
        // older than timeout + margin (120 + 300 s) does not count.
        let obs = observed(&[
            (NOW - 900.0, 3_600_000.0),
            (NOW - 180.0, 2_000.0),
            (NOW - 120.0, 30_000.0),
            (NOW - 60.0, 1_000.0),
        ]);
        let (start, why) = continuation(&obs, NOW, 300.0).unwrap();
        assert_eq!(start, NOW - 180.0 - 2.0 - 300.0 - 5.0);
        assert!(
            why.starts_with("mapping e40edd69 had read every record that arrived before"),
            "{why}"
        );
        assert!(
            why.contains("less the 300 s margin and the 5 s batching window"),
            "{why}"
        );
        // A minute's datapoint is stamped with the minute's start: one that began before the
        // last timeout + margin seconds but overlaps them counts.
        let short = Observed {
            timeout_secs: 10.0,
            ..observed(&[(NOW - 70.0, 4_000.0), (NOW - 200.0, 0.0)])
        };
        assert_eq!(
            continuation(&short, NOW, 5.0).unwrap().0,
            NOW - 70.0 - 4.0 - 5.0 - 5.0
        );
        // Nothing invoked, nothing wrong: nothing was waiting.
        let (start, why) = continuation(&observed(&[]), NOW, 300.0).unwrap();
        assert_eq!(start, NOW - 305.0);
        assert!(why.contains("invoked nothing in the last 420 s"), "{why}");
    }

    #[test]
    fn a_mapping_that_cannot_say_where_it_is_is_refused() {
        let disabled = Observed {
            state: Some("Disabled".into()),
            ..observed(&[(NOW - 60.0, 0.0)])
        };
        let err = continuation(&disabled, NOW, 300.0).unwrap_err();
        assert!(
            err.starts_with("mapping e40edd69 is Disabled (USER_INITIATED)"),
            "{err}"
        );
        assert!(err.contains("MAPPING_START"), "{err}");
        let stuck = Observed {
            last_result: Some("PROBLEM: Function call failed".into()),
            ..observed(&[])
        };
        let err = continuation(&stuck, NOW, 300.0).unwrap_err();
        assert!(err.contains("PROBLEM: Function call failed"), "{err}");
        // A problem while it still invokes: its IteratorAge says where it is.
        let invoking = Observed {
            last_result: Some("PROBLEM: Function call failed".into()),
            ..observed(&[(NOW - 60.0, 10_000.0)])
        };
        assert_eq!(
            continuation(&invoking, NOW, 300.0).unwrap().0,
            NOW - 60.0 - 10.0 - 305.0
        );
    }

    #[test]
    fn a_changed_setting_starts_earlier_only_when_it_asks_for_earlier() {
        let obs = observed(&[(NOW - 60.0, 0.0)]);
        let continued = Start::AtTimestamp(NOW - 365.0);
        let mut p = plan(Some(&latest()), &{
            let mut t = latest();
            t["Resources"]["StreamMapping"]["Properties"]["StartingPosition"] =
                "TRIM_HORIZON".into();
            t
        })
        .unwrap();
        let chosen = choose(&p, Some(&obs), NOW, 300.0, None).unwrap();
        assert_eq!(chosen.start, Start::TrimHorizon, "{}", chosen.why);
        // TRIM_HORIZON → LATEST: LATEST would skip, so the new mapping continues.
        p.changed_from = Some(Start::TrimHorizon);
        p.configured = Some(Start::Latest);
        let chosen = choose(&p, Some(&obs), NOW, 300.0, None).unwrap();
        assert_eq!(chosen.start, continued);
        assert!(chosen.why.ends_with("lambda_starting_position LATEST would skip what the old mapping had not read, so the new one starts there"), "{}", chosen.why);
        p.configured = Some(Start::AtTimestamp(NOW - 3600.0));
        assert_eq!(
            choose(&p, Some(&obs), NOW, 300.0, None).unwrap().start,
            Start::AtTimestamp(NOW - 3600.0)
        );
        let given = choose(&p, None, NOW, 300.0, Some(Start::AtTimestamp(NOW))).unwrap();
        assert_eq!(
            (given.start, given.why.starts_with("MAPPING_START")),
            (Start::AtTimestamp(NOW), true)
        );
        assert!(choose(&p, None, NOW, 300.0, None)
            .unwrap_err()
            .contains("--iterator-age"));
        let keep = plan(Some(&latest()), &latest()).unwrap();
        assert!(choose(&keep, Some(&obs), NOW, 300.0, None)
            .unwrap_err()
            .contains("says keep"));
    }

    #[test]
    fn step_one_removes_the_mapping_and_every_reference_to_it() {
        let deployed = latest();
        let mut trim = latest();
        trim["Resources"]["StreamMapping"]["Properties"]["StartingPosition"] =
            "TRIM_HORIZON".into();
        let p = plan(Some(&deployed), &trim).unwrap();
        let chosen = Chosen {
            start: Start::AtTimestamp(NOW),
            why: "because".into(),
        };
        let step1 = removal_template(&p, &deployed, &chosen).unwrap();
        let resources = &step1["Resources"];
        assert!(resources.get("StreamMapping").is_none());
        assert_eq!(resources["Alarm"]["DependsOn"], json!(["EventStream"]));
        assert_eq!(
            resources["Alarm"]["Properties"]["Dimensions"][0]["Value"],
            PLACEHOLDER
        );
        assert_eq!(
            resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"],
            "[\"replacing\",\"${AWS::Region}\",\"${!StreamMapping}\",\"${StreamMappingX}\"]"
        );
        // A Sub variable of the same name shadows the resource; its value is a reference.
        assert_eq!(
            resources["Policy"]["Properties"]["Resource"]["Fn::Sub"],
            json!(["arn:${Mapping}:replacing", {"Mapping": "replacing"}])
        );
        assert_eq!(
            step1["Outputs"]["EventSourceMappingId"]["Value"],
            PLACEHOLDER
        );
        assert_eq!(step1["Outputs"]["Arn"]["Value"], PLACEHOLDER);
        assert!(!step1.to_string().contains("\"Ref\":\"StreamMapping\""));
        assert_eq!(
            step1["Metadata"][PENDING_METADATA],
            json!({"Mapping": "StreamMapping", "Start": format!("AT_TIMESTAMP {}", NOW as i64), "Configured": "TRIM_HORIZON", "Why": "because"})
        );
        // Step 2 after a failure: the deployed template is step 1's.
        let resumed = plan(Some(&step1), &trim).unwrap();
        assert_eq!(resumed.action, Action::Resume, "{}", resumed.why);
        let chosen = choose(&resumed, None, NOW + 600.0, 300.0, None).unwrap();
        assert_eq!(chosen.start, Start::AtTimestamp(NOW));
        assert_eq!(chosen.why, "as chosen at step 1: because");
        let t = final_template(&resumed, Some(&step1), &trim, Some(&chosen)).unwrap();
        assert_eq!(
            t["Resources"]["StreamMapping"]["Properties"]["StartingPosition"],
            "AT_TIMESTAMP"
        );
        assert_eq!(
            t["Resources"]["StreamMapping"]["Metadata"][START_METADATA]["Configured"],
            "TRIM_HORIZON"
        );
        assert!(
            t.get("Metadata").is_none(),
            "the final template carries no pending replacement"
        );
        let keep = plan(Some(&deployed), &latest()).unwrap();
        assert!(removal_template(&keep, &deployed, &chosen).is_err());
    }

    #[test]
    fn what_the_aws_cli_printed_is_read() {
        let esm = r#"{"UUID": "e40edd69", "State": "Enabled", "StateTransitionReason": "USER_INITIATED",
                      "LastModified": "2026-11-25T08:00:00+00:00", "MaximumBatchingWindowInSeconds": 5}"#;
        let function = r#"{"FunctionName": "f", "Timeout": 60}"#;
        let stats = r#"{"Label": "IteratorAge", "Datapoints": [
            {"Timestamp": "2026-11-25T08:01:00+00:00", "Maximum": 1500.0, "Unit": "Milliseconds"},
            {"Timestamp": "2026-11-25T08:00:00Z", "Maximum": 900.0, "Unit": "Milliseconds"}]}"#;
        let obs = Observed::read(("m", esm), ("f", function), ("a", stats)).unwrap();
        assert_eq!(obs.uuid, "e40edd69");
        assert_eq!(obs.last_result, None);
        assert_eq!((obs.batching_window_secs, obs.timeout_secs), (5.0, 60.0));
        assert_eq!(
            obs.iterator_age,
            [(1_795_593_600.0, 900.0), (1_795_593_660.0, 1500.0)]
        );
        let err = Observed::read(("m", esm), ("f", "{}"), ("a", stats)).unwrap_err();
        assert!(err.contains("no Timeout"), "{err}");
        let err = Observed::read(
            ("m", esm),
            ("f", function),
            ("a", r#"{"Datapoints": [{"Maximum": 1}]}"#),
        )
        .unwrap_err();
        assert!(err.contains("without Timestamp"), "{err}");
    }

    #[test]
    fn several_mappings_are_refused() {
        let mut t = latest();
        t["Resources"]["Other"] = mapping(json!({"StartingPosition": "LATEST"}));
        assert!(plan(None, &t)
            .unwrap_err()
            .contains("several event source mappings"));
    }
}
