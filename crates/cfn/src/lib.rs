//! A typed model of AWS CloudFormation templates.
//!
//! Two layers, as in the AWS CDK: [`resources`] holds one struct per resource type,
//! generated from AWS's resource provider schemas by `cfn-codegen` (never edited by hand),
//! and the hand-written core here holds the template, parameters, outputs, intrinsic
//! functions, synth-time validation and YAML/JSON rendering.
//!
//! ```
//! use cfn::{Template, Format, Output};
//! use cfn::resources::sqs::Queue;
//!
//! let mut template = Template::new("A queue");
//! let queue = template.add("Queue", Queue::default());
//! template.output("QueueArn", Output::new(queue.attr_arn()));
//! let yaml = template.render(Format::Yaml).unwrap().body;
//! assert!(yaml.contains("AWS::SQS::Queue"));
//! ```

mod error;
mod expr;
mod output;
mod parameter;
mod render;
mod resource;
pub mod resources;
mod tag;
mod template;
mod validate;
mod value;
mod yaml;

pub use error::{SynthError, SynthErrors};
pub use expr::{pseudo, Expr};
pub use output::Output;
pub use parameter::{ConditionHandle, ParamHandle, Parameter};
pub use render::{Format, Rendered, INLINE_BODY_LIMIT, S3_BODY_LIMIT};
pub use resource::{Handle, Resource, TypeInfo};
pub use tag::Tag;
pub use template::{Policy, ResourceOptions, Template};
pub use value::Val;
