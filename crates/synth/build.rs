//! Build script: the git commit `synth --version` names (`SYNTH_GIT_COMMIT`).

#[path = "build/git_commit.rs"]
mod git_commit;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/git_commit.rs");
    git_commit::emit("SYNTH_GIT_COMMIT");
}
