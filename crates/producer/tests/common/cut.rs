//! A proxy in front of moto that dies in the middle of a PutRecords call: the endpoint
//! killed while the producer waits for an answer. testkit's fault proxy dies only between
//! calls (the next call's connection closed unforwarded); this one chooses what the dying
//! call had done ([`When`]), which decides whether the stream holds its records although
//! the producer never hears so.
//!
//! Each client request goes to moto on a connection of its own; answers go back with
//! their length and the client's connection kept open, as a server's would. Once dead, the
//! proxy refuses new connections and closes the open ones, as a killed server's do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the call the proxy dies in has done when the connection is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The request was read, not forwarded: the stream does not hold its records.
    BeforeForwarding,
    /// The request was forwarded and the connections cut at once: moto takes it (or not)
    /// with nobody listening.
    AfterForwarding,
    /// moto answered; the answer is dropped: the stream holds the records it accepted.
    AfterAnswer,
    /// moto answered; half of the answer reaches the client before the cut.
    MidAnswer,
}

impl When {
    /// Every kind of cut, in turn.
    pub const ALL: [When; 4] = [
        When::BeforeForwarding,
        When::AfterForwarding,
        When::AfterAnswer,
        When::MidAnswer,
    ];
}

/// A running proxy.
pub struct Cut {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

struct Shared {
    upstream_port: u16,
    /// The PutRecords call (from 0) that dies, and how.
    dies_at: usize,
    when: When,
    calls: AtomicUsize,
    dead: watch::Sender<bool>,
}

impl Shared {
    fn die(&self) {
        self.dead.send_replace(true);
    }

    fn is_dead(&self) -> bool {
        *self.dead.borrow()
    }

    /// Returns once the proxy is dead.
    async fn death(&self) {
        let mut dead = self.dead.subscribe();
        let _ = dead.wait_for(|dead| *dead).await;
    }
}

impl Cut {
    /// Listens on a free loopback port, forwards to moto on `upstream_port`, and dies in
    /// PutRecords call number `dies_at` (from 0) as `when` says.
    pub async fn start(upstream_port: u16, dies_at: usize, when: When) -> Cut {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared = Arc::new(Shared {
            upstream_port,
            dies_at,
            when,
            calls: AtomicUsize::new(0),
            dead: watch::Sender::new(false),
        });
        let accepting = shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = accepting.death() => break,
                };
                let Ok((client, _)) = accepted else { break };
                tokio::spawn(serve(client, accepting.clone()));
            }
            // The listener is dropped here: new connections are refused.
        });
        Cut {
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    /// Whether the proxy has died.
    pub fn is_dead(&self) -> bool {
        self.shared.is_dead()
    }
}

impl Drop for Cut {
    fn drop(&mut self) {
        self.shared.die();
    }
}

/// Serves one client connection until it closes or the proxy dies.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) -> Option<()> {
    let mut buffer = Vec::new();
    loop {
        let request = tokio::select! {
            request = read_message(&mut client, &mut buffer) => request?,
            _ = shared.death() => return None,
        };
        if shared.is_dead() {
            return None;
        }
        let put_records = request
            .header("x-amz-target")
            .is_some_and(|t| t == "Kinesis_20131202.PutRecords");
        let dies = put_records && shared.calls.fetch_add(1, Ordering::SeqCst) == shared.dies_at;
        if !dies {
            let answer = forward(&request, shared.upstream_port).await?;
            client.write_all(&answer.encode("keep-alive")).await.ok()?;
            continue;
        }
        shared.die();
        match shared.when {
            When::BeforeForwarding => {}
            When::AfterForwarding => {
                let mut upstream = TcpStream::connect(("127.0.0.1", shared.upstream_port))
                    .await
                    .ok()?;
                upstream.write_all(&request.encode("close")).await.ok()?;
            }
            When::AfterAnswer => {
                forward(&request, shared.upstream_port).await?;
            }
            When::MidAnswer => {
                let answer = forward(&request, shared.upstream_port)
                    .await?
                    .encode("keep-alive");
                client.write_all(&answer[..answer.len() / 2]).await.ok()?;
            }
        }
        return None;
    }
}

/// An HTTP/1.1 message: its head (start line and headers) and its body.
struct Message {
    head: String,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The message with its body's length and `connection` as its Connection header.
    fn encode(&self, connection: &str) -> Vec<u8> {
        let mut out = String::new();
        for (i, line) in self.head.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            let framing = ["content-length:", "connection:", "transfer-encoding:"];
            if i > 0 && framing.iter().any(|h| lower.starts_with(h)) {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one message whose body has a Content-Length (or none); `None` when the
/// connection ends first.
async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Message> {
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        read_more(stream, buffer).await?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end + 4);
    let mut message = Message {
        head,
        body: Vec::new(),
    };
    let length: usize = message
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < length {
        read_more(stream, buffer).await?;
    }
    message.body = buffer.drain(..length).collect();
    Some(message)
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.ok()?;
    buffer.extend_from_slice(&chunk[..n]);
    (n > 0).then_some(())
}

/// Sends `request` to moto on a connection of its own and returns the answer.
async fn forward(request: &Message, upstream_port: u16) -> Option<Message> {
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))
        .await
        .ok()?;
    upstream.write_all(&request.encode("close")).await.ok()?;
    read_message(&mut upstream, &mut Vec::new()).await
}
