//! `cfn-codegen`: regenerates crates/cfn/src/resources from the committed schemas.
//!
//! `cargo run -p cfn-codegen` writes the files; `-- --check` writes nothing and exits 1
//! listing what would change. Re-exporting the schemas from cfn-lint is
//! tools/export_schemas.py's job (`make codegen` runs both).

use std::process::ExitCode;

use anyhow::{bail, Result};

const USAGE: &str = "usage: cfn-codegen [--check]\n\n\
    Regenerates crates/cfn/src/resources from crates/cfn-codegen/schemas/*.json.\n\
    --check  write nothing; exit 1 listing the files that would change";

fn main() -> Result<ExitCode> {
    let mut check = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let files = cfn_codegen::generate_from_committed_schemas()?;
    let dir = cfn_codegen::resources_dir();
    if check {
        let changes = cfn_codegen::compare(&dir, &files)?;
        if changes.is_empty() {
            println!(
                "crates/cfn/src/resources is current ({} files)",
                files.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("crates/cfn/src/resources is out of date; run `make codegen` (or `cargo run -p cfn-codegen`):");
        for change in &changes {
            eprintln!("  {change}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let changes = cfn_codegen::write(&dir, &files)?;
    for change in &changes {
        println!("{change}");
    }
    println!("{} generated files, {} changed", files.len(), changes.len());
    Ok(ExitCode::SUCCESS)
}
