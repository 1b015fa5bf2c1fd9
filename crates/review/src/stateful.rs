//! Resource types that hold data which cannot be regenerated from the template: replacing or
//! removing one of them deletes that data unless a retain policy keeps the old resource.
//! Both review commands (`synth diff` and `synth changeset-report`) warn from this list.

/// The stateful resource types a reviewer must be warned about.
///
/// A KMS key counts: deleting it (after its pending window) makes everything encrypted with
/// it unreadable. A log group counts because its retained logs go with it.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
];

/// Whether replacing or removing a resource of this type loses data.
pub fn is_stateful(type_name: &str) -> bool {
    STATEFUL_TYPES.contains(&type_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_stores_are_stateful_and_wiring_is_not() {
        assert!(is_stateful("AWS::DynamoDB::Table"));
        assert!(is_stateful("AWS::KMS::Key"));
        assert!(!is_stateful("AWS::Lambda::EventSourceMapping"));
        assert!(!is_stateful("AWS::IAM::Role"));
    }
}
