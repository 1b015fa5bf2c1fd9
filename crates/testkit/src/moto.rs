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
    /// Starts moto and waits until it accepts connections.
    pub fn start() -> Moto {
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
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }
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
    fn free_ports_are_never_handed_out_twice() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
