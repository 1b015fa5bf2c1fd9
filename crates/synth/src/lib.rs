//! The pipeline stack, its configuration, and the review tools around it.
//!
//! [`config`] turns presets, a TOML file and `--set` overrides into a validated
//! [`config::Config`]; [`stack::build`] turns that into a [`cfn::Template`]. [`diff`]
//! compares two templates for a reviewer, [`changeset`] renders a CloudFormation change set
//! as markdown, and [`cost`] estimates the stack's monthly bill.

pub mod changeset;
pub mod config;
pub mod cost;
pub mod diff;
pub mod stack;
pub mod stateful;
