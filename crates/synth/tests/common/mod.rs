//! What the synth binary's tests share: running it as a user would, and reading its output.
// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the synth binary with `args`.
pub fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("synth runs")
}

/// Its stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `synth SUBCOMMAND --format json ARGS...`, which must succeed, as JSON.
pub fn json_of(subcommand: &str, args: &[&str]) -> Value {
    let mut all = vec![subcommand, "--format", "json"];
    all.extend_from_slice(args);
    let output = synth(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}
