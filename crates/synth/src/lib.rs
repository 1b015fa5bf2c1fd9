//! The pipeline stack and its configuration.
//!
//! [`config`] turns presets, a TOML file and `--set` overrides into a validated
//! [`config::Config`]; [`stack::build`] turns that into a [`cfn::Template`].

pub mod config;
pub mod stack;
