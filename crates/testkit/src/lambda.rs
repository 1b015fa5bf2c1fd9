//! A stand-in for Lambda's synchronous Invoke API on loopback. moto runs functions only in
//! Docker, which tests here do not have; this server answers `Invoke` by calling a function
//! the test gives it (the processor's handler, in-process) and forwards every other request
//! (GetFunctionConfiguration, ...) to moto. Point a client at it with
//! `AWS_ENDPOINT_URL_LAMBDA`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::proxy::{forward, read_message, Message};

/// One Invoke request.
#[derive(Debug, Clone)]
pub struct Invoke {
    /// The function named in the path.
    pub function: String,
    /// The decoded `X-Amz-Client-Context` (JSON), when given.
    pub client_context: Option<String>,
    /// The payload.
    pub payload: Vec<u8>,
    /// The request ID the response will carry (`x-amzn-RequestId`).
    pub request_id: String,
}

/// What the function answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The response payload.
    pub payload: Vec<u8>,
    /// `Unhandled` (or another kind) when the function failed.
    pub function_error: Option<String>,
}

/// The function behind the stand-in.
pub type Function =
    Arc<dyn Fn(Invoke) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// A running stand-in.
pub struct InvokeStandIn {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Invoke requests answered.
    pub invocations: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InvokeStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InvokeStandIn {
    /// Listens on a free loopback port; Invoke goes to `function`, the rest to moto on
    /// `upstream_port`.
    pub async fn start(upstream_port: u16, function: Function) -> InvokeStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let invocations = Arc::new(AtomicUsize::new(0));
        let counted = invocations.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (function, counted) = (function.clone(), counted.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, function, counted).await;
                });
            }
        });
        InvokeStandIn {
            endpoint: format!("http://127.0.0.1:{port}"),
            invocations,
            task,
        }
    }
}

/// `/2015-03-31/functions/NAME/invocations` → NAME.
fn invoked_function(head: &str) -> Option<String> {
    let path = head.lines().next()?.split(' ').nth(1)?;
    let rest = path.strip_prefix("/2015-03-31/functions/")?;
    let (name, tail) = rest.split_once('/')?;
    tail.starts_with("invocations").then(|| name.to_owned())
}

async fn serve(
    mut client: TcpStream,
    upstream_port: u16,
    function: Function,
    invocations: Arc<AtomicUsize>,
) -> Option<()> {
    let mut buffer = Vec::new();
    loop {
        let request = read_message(&mut client, &mut buffer, false).await?;
        let response = match invoked_function(&request.head) {
            Some(name) => {
                let n = invocations.fetch_add(1, Ordering::Relaxed) + 1;
                let client_context = request.header("x-amz-client-context").and_then(|c| {
                    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
                    String::from_utf8(bytes).ok()
                });
                let invoke = Invoke {
                    function: name,
                    client_context,
                    payload: request.body,
                    request_id: format!("standin-{n}"),
                };
                let request_id = invoke.request_id.clone();
                answer(function(invoke).await, &request_id)
            }
            None => forward(&request, upstream_port).await?,
        };
        client.write_all(&response.encode(true)).await.ok()?;
    }
}

fn answer(answer: Answer, request_id: &str) -> Message {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: {request_id}\r\nX-Amz-Executed-Version: $LATEST"
    );
    if let Some(kind) = answer.function_error {
        head.push_str(&format!("\r\nX-Amz-Function-Error: {kind}"));
    }
    Message {
        head,
        body: answer.payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_invoke_paths_name_a_function() {
        assert_eq!(
            invoked_function("POST /2015-03-31/functions/my-fn/invocations HTTP/1.1"),
            Some("my-fn".to_owned())
        );
        assert_eq!(
            invoked_function("GET /2015-03-31/functions/my-fn/configuration HTTP/1.1"),
            None
        );
    }
}
