//! Synth-time checks over the whole template: every reference resolves, every condition
//! exists, resources form no cycle, and CloudFormation's quotas hold.
//!
//! The checks walk the JSON each resource serialized to, so they see references wherever
//! they are: typed properties, free-form policy documents, `${}` inside `Fn::Sub`.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::error::{SynthError, SynthErrors};
use crate::expr::pseudo;
use crate::resource::TypeInfo;
use crate::template::Template;

const MAX_RESOURCES: usize = 500;
const MAX_PARAMETERS: usize = 200;
const MAX_OUTPUTS: usize = 200;

/// Runs every check; returns all problems found, not just the first.
pub(crate) fn check(template: &Template) -> Result<(), SynthErrors> {
    let mut problems = template.problems.clone();
    let scope = Scope::of(template);
    let mut edges: Vec<(String, Vec<String>)> = Vec::new();

    for (name, expr) in &template.conditions {
        let mut walker = Walker::new(&scope, format!("condition `{name}`"));
        walker.walk(&expr.to_json(), true);
        problems.extend(walker.problems);
    }
    for entry in &template.resources {
        let from = format!("resource `{}`", entry.logical_id);
        let mut walker = Walker::new(&scope, from.clone());
        walker.walk(&entry.properties, false);
        if let Some(metadata) = &entry.options.metadata {
            walker.walk(metadata, false);
        }
        if let Some(policy) = &entry.options.update_policy {
            walker.walk(policy, false);
        }
        if let Some(condition) = &entry.options.condition {
            walker.use_condition(condition);
        }
        for target in &entry.options.depends_on {
            if scope.resources.contains_key(target.as_str()) {
                walker.targets.insert(target.clone());
            } else {
                walker.problems.push(SynthError::DanglingDependsOn {
                    from: from.clone(),
                    target: target.clone(),
                });
            }
        }
        problems.extend(walker.problems);
        edges.push((
            entry.logical_id.clone(),
            walker.targets.into_iter().collect(),
        ));
    }
    for (id, output) in &template.outputs {
        let mut walker = Walker::new(&scope, format!("output `{id}`"));
        walker.walk(&output.to_json(), false);
        if let Some(condition) = output.condition_name() {
            walker.use_condition(condition);
        }
        problems.extend(walker.problems);
    }
    problems.extend(find_cycle(&edges));
    problems.extend(check_limits(template));

    if problems.is_empty() {
        Ok(())
    } else {
        Err(SynthErrors(problems))
    }
}

/// The names a reference may resolve to.
struct Scope<'t> {
    parameters: BTreeSet<&'t str>,
    resources: HashMap<&'t str, TypeInfo>,
    conditions: BTreeSet<&'t str>,
}

impl<'t> Scope<'t> {
    fn of(template: &'t Template) -> Scope<'t> {
        Scope {
            parameters: template
                .parameters
                .iter()
                .map(|(id, _)| id.as_str())
                .collect(),
            resources: template
                .resources
                .iter()
                .map(|r| (r.logical_id.as_str(), r.info))
                .collect(),
            conditions: template
                .conditions
                .iter()
                .map(|(name, _)| name.as_str())
                .collect(),
        }
    }
}

/// Walks one declaration, collecting problems and the resources it refers to.
struct Walker<'s, 't> {
    scope: &'s Scope<'t>,
    from: String,
    problems: Vec<SynthError>,
    targets: BTreeSet<String>,
}

impl<'s, 't> Walker<'s, 't> {
    fn new(scope: &'s Scope<'t>, from: String) -> Self {
        Walker {
            scope,
            from,
            problems: Vec::new(),
            targets: BTreeSet::new(),
        }
    }

    /// `in_condition` is true inside the Conditions section, where `{"Condition": name}`
    /// is a reference (elsewhere `Condition` is an ordinary key, e.g. in IAM statements).
    fn walk(&mut self, value: &Value, in_condition: bool) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| self.walk(item, in_condition)),
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                self.walk_function(key, arg, in_condition);
            }
            Value::Object(map) => map.values().for_each(|item| self.walk(item, in_condition)),
            _ => {}
        }
    }

    fn walk_function(&mut self, key: &str, arg: &Value, in_condition: bool) {
        match (key, arg) {
            ("Ref", Value::String(target)) => self.use_ref(target),
            ("Fn::GetAtt", Value::Array(parts)) => match (parts.first(), parts.get(1)) {
                (Some(Value::String(id)), Some(Value::String(attr))) => self.use_get_att(id, attr),
                _ => self.walk(arg, in_condition),
            },
            ("Fn::GetAtt", Value::String(dotted)) => {
                let (id, attr) = dotted.split_once('.').unwrap_or((dotted.as_str(), ""));
                self.use_get_att(id, attr);
            }
            ("Fn::Sub", Value::String(text)) => self.use_sub(text, &serde_json::Map::new()),
            ("Fn::Sub", Value::Array(parts)) => {
                let vars = parts
                    .get(1)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::String(text)) = parts.first() {
                    self.use_sub(text, &vars);
                }
                vars.values().for_each(|v| self.walk(v, in_condition));
            }
            ("Fn::If", Value::Array(parts)) => {
                if let Some(Value::String(name)) = parts.first() {
                    self.use_condition(name);
                }
                parts
                    .iter()
                    .skip(1)
                    .for_each(|v| self.walk(v, in_condition));
            }
            ("Condition", Value::String(name)) if in_condition => self.use_condition(name),
            (_, other) => self.walk(other, in_condition),
        }
    }

    fn use_ref(&mut self, target: &str) {
        if self.scope.resources.contains_key(target) {
            self.targets.insert(target.to_owned());
        } else if !self.scope.parameters.contains(target) && !pseudo::ALL.contains(&target) {
            self.problems.push(SynthError::DanglingRef {
                from: self.from.clone(),
                target: target.to_owned(),
            });
        }
    }

    fn use_get_att(&mut self, target: &str, attribute: &str) {
        let Some(info) = self.scope.resources.get(target) else {
            self.problems.push(SynthError::DanglingGetAtt {
                from: self.from.clone(),
                target: target.to_owned(),
                attribute: attribute.to_owned(),
            });
            return;
        };
        self.targets.insert(target.to_owned());
        if !info.attributes.contains(&attribute) {
            self.problems.push(SynthError::UnknownAttribute {
                from: self.from.clone(),
                target: target.to_owned(),
                type_name: info.type_name.to_owned(),
                attribute: attribute.to_owned(),
                available: info.attributes.join(", "),
            });
        }
    }

    fn use_sub(&mut self, text: &str, vars: &serde_json::Map<String, Value>) {
        for name in sub_variables(text) {
            if vars.contains_key(name) {
                continue;
            }
            match name.split_once('.') {
                Some((id, attr)) => self.use_get_att(id, attr),
                None => self.use_ref(name),
            }
        }
    }

    fn use_condition(&mut self, name: &str) {
        if !self.scope.conditions.contains(name) {
            self.problems.push(SynthError::UnknownCondition {
                from: self.from.clone(),
                name: name.to_owned(),
            });
        }
    }
}

/// The `${Name}` variables of an `Fn::Sub` string; `${!Literal}` is an escape, not a variable.
pub(crate) fn sub_variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.is_empty() {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    names
}

/// Finds one dependency cycle among resources, reported as `A → B → A`.
fn find_cycle(edges: &[(String, Vec<String>)]) -> Option<SynthError> {
    let graph: HashMap<&str, &[String]> = edges
        .iter()
        .map(|(id, to)| (id.as_str(), to.as_slice()))
        .collect();
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on the path, 2 = done
    let mut path: Vec<&str> = Vec::new();
    for (id, _) in edges {
        if let Some(cycle) = visit(id, &graph, &mut state, &mut path) {
            return Some(SynthError::Cycle(cycle.join(" → ")));
        }
    }
    None
}

fn visit<'g>(
    id: &'g str,
    graph: &HashMap<&'g str, &'g [String]>,
    state: &mut HashMap<&'g str, u8>,
    path: &mut Vec<&'g str>,
) -> Option<Vec<&'g str>> {
    match state.get(id) {
        Some(2) => return None,
        Some(1) => {
            let start = path.iter().position(|p| *p == id).unwrap_or(0);
            let mut cycle = path[start..].to_vec();
            cycle.push(id);
            return Some(cycle);
        }
        _ => {}
    }
    state.insert(id, 1);
    path.push(id);
    for next in graph.get(id).copied().unwrap_or_default() {
        if let Some(cycle) = visit(next, graph, state, path) {
            return Some(cycle);
        }
    }
    path.pop();
    state.insert(id, 2);
    None
}

fn check_limits(template: &Template) -> Vec<SynthError> {
    let counts = [
        ("resources", template.resources.len(), MAX_RESOURCES),
        ("parameters", template.parameters.len(), MAX_PARAMETERS),
        ("outputs", template.outputs.len(), MAX_OUTPUTS),
    ];
    counts
        .into_iter()
        .filter(|(_, count, limit)| count > limit)
        .map(|(what, count, limit)| SynthError::Limit { what, count, limit })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use crate::output::Output;
    use crate::resource::{Resource, TypeInfo};
    use crate::template::{ResourceOptions, Template};
    use crate::Parameter;
    use serde::Serialize;

    /// A stand-in resource type, so these tests do not depend on generated code.
    #[derive(Serialize)]
    struct Thing {
        #[serde(rename = "Target", skip_serializing_if = "Option::is_none")]
        target: Option<Expr>,
    }

    impl Resource for Thing {
        const INFO: TypeInfo = TypeInfo {
            type_name: "Test::Thing",
            attributes: &["Arn"],
            create_only: &[],
        };
    }

    fn thing(target: Option<Expr>) -> Thing {
        Thing { target }
    }

    fn problems(template: &Template) -> Vec<SynthError> {
        check(template).err().map(|e| e.0).unwrap_or_default()
    }

    #[test]
    fn a_ref_to_a_missing_logical_id_names_both_ids() {
        let mut t = Template::new("test");
        t.add("Function", thing(Some(Expr::Ref("Missing".into()))));
        let found = problems(&t);
        assert_eq!(
            found,
            vec![SynthError::DanglingRef {
                from: "resource `Function`".into(),
                target: "Missing".into()
            }]
        );
        let message = found[0].to_string();
        assert!(
            message.contains("Function") && message.contains("Missing"),
            "{message}"
        );
    }

    #[test]
    fn refs_to_parameters_resources_and_pseudo_parameters_resolve() {
        let mut t = Template::new("test");
        let p = t.parameter("Bucket", Parameter::string());
        let a = t.add("A", thing(Some(p.to_ref())));
        t.add("B", thing(Some(a.get_att("Arn"))));
        t.add(
            "C",
            thing(Some(Expr::sub(
                "${A.Arn}-${Bucket}-${AWS::Region}-${!Literal}",
            ))),
        );
        t.output("Out", Output::new(a.to_ref()));
        assert_eq!(problems(&t), vec![]);
    }

    #[test]
    fn get_att_must_name_an_attribute_of_the_type() {
        let mut t = Template::new("test");
        let a = t.add("A", thing(None));
        t.add("B", thing(Some(a.get_att("Nope"))));
        let found = problems(&t);
        assert!(
            matches!(&found[..], [SynthError::UnknownAttribute { target, attribute, .. }] if target == "A" && attribute == "Nope"),
            "{found:?}"
        );
    }

    #[test]
    fn sub_variables_are_checked_unless_given_in_the_map() {
        let mut t = Template::new("test");
        t.add("A", thing(Some(Expr::sub("${Nowhere}"))));
        t.add(
            "B",
            thing(Some(Expr::sub_with(
                "${Local}",
                vec![("Local", "x".into())],
            ))),
        );
        assert_eq!(
            problems(&t),
            vec![SynthError::DanglingRef {
                from: "resource `A`".into(),
                target: "Nowhere".into()
            }]
        );
    }

    #[test]
    fn conditions_must_be_declared() {
        let mut t = Template::new("test");
        let options = ResourceOptions {
            condition: Some("Missing".into()),
            ..Default::default()
        };
        t.add_with(
            "A",
            thing(Some(Expr::if_("AlsoMissing", "a", "b"))),
            options,
        );
        let names: Vec<String> = problems(&t)
            .into_iter()
            .filter_map(|p| match p {
                SynthError::UnknownCondition { name, .. } => Some(name),
                _ => None,
            })
            .collect();
        assert_eq!(names, vec!["AlsoMissing", "Missing"]);
    }

    /// An update policy names resources too (a CodeDeploy application and group): its
    /// references are checked and written beside the properties.
    #[test]
    fn update_policy_references_are_checked_and_rendered() {
        let mut t = Template::new("test");
        let group = t.add("Group", thing(None));
        let options = ResourceOptions {
            update_policy: Some(serde_json::json!({
                "CodeDeployLambdaAliasUpdate": {
                    "DeploymentGroupName": group.to_ref().to_json(),
                    "ApplicationName": Expr::Ref("NoApplication".into()).to_json(),
                }
            })),
            ..Default::default()
        };
        t.add_with("Alias", thing(None), options);
        assert_eq!(
            problems(&t),
            vec![SynthError::DanglingRef {
                from: "resource `Alias`".into(),
                target: "NoApplication".into()
            }]
        );
        let doc = t.document();
        assert_eq!(
            doc["Resources"]["Alias"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
                ["DeploymentGroupName"],
            serde_json::json!({"Ref": "Group"})
        );
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        let mut t = Template::new("test");
        t.add("A", thing(Some(Expr::Ref("B".into()))));
        let options = ResourceOptions {
            depends_on: vec!["A".into()],
            ..Default::default()
        };
        t.add_with("B", thing(None), options);
        assert_eq!(problems(&t), vec![SynthError::Cycle("A → B → A".into())]);
    }

    #[test]
    fn duplicate_and_malformed_ids_are_refused() {
        let mut t = Template::new("test");
        t.add("A", thing(None));
        t.add("A", thing(None));
        t.add("bad-id", thing(None));
        let found = problems(&t);
        assert!(
            found.contains(&SynthError::DuplicateId("A".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&SynthError::InvalidId("bad-id".into())),
            "{found:?}"
        );
    }

    #[test]
    fn quotas_are_enforced() {
        let mut t = Template::new("test");
        for i in 0..=MAX_RESOURCES {
            t.add(&format!("R{i}"), thing(None));
        }
        assert_eq!(
            problems(&t),
            vec![SynthError::Limit {
                what: "resources",
                count: 501,
                limit: 500
            }]
        );
    }

    #[test]
    fn sub_variables_skip_escapes() {
        assert_eq!(sub_variables("a ${X} ${!Y} ${Z.Arn}"), vec!["X", "Z.Arn"]);
    }
}
