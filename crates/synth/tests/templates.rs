//! The committed templates/<preset>.yaml are what synth prints today, so every pull request
//! shows its template diff. `make templates` (UPDATE_TEMPLATES=1) refreshes them.

use std::path::PathBuf;

use cfn::Format;
use synth::config::{Config, PRESETS};

fn template_path(preset: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../templates")
        .join(format!("{preset}.yaml"))
}

fn synthesize(preset: &str, format: Format) -> String {
    let config = Config::from_preset(preset).unwrap_or_else(|e| panic!("preset {preset}: {e}"));
    let template = synth::stack::build(&config);
    template
        .render(format)
        .unwrap_or_else(|e| panic!("preset {preset}: {e}"))
        .body
}

#[test]
fn committed_templates_are_current() {
    let update = std::env::var_os("UPDATE_TEMPLATES").is_some();
    let mut stale = Vec::new();
    for preset in PRESETS {
        let fresh = synthesize(preset, Format::Yaml);
        let path = template_path(preset);
        if update {
            std::fs::write(&path, &fresh)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != fresh {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale templates (run `make templates` and commit): {stale:?}"
    );
}

#[test]
fn yaml_and_json_are_the_same_document_for_every_preset() {
    for preset in PRESETS {
        let yaml: serde_json::Value =
            serde_yaml::from_str(&synthesize(preset, Format::Yaml)).expect("yaml parses");
        let json: serde_json::Value =
            serde_json::from_str(&synthesize(preset, Format::Json)).expect("json parses");
        assert_eq!(yaml, json, "preset {preset}");
    }
}

#[test]
fn every_preset_fits_inline_or_says_it_needs_s3() {
    for preset in PRESETS {
        let config = Config::from_preset(preset).expect("preset loads");
        let rendered = synth::stack::build(&config)
            .render(Format::Json)
            .expect("renders");
        let needs_s3 = rendered.body.len() > cfn::INLINE_BODY_LIMIT;
        assert_eq!(needs_s3, !rendered.warnings.is_empty(), "preset {preset}");
    }
}
