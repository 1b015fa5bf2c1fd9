//! Why a record was rejected: what the dead-letter queue's `errorType` and `error` say.

/// A rejected record's reason: goes to the dead-letter queue as `errorType`
/// ([`RejectionKind::as_str`]) and `error` (the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Rejection {
    /// The kind, for the dead letter's `errorType` and for metrics.
    pub kind: RejectionKind,
    /// For the person reading the dead letter: the field, the rule and the value given
    /// (long values truncated), e.g. `userId must be a non-empty string, got 42`.
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(kind: RejectionKind, message: String) -> Rejection {
        Rejection { kind, message }
    }
}

/// The kinds of rejection. Retrying never helps any of them: the record itself is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{}", self.as_str())]
pub enum RejectionKind {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The text is not JSON.
    InvalidJson,
    /// The JSON is not an object.
    NotAnObject,
    /// `userId` or `eventType` is absent.
    MissingField,
    /// A field has the wrong type, is empty where a value is needed, or holds something
    /// DynamoDB cannot store (a number beyond 38 digits or 1e-130..1e126, an empty map key,
    /// a key attribute over DynamoDB's key size, nesting deeper than 32 levels).
    InvalidField,
    /// `timestamp` is not an integer of epoch milliseconds in range.
    InvalidTimestamp,
    /// The item would exceed DynamoDB's 400 KB.
    ItemTooLarge,
}

impl RejectionKind {
    /// The `errorType` text: the variant's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectionKind::NotUtf8 => "NotUtf8",
            RejectionKind::InvalidJson => "InvalidJson",
            RejectionKind::NotAnObject => "NotAnObject",
            RejectionKind::MissingField => "MissingField",
            RejectionKind::InvalidField => "InvalidField",
            RejectionKind::InvalidTimestamp => "InvalidTimestamp",
            RejectionKind::ItemTooLarge => "ItemTooLarge",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_the_variant_names() {
        for (kind, text) in [
            (RejectionKind::NotUtf8, "NotUtf8"),
            (RejectionKind::InvalidJson, "InvalidJson"),
            (RejectionKind::NotAnObject, "NotAnObject"),
            (RejectionKind::MissingField, "MissingField"),
            (RejectionKind::InvalidField, "InvalidField"),
            (RejectionKind::InvalidTimestamp, "InvalidTimestamp"),
            (RejectionKind::ItemTooLarge, "ItemTooLarge"),
        ] {
            assert_eq!(kind.as_str(), text);
            assert_eq!(kind.to_string(), text);
        }
        let rejection = Rejection::new(RejectionKind::MissingField, "userId is missing".into());
        assert_eq!(rejection.to_string(), "MissingField: userId is missing");
    }
}
