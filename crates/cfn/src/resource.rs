//! What every generated resource type provides, and the handle a template returns for it.

use std::marker::PhantomData;

use serde::Serialize;

use crate::expr::Expr;

/// A CloudFormation resource type generated from its provider schema.
pub trait Resource: Serialize {
    /// The type's name, attributes and create-only properties.
    const INFO: TypeInfo;
}

/// Facts from a resource type's provider schema that synth and diff need at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// The type name, e.g. `AWS::Kinesis::Stream`.
    pub type_name: &'static str,
    /// Attributes `Fn::GetAtt` may name (the schema's read-only properties), dotted for
    /// nested ones (`SnapStartResponse.ApplyOn`).
    pub attributes: &'static [&'static str],
    /// Properties whose change replaces the resource (the schema's create-only
    /// properties), as paths below `Properties` (`KeySchema`, `StreamModeDetails/StreamMode`).
    pub create_only: &'static [&'static str],
}

/// A resource that was added to a template: the only way to refer to it.
///
/// A handle carries the logical ID and the resource type, so `Ref` and the generated
/// attribute methods (`attr_arn()`, ...) always name a resource of the right type.
#[derive(Debug)]
pub struct Handle<T> {
    logical_id: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            logical_id: self.logical_id.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> Handle<T> {
    pub(crate) fn new(logical_id: &str) -> Handle<T> {
        Handle {
            logical_id: logical_id.to_owned(),
            _type: PhantomData,
        }
    }

    /// The resource's logical ID in the template.
    pub fn logical_id(&self) -> &str {
        &self.logical_id
    }

    /// `Ref` to the resource (what it returns depends on the type: a name, an ID, a URL).
    pub fn to_ref(&self) -> Expr {
        Expr::Ref(self.logical_id.clone())
    }

    /// `Fn::GetAtt` of a named attribute. Prefer the generated `attr_*` methods, which
    /// exist only for attributes the type has.
    pub fn get_att(&self, attribute: &str) -> Expr {
        Expr::GetAtt(self.logical_id.clone(), attribute.to_owned())
    }
}
