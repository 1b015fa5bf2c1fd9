//! No code: this crate's manifest names one feature set for each dependency the AWS-side
//! crates share, so that building any one of them compiles those dependencies as building
//! any other does. `cargo hakari generate` writes it from .config/hakari.toml;
//! `tools/check_features.py` (run by `make check`) fails when it is stale. See
//! docs/design.md, "Layers".
