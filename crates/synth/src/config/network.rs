//! The shape of the VPC keys' EC2 IDs (`subnet-`, `sg-`, `vpc-`, `rtb-`), checked offline:
//! synth cannot ask EC2 whether an ID exists, but a typo or a name where an ID belongs is
//! caught before a deployment fails on it.

use toml::Value;

use super::keys::{show, wrong_type, Failure};

/// Most subnets a function's `VpcConfig` takes.
pub const MAX_SUBNETS: usize = 16;
/// Most security groups a function's `VpcConfig` takes.
pub const MAX_SECURITY_GROUPS: usize = 5;
/// Most route tables: each subnet has exactly one.
pub const MAX_ROUTE_TABLES: usize = MAX_SUBNETS;

/// `prefix-` followed by 8 hex digits (older IDs) or 17 (since 2018), lowercase.
pub fn is_id(text: &str, prefix: &str) -> bool {
    let Some(hex) = text
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How an ID of this kind looks, for the reference and the errors.
pub fn id_shape(prefix: &str) -> String {
    format!("IDs like {prefix}-0123456789abcdef0 ({prefix}- and 8 or 17 hex digits)")
}

/// How one ID of this kind looks: `an ID like vpc-0123456789abcdef0 (...)`.
pub fn one_id_shape(prefix: &str) -> String {
    format!("an ID like {prefix}-0123456789abcdef0 ({prefix}- and 8 or 17 hex digits)")
}

/// A list of distinct IDs of one kind, at most `max`.
pub fn check_ids(value: &Value, prefix: &str, max: usize) -> Result<(), Failure> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("be a list of strings", value))?;
    if items.len() > max {
        return Err((
            format!("have at most {max} IDs"),
            format!("{} IDs", items.len()),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if !item.as_str().is_some_and(|text| is_id(text, prefix)) {
            return Err((format!("contain only {}", id_shape(prefix)), show(item)));
        }
        if items[..i].contains(item) {
            return Err(("not list an ID twice".to_string(), show(item)));
        }
    }
    Ok(())
}

/// Empty, or one ID of this kind.
pub fn check_id_or_empty(value: &Value, prefix: &str) -> Result<(), Failure> {
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type("be a string", value))?;
    if text.is_empty() || is_id(text, prefix) {
        Ok(())
    } else {
        Err((format!("be empty or {}", one_id_shape(prefix)), show(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_prefix_and_8_or_17_lowercase_hex_digits() {
        for good in ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"] {
            assert!(is_id(good, "subnet"), "{good}");
        }
        for bad in [
            "subnet-0a1b2c3",
            "subnet-0123456789abcdef",
            "subnet-0A1B2C3D",
            "subnet_0a1b2c3d",
            "sg-0a1b2c3d",
            "subnet-0a1b2c3g",
            "0a1b2c3d",
            "",
        ] {
            assert!(!is_id(bad, "subnet"), "{bad}");
        }
        assert!(is_id("rtb-0123456789abcdef0", "rtb"));
        assert!(!is_id("vpc-0123456789abcdef0 ", "vpc"));
    }

    #[test]
    fn lists_are_checked_item_by_item_and_for_repeats() {
        let list = |items: &[&str]| {
            Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
        };
        assert_eq!(check_ids(&list(&["sg-0a1b2c3d"]), "sg", 5), Ok(()));
        assert_eq!(
            check_ids(&list(&["sg-0a1b2c3d", "default"]), "sg", 5),
            Err((
                "contain only IDs like sg-0123456789abcdef0 (sg- and 8 or 17 hex digits)".into(),
                "\"default\"".into()
            ))
        );
        assert_eq!(
            check_ids(&list(&["sg-0a1b2c3d", "sg-0a1b2c3d"]), "sg", 5),
            Err(("not list an ID twice".into(), "\"sg-0a1b2c3d\"".into()))
        );
        let six: Vec<String> = (0..6).map(|i| format!("sg-0000000{i}")).collect();
        let six: Vec<&str> = six.iter().map(String::as_str).collect();
        assert_eq!(
            check_ids(&list(&six), "sg", 5),
            Err(("have at most 5 IDs".into(), "6 IDs".into()))
        );
        assert_eq!(
            check_id_or_empty(&Value::String("vpc-12".into()), "vpc"),
            Err((
                "be empty or an ID like vpc-0123456789abcdef0 (vpc- and 8 or 17 hex digits)".into(),
                "\"vpc-12\"".into()
            ))
        );
        assert_eq!(
            check_id_or_empty(&Value::String(String::new()), "vpc"),
            Ok(())
        );
    }
}
