//! The `Key`/`Value` tag most resource types take.

use serde::Serialize;

use crate::value::Val;

/// A resource tag. Generated resource types whose schema defines a plain `Key`/`Value` tag
/// use this type, so one list of tags can be applied to every resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    /// The tag's key.
    #[serde(rename = "Key")]
    pub key: Val<String>,
    /// The tag's value.
    #[serde(rename = "Value")]
    pub value: Val<String>,
}

impl Tag {
    /// A tag from a key and a value.
    pub fn new(key: impl Into<Val<String>>, value: impl Into<Val<String>>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}
