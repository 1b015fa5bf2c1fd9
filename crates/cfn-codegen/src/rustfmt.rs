//! Formatting generated code exactly as `cargo fmt` would, by piping it through rustfmt.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// `source` formatted by rustfmt (edition 2021, the workspace's rustfmt config if any).
/// `$RUSTFMT` overrides the binary.
pub fn format(source: &str) -> Result<String> {
    let binary = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(&binary)
        .args(["--edition", "2021"])
        // rustfmt reading stdin looks for its config from the working directory.
        .current_dir(crate::workspace_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context(
            "cannot run rustfmt: install it with `rustup component add rustfmt` (or set RUSTFMT)",
        )?;
    let mut stdin = child.stdin.take().context("rustfmt has no stdin")?;
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().context("rustfmt did not finish")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to rustfmt panicked"))?
        .context("cannot write to rustfmt")?;
    if !output.status.success() {
        bail!(
            "rustfmt rejected the generated code (a cfn-codegen bug):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt wrote invalid UTF-8")
}
