//! What the provider gets for a stack resource (its inputs before references resolve),
//! what the resource depends on, and the stack in dependency order.

use iac_stack::schema::{DefaultValue, TypeSchema};
use iac_stack::{Resource, Stack, Value};
use indexmap::IndexMap;

use crate::util;

/// Every resource a resource depends on: references anywhere in its properties plus
/// `depends_on` (not only the loader's recorded reference sites, so stacks built in code
/// work too).
pub fn dependencies_of(r: &Resource) -> Vec<String> {
    let mut out: Vec<String> = r.dependencies().into_iter().map(str::to_string).collect();
    for v in r.props.values() {
        for rf in v.references() {
            if !out.contains(&rf.resource) {
                out.push(rf.resource.clone());
            }
        }
    }
    out
}

/// The inputs the engine hands the provider for a resource, before references resolve:
/// the properties with defaults, plus the engine's tags on taggable types (for an
/// `existing` lookup: the properties as given, which are what it searches by).
pub fn desired_inputs(stack: &Stack, r: &Resource) -> Value {
    let schema: &TypeSchema = r.schema;
    let mut props: IndexMap<String, Value> = IndexMap::new();
    for p in schema.props {
        let v = match r.props.get(p.name) {
            Some(v) => v.clone(),
            // A lookup searches by what the stack gives: defaults are for what iac creates.
            None if r.existing => continue,
            None if !iac_stack::schema::default_applies(schema.name, p.name, &r.props) => continue,
            None => match p.default {
                Some(DefaultValue::Bool(b)) => Value::Bool(b),
                Some(DefaultValue::Int(i)) => Value::Int(i),
                Some(DefaultValue::Str(s)) => Value::Str(s.into()),
                Some(DefaultValue::AwsName) => Value::Str(iac_stack::schema::aws_name(
                    &stack.name,
                    &r.name,
                    schema.aws_name.map_or(255, |a| a.max_len),
                )),
                Some(DefaultValue::Pattern(pat)) => Value::Str(
                    pat.replace("{stack}", &stack.name)
                        .replace("{name}", &r.name),
                ),
                None => continue,
            },
        };
        props.insert(p.name.to_string(), v);
    }
    // Properties the schema does not list (a newer loader) still reach the provider.
    for (k, v) in &r.props {
        if !props.contains_key(k) {
            props.insert(k.clone(), v.clone());
        }
    }
    // A lookup's tags are what it searches by: iac's own are for what it manages.
    if schema.taggable && !r.existing {
        let mut tags: IndexMap<String, Value> = IndexMap::new();
        tags.insert(
            "Name".into(),
            Value::Str(format!("{}-{}", stack.name, r.name)),
        );
        if let Some(Value::Map(user)) = r.props.get("tags") {
            for (k, v) in user {
                tags.insert(k.clone(), v.clone());
            }
        }
        tags.insert("iac:stack".into(), Value::Str(stack.name.clone()));
        tags.insert("iac:name".into(), Value::Str(r.name.clone()));
        props.insert("tags".into(), Value::Map(tags));
    }
    Value::Map(props)
}

/// Resources of the stack in dependency order: each after what it depends on, found depth
/// first from the resources in file order (so file order among independent ones).
pub(super) fn topo_order(stack: &Stack) -> Vec<&Resource> {
    let dependencies: Vec<Vec<usize>> = stack
        .resources
        .values()
        .map(|r| {
            dependencies_of(r)
                .iter()
                .filter_map(|d| stack.resources.get_index_of(d.as_str()))
                .collect()
        })
        .collect();
    util::post_order(&dependencies, 0..dependencies.len())
        .into_iter()
        .map(|i| &stack.resources[i])
        .collect()
}
