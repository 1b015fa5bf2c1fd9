//! Build script: the git commit `backfill --version` names (`GIT_COMMIT`), computed by the
//! module synth's build script uses too.

#[path = "../synth/build/git_commit.rs"]
mod git_commit;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../synth/build/git_commit.rs");
    git_commit::emit("GIT_COMMIT");
}
