//! Turning schema names (`SSESpecification`, `ON_DEMAND`, `python3.12`) into Rust names.

/// Words Rust reserves; a field with one of these names is written as a raw identifier.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NON_RAW_KEYWORDS: &[&str] = &["crate", "self", "super", "Self", "_"];

/// `snake_case` of a CamelCase or mixed name: `SSESpecification` → `sse_specification`,
/// `S3BucketSource` → `s3_bucket_source`, `deadLetterTargetArn` → `dead_letter_target_arn`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "value".to_owned()
    } else if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// A field name: `snake_case`, with keywords escaped (`r#type`, `self_`).
pub fn field_name(property: &str) -> String {
    let name = snake_case(property);
    if NON_RAW_KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// `PascalCase` of a schema name that is already mostly CamelCase: the first letter and
/// every letter after a separator are uppercased, separators dropped, the rest kept
/// (`deadLetterTargetArn` → `DeadLetterTargetArn`, `SSESpecification` stays).
pub fn pascal_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            upper_next = true;
            continue;
        }
        if upper_next {
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// An enum variant for an allowed value: words split at separators, all-caps words
/// lowered (`ON_DEMAND` → `OnDemand`, `notBreaching` → `NotBreaching`,
/// `provided.al2023` → `ProvidedAl2023`), and an underscore kept between digits
/// (`python3.12` → `Python3_12`, `x86_64` → `X86_64`).
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let all_caps = !word.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = word.chars();
        let first = chars.next().expect("words are not empty");
        let rest: String = chars.collect();
        let rest = if all_caps {
            rest.to_ascii_lowercase()
        } else {
            rest
        };
        if out.ends_with(|c: char| c.is_ascii_digit()) && first.is_ascii_digit() {
            out.push('_');
        }
        out.push(first.to_ascii_uppercase());
        out.push_str(&rest);
    }
    if out.is_empty() {
        "Empty".to_owned()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        assert_eq!(snake_case("ShardCount"), "shard_count");
        assert_eq!(snake_case("SSESpecification"), "sse_specification");
        assert_eq!(snake_case("S3BucketSource"), "s3_bucket_source");
        assert_eq!(snake_case("OKActions"), "ok_actions");
        assert_eq!(snake_case("deadLetterTargetArn"), "dead_letter_target_arn");
        assert_eq!(snake_case("EventSourceMapping"), "event_source_mapping");
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(field_name("Type"), "r#type");
        assert_eq!(field_name("Self"), "self_");
        assert_eq!(field_name("Name"), "name");
    }

    #[test]
    fn variants_read_as_rust() {
        assert_eq!(variant_name("ON_DEMAND"), "OnDemand");
        assert_eq!(variant_name("notBreaching"), "NotBreaching");
        assert_eq!(variant_name("provided.al2023"), "ProvidedAl2023");
        assert_eq!(variant_name("python3.12"), "Python3_12");
        assert_eq!(variant_name("x86_64"), "X86_64");
        assert_eq!(variant_name("Bits/Second"), "BitsSecond");
        assert_eq!(variant_name("GreaterThanThreshold"), "GreaterThanThreshold");
        assert_eq!(variant_name("JSON"), "Json");
    }

    #[test]
    fn pascal_case_keeps_camel_case() {
        assert_eq!(pascal_case("SSESpecification"), "SSESpecification");
        assert_eq!(pascal_case("deadLetterTargetArn"), "DeadLetterTargetArn");
        assert_eq!(pascal_case("Log_Format"), "LogFormat");
    }
}
