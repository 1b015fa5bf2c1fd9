//! A fault-injecting HTTP/1.1 proxy on loopback in front of moto. moto never throttles,
//! never returns UnprocessedItems and never fails a batch entry, so only this proxy exercises
//! those paths: it answers some BatchWriteItem calls with throttling errors, forwards part of
//! others and returns the rest as UnprocessedItems, and fails some SendMessageBatch entries.
//!
//! For Kinesis ([`KinesisFaults`]) it rejects some PutRecords entries the way Kinesis does
//! (`ProvisionedThroughputExceededException` per entry, `FailedRecordCount` counting them,
//! the other entries forwarded), throttles whole calls (400
//! `ProvisionedThroughputExceededException` or `LimitExceededException`), drops connections
//! before or after forwarding a call, and can die mid-run ([`Proxy::kill`], or after a
//! number of calls). PutRecords is recognised as AWS JSON 1.1 (`X-Amz-Target:
//! Kinesis_20131202.PutRecords`), which is what the Rust SDK sends (aws-sdk-kinesis 1.x
//! serializes Kinesis with `aws_json_1_1`); a PutRecords body that is not JSON (the CBOR
//! some other SDKs use) is forwarded untouched and counted in [`Counts::unparsed`].
//!
//! Request bodies change, so signatures no longer match; moto does not check them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each DynamoDB and SQS fault happens. `Faults::default()` (or
/// [`Faults::none`]) injects none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Share of BatchWriteItem calls answered with ProvisionedThroughputExceededException.
    pub throttle: f64,
    /// Share of BatchWriteItem calls that write only part and return the rest unprocessed.
    pub partial: f64,
    /// Share of SendMessageBatch entries that fail.
    pub failed_entry: f64,
    /// Seed of the fault sequence.
    pub seed: u64,
}

impl Faults {
    /// No DynamoDB or SQS faults (for a proxy that only breaks Kinesis).
    pub fn none() -> Faults {
        Faults::default()
    }
}

/// How often each Kinesis fault happens (PutRecords only; reads pass through).
/// `KinesisFaults::default()` injects none. The draws follow from [`Faults::seed`]: one
/// sequence for calls and one for entries, so the n-th call's fate does not depend on how
/// many entries the calls before it had.
#[derive(Debug, Clone, Copy, Default)]
pub struct KinesisFaults {
    /// Share of PutRecords entries rejected with `ProvisionedThroughputExceededException`;
    /// the call's other entries are forwarded and answered as Kinesis answers them.
    pub rejected_entry: f64,
    /// Share of PutRecords calls answered 400, `ProvisionedThroughputExceededException` and
    /// `LimitExceededException` taking turns; nothing is forwarded.
    pub throttle: f64,
    /// Share of PutRecords calls whose connection is closed before they are forwarded:
    /// nothing reaches the stream.
    pub drop_before: f64,
    /// Share of PutRecords calls forwarded, then their connection closed before the answer:
    /// the records are in the stream but the client cannot know.
    pub drop_after: f64,
    /// After this many PutRecords calls the proxy dies: the next call's connection is
    /// closed unforwarded and new connections are refused, as with a killed server.
    pub die_after_calls: Option<usize>,
}

/// What the proxy saw and did.
#[derive(Debug, Default)]
pub struct Counts {
    /// BatchWriteItem calls seen.
    pub batch_writes: AtomicUsize,
    /// BatchWriteItem calls answered with throttling.
    pub throttled: AtomicUsize,
    /// BatchWriteItem calls answered with some items unprocessed.
    pub partial: AtomicUsize,
    /// SendMessageBatch calls seen.
    pub send_batches: AtomicUsize,
    /// SendMessageBatch entries answered as failed.
    pub failed_entries: AtomicUsize,
    /// PutMetricData calls seen (the processor must make none: its metrics are EMF).
    pub put_metric_data: AtomicUsize,
    /// PutRecords calls seen.
    pub put_records: AtomicUsize,
    /// PutRecords entries seen (in calls that were not throttled or dropped before).
    pub entries: AtomicUsize,
    /// Entries rejected one by one.
    pub rejected_entries: AtomicUsize,
    /// PutRecords calls throttled as a whole.
    pub throttled_calls: AtomicUsize,
    /// PutRecords connections dropped before forwarding.
    pub dropped_before: AtomicUsize,
    /// PutRecords connections dropped after forwarding.
    pub dropped_after: AtomicUsize,
    /// PutRecords calls whose body was not JSON, forwarded untouched.
    pub unparsed: AtomicUsize,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// What it saw and did so far.
    pub counts: Arc<Counts>,
    life: Arc<Life>,
    task: tokio::task::JoinHandle<()>,
}

/// Whether the proxy is dead, and the signal that stops its listener.
#[derive(Debug, Default)]
struct Life {
    dead: AtomicBool,
    shutdown: Notify,
}

impl Life {
    fn die(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.shutdown.notify_one();
    }

    fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.life.die();
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream_port`.
    pub async fn start(upstream_port: u16, faults: Faults) -> Proxy {
        Proxy::start_with(upstream_port, faults, KinesisFaults::default()).await
    }

    /// [`Proxy::start`] with Kinesis faults as well.
    pub async fn start_with(upstream_port: u16, faults: Faults, kinesis: KinesisFaults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let counts = Arc::new(Counts::default());
        let life = Arc::new(Life::default());
        let shared = Shared {
            upstream_port,
            faults,
            kinesis,
            counts: counts.clone(),
            rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed))),
            call_rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed ^ 0xca11))),
            entry_rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed ^ 0xe4721))),
            life: life.clone(),
        };
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = shared.life.shutdown.notified() => break,
                };
                let Ok((client, _)) = accepted else { break };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(client, shared).await;
                });
            }
            // The listener is dropped here: new connections are refused.
        });
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            counts,
            life,
            task,
        }
    }

    /// Kills the proxy as if its process died between two requests: new connections are
    /// refused and every request that arrives from now on has its connection closed
    /// without being forwarded. A request already forwarded still gets its answer.
    pub fn kill(&self) {
        self.life.die();
    }
}

/// What every connection of a proxy shares.
#[derive(Clone)]
struct Shared {
    upstream_port: u16,
    faults: Faults,
    kinesis: KinesisFaults,
    counts: Arc<Counts>,
    rng: Arc<Mutex<fastrand::Rng>>,
    call_rng: Arc<Mutex<fastrand::Rng>>,
    entry_rng: Arc<Mutex<fastrand::Rng>>,
    life: Arc<Life>,
}

/// A draw from `rng`, in `[0, 1)`.
fn roll(rng: &Mutex<fastrand::Rng>) -> f64 {
    rng.lock().map(|mut r| r.f64()).unwrap_or(1.0)
}

/// An HTTP/1.1 request or response as the proxy reads it.
pub(crate) struct Message {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Message {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The head with Content-Length set to the body's and the connection closed after.
    pub(crate) fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = String::new();
        for (i, line) in self.head.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            if i > 0
                && (lower.starts_with("content-length:")
                    || lower.starts_with("connection:")
                    || lower.starts_with("transfer-encoding:"))
            {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        out.push_str(if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

pub(crate) async fn read_message(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    until_close: bool,
) -> Option<Message> {
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end + 4);
    let mut message = Message {
        head,
        body: Vec::new(),
    };
    let length = message
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    match length {
        Some(length) => {
            while buffer.len() < length {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            message.body = buffer.drain(..length).collect();
        }
        None if until_close => {
            stream.read_to_end(buffer).await.ok()?;
            message.body = std::mem::take(buffer);
        }
        None => {}
    }
    Some(message)
}

async fn serve(mut client: TcpStream, shared: Shared) -> Option<()> {
    let (upstream_port, faults, counts) = (shared.upstream_port, shared.faults, &shared.counts);
    let mut buffer = Vec::new();
    loop {
        let request = read_message(&mut client, &mut buffer, false).await?;
        if shared.life.is_dead() {
            return None;
        }
        let target = request
            .header("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        if target.ends_with("PutMetricData")
            || String::from_utf8_lossy(&request.body).contains("Action=PutMetricData")
        {
            counts.put_metric_data.fetch_add(1, Ordering::Relaxed);
        }
        let response = if target.ends_with(".BatchWriteItem") {
            counts.batch_writes.fetch_add(1, Ordering::Relaxed);
            let r = roll(&shared.rng);
            if r < faults.throttle {
                counts.throttled.fetch_add(1, Ordering::Relaxed);
                throttled()
            } else if r < faults.throttle + faults.partial {
                counts.partial.fetch_add(1, Ordering::Relaxed);
                partial_write(request, upstream_port).await?
            } else {
                forward(&request, upstream_port).await?
            }
        } else if target.ends_with(".SendMessageBatch") {
            counts.send_batches.fetch_add(1, Ordering::Relaxed);
            failing_send(
                request,
                upstream_port,
                faults.failed_entry,
                &shared.rng,
                counts,
            )
            .await?
        } else if target == "Kinesis_20131202.PutRecords" {
            put_records(request, &shared).await?
        } else {
            forward(&request, upstream_port).await?
        };
        client.write_all(&response.encode(true)).await.ok()?;
    }
}

/// PutRecords with the Kinesis faults; `None` closes the client's connection unanswered.
async fn put_records(request: Message, shared: &Shared) -> Option<Message> {
    let (kinesis, counts) = (&shared.kinesis, &shared.counts);
    let call = counts.put_records.fetch_add(1, Ordering::Relaxed);
    if kinesis.die_after_calls.is_some_and(|n| call >= n) {
        shared.life.die();
        return None;
    }
    let r = roll(&shared.call_rng);
    if r < kinesis.throttle {
        let n = counts.throttled_calls.fetch_add(1, Ordering::Relaxed);
        return Some(kinesis_throttled(n % 2 == 1));
    }
    if r < kinesis.throttle + kinesis.drop_before {
        counts.dropped_before.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let drop_after = r < kinesis.throttle + kinesis.drop_before + kinesis.drop_after;
    let response = rejecting_put(request, shared).await?;
    if drop_after {
        counts.dropped_after.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    Some(response)
}

/// Rejects a share of the entries (not forwarded, answered as throttled) and forwards the
/// rest, merging the answers back into the request's order.
async fn rejecting_put(mut request: Message, shared: &Shared) -> Option<Message> {
    let counts = &shared.counts;
    let Ok(mut body) = serde_json::from_slice::<Value>(&request.body) else {
        counts.unparsed.fetch_add(1, Ordering::Relaxed);
        return forward(&request, shared.upstream_port).await;
    };
    let stream = body["StreamName"].as_str().unwrap_or("stream").to_owned();
    let entries = body["Records"].as_array_mut()?;
    counts.entries.fetch_add(entries.len(), Ordering::Relaxed);
    let rejected: Vec<bool> = entries
        .iter()
        .map(|_| roll(&shared.entry_rng) < shared.kinesis.rejected_entry)
        .collect();
    let mut position = 0;
    entries.retain(|_| {
        position += 1;
        !rejected[position - 1]
    });
    let refused = rejected.iter().filter(|r| **r).count();
    counts
        .rejected_entries
        .fetch_add(refused, Ordering::Relaxed);
    let mut upstream = if entries.is_empty() {
        json!({"FailedRecordCount": 0, "Records": []})
    } else {
        request.body = body.to_string().into_bytes();
        let response = forward(&request, shared.upstream_port).await?;
        if !response.head.starts_with("HTTP/1.1 200") && !response.head.starts_with("HTTP/1.0 200")
        {
            return Some(response);
        }
        serde_json::from_slice(&response.body).ok()?
    };
    let upstream_failed = upstream["FailedRecordCount"].as_u64().unwrap_or(0);
    let mut accepted = std::mem::take(upstream["Records"].as_array_mut()?).into_iter();
    let merged: Vec<Value> = rejected
        .iter()
        .map(|&refused| {
            if refused {
                json!({"ErrorCode": "ProvisionedThroughputExceededException",
                       "ErrorMessage": format!("Rate exceeded for shard in stream {stream} \
                                                under account 123456789012 (injected).")})
            } else {
                accepted.next().unwrap_or(Value::Null)
            }
        })
        .collect();
    let failed = upstream_failed + refused as u64;
    let answer = json!({"FailedRecordCount": failed, "Records": merged});
    Some(json_response("200 OK", KINESIS_JSON, answer, None))
}

const KINESIS_JSON: &str = "application/x-amz-json-1.1";

/// A whole PutRecords call throttled, as Kinesis answers it.
fn kinesis_throttled(limit: bool) -> Message {
    let (kind, message) = if limit {
        (
            "LimitExceededException",
            "Rate exceeded for stream (injected).",
        )
    } else {
        (
            "ProvisionedThroughputExceededException",
            "Rate exceeded for stream under account 123456789012 (injected).",
        )
    };
    json_response(
        "400 Bad Request",
        KINESIS_JSON,
        json!({"__type": kind, "message": message}),
        Some(kind),
    )
}

pub(crate) async fn forward(request: &Message, upstream_port: u16) -> Option<Message> {
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))
        .await
        .ok()?;
    upstream.write_all(&request.encode(false)).await.ok()?;
    let mut buffer = Vec::new();
    read_message(&mut upstream, &mut buffer, true).await
}

const DYNAMODB_JSON: &str = "application/x-amz-json-1.0";

fn json_response(
    status: &str,
    content_type: &str,
    body: Value,
    error_type: Option<&str>,
) -> Message {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}");
    if let Some(kind) = error_type {
        head.push_str(&format!("\r\nx-amzn-ErrorType: {kind}"));
    }
    Message {
        head,
        body: body.to_string().into_bytes(),
    }
}

fn throttled() -> Message {
    json_response(
        "400 Bad Request",
        DYNAMODB_JSON,
        json!({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
               "message": "The level of configured provisioned throughput for the table was exceeded (injected)"}),
        Some("ProvisionedThroughputExceededException"),
    )
}

/// Forwards the first half of every table's requests and returns the rest as unprocessed.
async fn partial_write(mut request: Message, upstream_port: u16) -> Option<Message> {
    let mut body: Value = serde_json::from_slice(&request.body).ok()?;
    let mut held_back = serde_json::Map::new();
    for (table, requests) in body["RequestItems"].as_object_mut()? {
        let list = requests.as_array_mut()?;
        let keep = list.len().div_ceil(2);
        let rest: Vec<Value> = list.split_off(keep);
        if !rest.is_empty() {
            held_back.insert(table.clone(), Value::Array(rest));
        }
    }
    request.body = body.to_string().into_bytes();
    let mut response = forward(&request, upstream_port).await?;
    let mut answer: Value = serde_json::from_slice(&response.body).ok()?;
    answer["UnprocessedItems"] = Value::Object(held_back);
    response.body = answer.to_string().into_bytes();
    Some(response)
}

/// Fails a share of the entries: they are not forwarded and are reported as failed.
async fn failing_send(
    mut request: Message,
    upstream_port: u16,
    share: f64,
    rng: &Mutex<fastrand::Rng>,
    counts: &Counts,
) -> Option<Message> {
    let mut body: Value = serde_json::from_slice(&request.body).ok()?;
    let entries = body["Entries"].as_array_mut()?;
    let mut failed = Vec::new();
    entries.retain(|entry| {
        let fail = rng.lock().map(|mut r| r.f64() < share).unwrap_or(false);
        if fail {
            failed.push(
                json!({"Id": entry["Id"], "SenderFault": false, "Code": "InternalError",
                               "Message": "injected failure"}),
            );
        }
        !fail
    });
    counts
        .failed_entries
        .fetch_add(failed.len(), Ordering::Relaxed);
    let mut answer = if entries.is_empty() {
        json!({"Successful": []})
    } else {
        request.body = body.to_string().into_bytes();
        let response = forward(&request, upstream_port).await?;
        serde_json::from_slice(&response.body).ok()?
    };
    answer["Failed"] = Value::Array(failed);
    Some(json_response("200 OK", DYNAMODB_JSON, answer, None))
}
