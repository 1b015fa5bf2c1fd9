//! Starts moto's server (from the project's .venv) on a free loopback port and stops it when
//! dropped.

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The port it listens on.
    pub port: u16,
}

impl Moto {
    /// Starts moto and waits until it answers HTTP on its port.
    ///
    /// A server that exits before it answers (its port was taken meanwhile: the port is
    /// free when picked, but a test's client socket may get it as its local port before
    /// the server binds) is started again on another port, up to three times.
    pub fn start() -> Moto {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Moto::start_once() {
                Ok(moto) => return moto,
                Err(why) => failures.push(why),
            }
        }
        panic!("moto did not start: {}", failures.join("; "))
    }

    fn start_once() -> Result<Moto, String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} not found: run `make venv` first",
            python.display()
        );
        let port = free_port();
        // tools/moto_server.py is moto_server with a fix for a moto bug our stack hits.
        let child = Command::new(&python)
            .arg(root.join("tools/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("the server for port {port} exited ({status})"));
            }
            if answers_http(port) {
                return Ok(moto);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("nothing answered HTTP on port {port} within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Whether an HTTP server answers on `port`. A TCP connection alone proves nothing: with no
/// listener, a connection to a port of the ephemeral range can be given that same port as
/// its own end and connect to itself.
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let mut start = [0u8; 5];
    stream.write_all(request).is_ok() && stream.read_exact(&mut start).is_ok() && &start == b"HTTP/"
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (the OS picks it), and never one this process has
/// handed out before.
///
/// The OS may offer a port again as soon as its probe socket is closed, before the server
/// meant for it binds. Two tests of one binary starting moto at once could then both be
/// given the same port: one server fails to bind, its test talks to the other test's moto
/// and sees "connection refused" when that test ends and stops it.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if given.insert(port) {
            return port;
        }
    }
}

/// Creates `bucket` (if needed) and stores `body` at `key` in moto's S3, with plain
/// path-style HTTP requests (moto does not check signatures): enough to give a stack's
/// Lambda function its code without an S3 client.
pub fn put_object(port: u16, bucket: &str, key: &str, body: &[u8]) -> std::io::Result<()> {
    use std::io::{Read, Write};
    for (path, content) in [
        (format!("/{bucket}"), &[][..]),
        (format!("/{bucket}/{key}"), body),
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            content.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(content)?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        // Creating a bucket that exists answers 409; anything else but 200 is a failure.
        let ok = response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.1 409");
        if !ok {
            let status = response.lines().next().unwrap_or_default().to_owned();
            return Err(std::io::Error::other(format!("PUT {path}: {status}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_http_answer_counts_as_started() {
        use std::io::{Read, Write};
        let http = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = http.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = http.accept().unwrap();
            let mut request = [0u8; 16];
            let _ = stream.read(&mut request);
            stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        });
        assert!(answers_http(port));
        server.join().unwrap();
        // A listener that accepts but says nothing is not a server that started.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!answers_http(silent.local_addr().unwrap().port()));
        drop(silent);
    }

    #[test]
    fn free_ports_are_never_handed_out_twice() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
