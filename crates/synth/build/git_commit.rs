//! The git commit a binary is built from, for its `--version`, as a build script's module.
//!
//! Any crate can use it from its `build.rs` (a file, not a crate: nothing to depend on):
//!
//! ```ignore
//! #[path = "../synth/build/git_commit.rs"]
//! mod git_commit;
//!
//! fn main() {
//!     println!("cargo:rerun-if-changed=build.rs");
//!     println!("cargo:rerun-if-changed=../synth/build/git_commit.rs");
//!     git_commit::emit("MY_TOOL_GIT_COMMIT");
//! }
//! ```
//!
//! and `env!("MY_TOOL_GIT_COMMIT")` in the crate is `git rev-parse --short HEAD`, or
//! `unknown` outside a git checkout (a source tarball) or without git. The build script runs
//! again only when HEAD moves (a commit, a checkout), not on every build: Cargo watches
//! `HEAD`, the branch's ref and `packed-refs`. There is no `-dirty` mark: an edit changes
//! none of those files, so a mark computed at the last commit would soon be stale.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the variable holds when the commit cannot be known.
pub const UNKNOWN: &str = "unknown";

/// Sets the compile-time environment variable `name` to the short hash of HEAD and tells
/// Cargo which files to watch for it. The caller lists its own files (`build.rs`) too:
/// once a build script names one file to watch, Cargo watches only those it names.
pub fn emit(name: &str) {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = git(&dir, &["rev-parse", "--short", "HEAD"]);
    for path in watched(&dir) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!(
        "cargo:rustc-env={name}={}",
        commit.as_deref().unwrap_or(UNKNOWN)
    );
}

/// The files whose change means HEAD moved: `HEAD`, the checked-out branch's loose ref (or,
/// while the branch has none, the directory where a commit would create it) and
/// `packed-refs`; only those that exist, since Cargo reruns every time for a missing one.
fn watched(dir: &Path) -> Vec<PathBuf> {
    let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]) else {
        return Vec::new();
    };
    // A worktree keeps HEAD in its own directory and refs in the common one.
    let common = git(dir, &["rev-parse", "--git-common-dir"]).unwrap_or_else(|| git_dir.clone());
    let (git_dir, common) = (dir.join(git_dir), dir.join(common));
    let mut paths = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = common.join(&branch);
        paths.push(match loose.parent() {
            Some(parent) if !loose.exists() => parent.to_path_buf(),
            _ => loose,
        });
    }
    paths.retain(|path| path.exists());
    paths
}

/// A git command's trimmed output in `dir`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}
