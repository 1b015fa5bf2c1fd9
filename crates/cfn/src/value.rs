//! `Val<T>`: a property value that is either a literal of the property's type or an
//! intrinsic function.
//!
//! CloudFormation lets any property take an intrinsic (`Ref`, `Fn::GetAtt`, ...), but a
//! literal must have the property's type. `Val<T>` encodes both rules: a number property is a
//! `Val<i64>`, so it accepts `5` or `param.as_ref()`, and a string literal does not compile.

use serde::{Serialize, Serializer};

use crate::expr::Expr;

/// A property value: a literal `T`, or an intrinsic function resolved at deploy time.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<T> {
    /// A literal, written into the template as it is.
    Lit(T),
    /// An intrinsic function or reference.
    Expr(Expr),
}

impl<T: Serialize> Serialize for Val<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Lit(value) => value.serialize(serializer),
            Val::Expr(expr) => expr.serialize(serializer),
        }
    }
}

impl<T> From<Expr> for Val<T> {
    fn from(expr: Expr) -> Self {
        Val::Expr(expr)
    }
}

impl From<&str> for Val<String> {
    fn from(value: &str) -> Self {
        Val::Lit(value.to_owned())
    }
}

impl From<String> for Val<String> {
    fn from(value: String) -> Self {
        Val::Lit(value)
    }
}

impl From<&String> for Val<String> {
    fn from(value: &String) -> Self {
        Val::Lit(value.clone())
    }
}

impl From<bool> for Val<bool> {
    fn from(value: bool) -> Self {
        Val::Lit(value)
    }
}

impl From<f64> for Val<f64> {
    fn from(value: f64) -> Self {
        Val::Lit(value)
    }
}

macro_rules! integer_into_val {
    ($($from:ty),*) => {$(
        impl From<$from> for Val<i64> {
            fn from(value: $from) -> Self {
                Val::Lit(i64::from(value))
            }
        }
        impl From<$from> for Val<f64> {
            fn from(value: $from) -> Self {
                Val::Lit(f64::from(value))
            }
        }
    )*};
}
integer_into_val!(i32, u32, u16, u8);

impl From<i64> for Val<i64> {
    fn from(value: i64) -> Self {
        Val::Lit(value)
    }
}

impl<X> From<Vec<X>> for Val<Vec<X>> {
    fn from(items: Vec<X>) -> Self {
        Val::Lit(items)
    }
}

impl From<Vec<&str>> for Val<Vec<Val<String>>> {
    fn from(items: Vec<&str>) -> Self {
        Val::Lit(items.into_iter().map(Val::from).collect())
    }
}

impl From<Vec<String>> for Val<Vec<Val<String>>> {
    fn from(items: Vec<String>) -> Self {
        Val::Lit(items.into_iter().map(Val::from).collect())
    }
}

impl From<Vec<Expr>> for Val<Vec<Val<String>>> {
    fn from(items: Vec<Expr>) -> Self {
        Val::Lit(items.into_iter().map(Val::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_serialize_as_themselves() {
        assert_eq!(serde_json::to_value(Val::<i64>::from(5)).unwrap(), json!(5));
        assert_eq!(
            serde_json::to_value(Val::<String>::from("a")).unwrap(),
            json!("a")
        );
        let list: Val<Vec<Val<String>>> = vec!["a", "b"].into();
        assert_eq!(serde_json::to_value(list).unwrap(), json!(["a", "b"]));
    }

    #[test]
    fn an_intrinsic_fits_any_property_type() {
        let count: Val<i64> = Expr::Ref("ShardCount".into()).into();
        assert_eq!(
            serde_json::to_value(count).unwrap(),
            json!({"Ref": "ShardCount"})
        );
    }
}
