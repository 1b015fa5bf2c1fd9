//! Reviewing a CloudFormation change before it is deployed: what changes, what is
//! replaced, and what data goes with it.
//!
//! [`diff`] compares two templates offline (any template, YAML or JSON, not only synth's)
//! and predicts replacement from the resource provider schemas' create-only properties, as
//! the CDK's `cloudformation-diff` does; [`changeset`] renders the change set CloudFormation
//! computed against a live stack; [`stateful`] is the one list of resource types whose
//! replacement or removal deletes data, which both warn from.
//!
//! The crate knows nothing of the pipeline stack: the `synth` binary's `diff` and
//! `changeset-report` subcommands are thin shells over it. The schema facts come from the
//! `cfn` crate's generated resource types, so a type the model does not generate has no
//! replacement prediction (its changes are still listed).

pub mod changeset;
pub mod diff;
pub mod stateful;
