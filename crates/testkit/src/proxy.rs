//! A fault-injecting HTTP/1.1 proxy on loopback in front of moto. moto never throttles,
//! never returns UnprocessedItems and never fails a batch entry, so only this proxy exercises
//! those paths: it answers some BatchWriteItem calls with throttling errors, forwards part of
//! others and returns the rest as UnprocessedItems, and fails some SendMessageBatch entries.
//! Request bodies change, so signatures no longer match; moto does not check them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each fault happens.
#[derive(Debug, Clone, Copy)]
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

/// What the proxy saw and did.
#[derive(Debug, Default)]
pub struct Counts {
    pub batch_writes: AtomicUsize,
    pub throttled: AtomicUsize,
    pub partial: AtomicUsize,
    pub send_batches: AtomicUsize,
    pub failed_entries: AtomicUsize,
    pub put_metric_data: AtomicUsize,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream_port`.
    pub async fn start(upstream_port: u16, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let counts = Arc::new(Counts::default());
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed)));
        let shared = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (counts, rng) = (shared.clone(), rng.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, faults, counts, rng).await;
                });
            }
        });
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            counts,
            task,
        }
    }
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

async fn serve(
    mut client: TcpStream,
    upstream_port: u16,
    faults: Faults,
    counts: Arc<Counts>,
    rng: Arc<Mutex<fastrand::Rng>>,
) -> Option<()> {
    let mut buffer = Vec::new();
    loop {
        let request = read_message(&mut client, &mut buffer, false).await?;
        let target = request
            .header("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        if target.ends_with("PutMetricData")
            || String::from_utf8_lossy(&request.body).contains("Action=PutMetricData")
        {
            counts.put_metric_data.fetch_add(1, Ordering::Relaxed);
        }
        let roll = |rng: &Mutex<fastrand::Rng>| rng.lock().map(|mut r| r.f64()).unwrap_or(1.0);
        let response = if target.ends_with(".BatchWriteItem") {
            counts.batch_writes.fetch_add(1, Ordering::Relaxed);
            let r = roll(&rng);
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
            failing_send(request, upstream_port, faults.failed_entry, &rng, &counts).await?
        } else {
            forward(&request, upstream_port).await?
        };
        client.write_all(&response.encode(true)).await.ok()?;
    }
}

pub(crate) async fn forward(request: &Message, upstream_port: u16) -> Option<Message> {
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))
        .await
        .ok()?;
    upstream.write_all(&request.encode(false)).await.ok()?;
    let mut buffer = Vec::new();
    read_message(&mut upstream, &mut buffer, true).await
}

fn json_response(status: &str, body: Value, error_type: Option<&str>) -> Message {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.0");
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
    Some(json_response("200 OK", answer, None))
}
