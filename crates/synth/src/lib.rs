//! The pipeline stack, its configuration and its cost.
//!
//! [`config`] turns presets, a TOML file and `--set` overrides into a validated
//! [`config::Config`]; [`stack::build`] turns that into a [`cfn::Template`], and [`cost`]
//! estimates the stack's monthly bill, and [`capacity`] its sustained ceiling in events per
//! second. Reviewing a change (`synth diff`, `synth changeset-report`) is the `review`
//! crate's job; the binary only wraps it.

pub mod capacity;
pub mod config;
pub mod cost;
pub mod generated;
pub mod stack;

// `cost::inventory` recognises intrinsics through `crate::diff::intrinsic`; it can name
// `review::diff::intrinsic` itself, and then this line goes.
use review::diff;
