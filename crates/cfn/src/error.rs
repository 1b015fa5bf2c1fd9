//! What can be wrong with a template as a whole.

use std::fmt;

/// One problem found when synthesizing a template. Each names the logical IDs involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    /// A `Ref` or `${}` names nothing the template declares.
    #[error("{from} refers to `{target}`, which is not a parameter, resource or pseudo parameter of this template")]
    DanglingRef {
        /// Where the reference is, e.g. "resource `Function`".
        from: String,
        /// The logical ID it names.
        target: String,
    },
    /// An `Fn::GetAtt` names a resource the template lacks.
    #[error("{from} reads attribute `{attribute}` of `{target}`, which is not a resource of this template")]
    DanglingGetAtt {
        /// Where the reference is.
        from: String,
        /// The logical ID it names.
        target: String,
        /// The attribute it asks for.
        attribute: String,
    },
    /// An `Fn::GetAtt` names an attribute the resource's type does not have.
    #[error(
        "{from} reads attribute `{attribute}` of `{target}`, but {type_name} has only: {available}"
    )]
    UnknownAttribute {
        /// Where the reference is.
        from: String,
        /// The resource's logical ID.
        target: String,
        /// The resource's type.
        type_name: String,
        /// The attribute asked for.
        attribute: String,
        /// The attributes the type has, comma-separated.
        available: String,
    },
    /// A `Condition` or `Fn::If` names a condition that is not declared.
    #[error("{from} uses condition `{name}`, which is not declared in Conditions")]
    UnknownCondition {
        /// Where the use is.
        from: String,
        /// The condition's name.
        name: String,
    },
    /// `DependsOn` names a resource the template lacks.
    #[error("{from} depends on `{target}`, which is not a resource of this template")]
    DanglingDependsOn {
        /// The dependent resource.
        from: String,
        /// The missing resource.
        target: String,
    },
    /// Two declarations share a logical ID.
    #[error("logical ID `{0}` is declared twice")]
    DuplicateId(String),
    /// A logical ID CloudFormation would refuse.
    #[error("logical ID `{0}` must be 1 to 255 ASCII letters and digits")]
    InvalidId(String),
    /// Resources refer to each other in a loop, which CloudFormation cannot order.
    #[error("resources refer to each other in a cycle: {0}")]
    Cycle(String),
    /// Over one of CloudFormation's per-template quotas.
    #[error("the template declares {count} {what}; CloudFormation allows at most {limit}")]
    Limit {
        /// Parameters, resources or outputs.
        what: &'static str,
        /// How many the template has.
        count: usize,
        /// CloudFormation's quota.
        limit: usize,
    },
    /// The body is larger than CloudFormation accepts even from S3.
    #[error(
        "the template body is {0} bytes; CloudFormation accepts at most 1,000,000 bytes (from S3)"
    )]
    TooLarge(usize),
    /// A resource's properties could not be turned into JSON.
    #[error("resource `{logical_id}` could not be serialized: {message}")]
    Serialize {
        /// The resource.
        logical_id: String,
        /// What serde said.
        message: String,
    },
}

/// Every problem found in one synthesis, so that one run shows them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthErrors(pub Vec<SynthError>);

impl fmt::Display for SynthErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "the template is invalid ({count} problem{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SynthErrors {}
