//! The tags every taggable resource carries.

use cfn::{Tag, Val};

use crate::config::Config;

/// `ManagedBy` says what wrote the stack, so nobody edits it in the console.
pub const MANAGED_BY: &str = "synth";

/// Project, Environment, ManagedBy, then `additional_tags` in key order. An additional tag
/// with one of the first three keys replaces it rather than duplicating the key, which
/// CloudFormation would refuse.
pub fn standard(config: &Config) -> Vec<Tag> {
    let mut tags = vec![
        ("Project", config.project_name.as_str()),
        ("Environment", config.environment.as_str()),
        ("ManagedBy", MANAGED_BY),
    ];
    for (key, value) in &config.additional_tags {
        match tags.iter_mut().find(|(k, _)| *k == key.as_str()) {
            Some(existing) => existing.1 = value.as_str(),
            None => tags.push((key.as_str(), value.as_str())),
        }
    }
    tags.into_iter().map(|(k, v)| Tag::new(k, v)).collect()
}

/// The tags as a property value.
pub fn property(config: &Config) -> Option<Val<Vec<Tag>>> {
    Some(Val::Lit(standard(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(tags: &[Tag]) -> Vec<String> {
        tags.iter()
            .map(|t| match &t.key {
                Val::Lit(k) => k.clone(),
                Val::Expr(_) => String::new(),
            })
            .collect()
    }

    #[test]
    fn additional_tags_follow_the_standard_ones_and_may_override_them() {
        let mut config = Config::default();
        config
            .additional_tags
            .insert("CostCenter".into(), "42".into());
        config
            .additional_tags
            .insert("Environment".into(), "sandbox".into());
        let tags = standard(&config);
        assert_eq!(
            keys(&tags),
            vec!["Project", "Environment", "ManagedBy", "CostCenter"]
        );
        assert_eq!(tags[1].value, Val::Lit("sandbox".to_owned()));
    }
}
