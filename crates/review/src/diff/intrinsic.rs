//! Intrinsic functions in a generic template: recognising them, resolving the few that can
//! be resolved offline, finding the logical IDs they reference, and showing them compactly.

use std::collections::BTreeSet;

use serde_json::Value;

/// Whether a value is one intrinsic function call (`{"Ref": ..}`, `{"Fn::Sub": ..}`, ...).
pub fn is_intrinsic(value: &Value) -> bool {
    match value.as_object() {
        Some(map) if map.len() == 1 => map
            .keys()
            .next()
            .is_some_and(|key| key == "Ref" || key.starts_with("Fn::")),
        _ => false,
    }
}

/// The value as it will be at deploy time, when that is knowable without a stack: literals,
/// and `Fn::Join` / `Fn::Sub` / `Fn::Select` over literals. `None` when anything depends on
/// a parameter, a resource, a pseudo parameter or a condition.
pub fn resolve(value: &Value) -> Option<Value> {
    if is_intrinsic(value) {
        let (name, args) = value.as_object()?.iter().next()?;
        return match name.as_str() {
            "Fn::Join" => resolve_join(args),
            "Fn::Sub" => resolve_sub(args),
            "Fn::Select" => resolve_select(args),
            _ => None,
        };
    }
    match value {
        Value::Array(items) => items.iter().map(resolve).collect::<Option<_>>(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| resolve(v).map(|v| (k.clone(), v)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object),
        scalar => Some(scalar.clone()),
    }
}

fn resolve_join(args: &Value) -> Option<Value> {
    let [separator, parts] = args.as_array()?.as_slice() else {
        return None;
    };
    let separator = separator.as_str()?;
    let parts = resolve(parts)?;
    let texts: Vec<String> = parts
        .as_array()?
        .iter()
        .map(scalar_text)
        .collect::<Option<_>>()?;
    Some(Value::String(texts.join(separator)))
}

fn resolve_sub(args: &Value) -> Option<Value> {
    let text = match args {
        Value::String(text) => text,
        Value::Array(items) => match items.as_slice() {
            [Value::String(text)] => text,
            [Value::String(text), Value::Object(vars)] if vars.is_empty() => text,
            _ => return None,
        },
        _ => return None,
    };
    // Only `${!Literal}` escapes are allowed: any real variable needs a stack.
    if sub_variables(text).next().is_some() {
        return None;
    }
    Some(Value::String(text.replace("${!", "${")))
}

fn resolve_select(args: &Value) -> Option<Value> {
    let [index, list] = args.as_array()?.as_slice() else {
        return None;
    };
    let index = match resolve(index)? {
        Value::Number(n) => usize::try_from(n.as_u64()?).ok()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    resolve(list)?.as_array()?.get(index).cloned()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The variables of a `Fn::Sub` string (`${Name}`, `${Name.Attr}`), without the `${!..}`
/// escapes, in order of appearance.
pub fn sub_variables(text: &str) -> impl Iterator<Item = &str> {
    text.split("${")
        .skip(1)
        .filter(|rest| !rest.starts_with('!'))
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Every logical ID (resource or parameter) a value references through `Ref`,
/// `Fn::GetAtt` or a `Fn::Sub` variable; pseudo parameters (`AWS::...`) are left out.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if is_intrinsic(value) => {
            let Some((name, args)) = map.iter().next() else {
                return;
            };
            match (name.as_str(), args) {
                ("Ref", Value::String(id)) => add_reference(id, found),
                ("Fn::GetAtt", Value::Array(parts)) => {
                    if let Some(Value::String(id)) = parts.first() {
                        add_reference(id, found);
                    }
                }
                ("Fn::Sub", args) => collect_sub(args, found),
                _ => collect_references(args, found),
            }
        }
        Value::Object(map) => map.values().for_each(|v| collect_references(v, found)),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

fn collect_sub(args: &Value, found: &mut BTreeSet<String>) {
    let (text, vars) = match args {
        Value::String(text) => (text.as_str(), None),
        Value::Array(items) => match items.as_slice() {
            [Value::String(text)] => (text.as_str(), None),
            [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
            _ => return collect_references(args, found),
        },
        _ => return,
    };
    for variable in sub_variables(text) {
        let id = variable.split('.').next().unwrap_or(variable);
        // A name defined in the variable map is local to this Sub, not a logical ID.
        if !vars.is_some_and(|vars| vars.contains_key(id)) {
            add_reference(id, found);
        }
    }
    if let Some(vars) = vars {
        vars.values().for_each(|v| collect_references(v, found));
    }
}

fn add_reference(id: &str, found: &mut BTreeSet<String>) {
    if !id.starts_with("AWS::") {
        found.insert(id.to_owned());
    }
}

/// A one-line rendering for reports: short forms for the common intrinsics
/// (`!Ref X`, `!GetAtt X.Arn`, `!Sub "..."`), JSON for everything else.
pub fn show(value: &Value) -> String {
    if let Some((name, args)) = value
        .as_object()
        .filter(|_| is_intrinsic(value))
        .and_then(|m| m.iter().next())
    {
        match (name.as_str(), args) {
            ("Ref", Value::String(id)) => return format!("!Ref {id}"),
            ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 => {
                if let (Some(id), Some(attr)) = (parts[0].as_str(), parts[1].as_str()) {
                    return format!("!GetAtt {id}.{attr}");
                }
            }
            ("Fn::Sub", Value::String(text)) => return format!("!Sub {}", Value::from(&**text)),
            _ => {}
        }
        let short = name.trim_start_matches("Fn::");
        return format!("!{short} {}", show_plain(args));
    }
    show_plain(value)
}

/// JSON, but with intrinsics inside shown by [`show`].
fn show_plain(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), show(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// A compact rendering for IAM tables: `${X}` for `Ref`, `${X.Attr}` for `Fn::GetAtt`, the
/// text of a `Fn::Sub`, plain text for strings; what `cdk diff` shows.
pub fn show_reference(value: &Value) -> String {
    if let Some((name, args)) = value
        .as_object()
        .filter(|_| is_intrinsic(value))
        .and_then(|m| m.iter().next())
    {
        match (name.as_str(), args) {
            ("Ref", Value::String(id)) => return format!("${{{id}}}"),
            ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 => {
                if let (Some(id), Some(attr)) = (parts[0].as_str(), parts[1].as_str()) {
                    return format!("${{{id}.{attr}}}");
                }
            }
            ("Fn::Sub", Value::String(text)) => return text.clone(),
            ("Fn::Sub", Value::Array(items)) => {
                if let Some(Value::String(text)) = items.first() {
                    return text.clone();
                }
            }
            _ => {}
        }
    }
    match value {
        Value::String(text) => text.clone(),
        other => show(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_and_literal_functions_resolve() {
        assert_eq!(resolve(&json!("a")), Some(json!("a")));
        assert_eq!(
            resolve(&json!({"Fn::Join": ["-", ["a", "b", 3]]})),
            Some(json!("a-b-3"))
        );
        assert_eq!(
            resolve(&json!({"Fn::Sub": "plain ${!Literal}"})),
            Some(json!("plain ${Literal}"))
        );
        assert_eq!(
            resolve(&json!({"Fn::Select": [1, ["x", "y"]]})),
            Some(json!("y"))
        );
        assert_eq!(resolve(&json!([{"A": "b"}])), Some(json!([{"A": "b"}])));
    }

    #[test]
    fn anything_depending_on_a_stack_does_not_resolve() {
        for value in [
            json!({"Ref": "Param"}),
            json!({"Fn::Sub": "${AWS::StackName}-q"}),
            json!({"Fn::Join": ["-", [{"Ref": "AWS::Region"}, "b"]]}),
            json!({"Fn::GetAtt": ["T", "Arn"]}),
            json!({"Fn::If": ["C", "a", "b"]}),
            json!({"Name": {"Ref": "X"}}),
        ] {
            assert_eq!(resolve(&value), None, "{value}");
        }
    }

    #[test]
    fn references_cover_ref_getatt_and_sub_but_not_pseudo_or_local_names() {
        let value = json!({
            "a": {"Ref": "Stream"},
            "b": {"Fn::GetAtt": ["Table", "Arn"]},
            "c": {"Fn::Sub": "${Queue.Arn}/${AWS::Region}/${!Escaped}"},
            "d": {"Fn::Sub": ["${Local}-${Key}", {"Local": {"Ref": "Param"}}]},
            "e": {"Ref": "AWS::AccountId"},
        });
        let found: Vec<String> = references(&value).into_iter().collect();
        assert_eq!(found, ["Key", "Param", "Queue", "Stream", "Table"]);
    }

    #[test]
    fn show_uses_short_forms() {
        assert_eq!(show(&json!({"Ref": "X"})), "!Ref X");
        assert_eq!(show(&json!({"Fn::GetAtt": ["X", "Arn"]})), "!GetAtt X.Arn");
        assert_eq!(show(&json!({"Fn::Sub": "a-${X}"})), "!Sub \"a-${X}\"");
        assert_eq!(show(&json!({"Fn::If": ["C", 1, 2]})), "!If [\"C\", 1, 2]");
        assert_eq!(show(&json!(["a", {"Ref": "X"}])), "[\"a\", !Ref X]");
        assert_eq!(
            show_reference(&json!({"Fn::GetAtt": ["X", "Arn"]})),
            "${X.Arn}"
        );
        assert_eq!(show_reference(&json!("*")), "*");
    }
}
