//! A little engine: the provider driven call by call, with the engine's inputs (resolved
//! references, the engine's tags), and the reads and assertions of what it applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use iac_aws::AwsProvider;
use iac_engine::provider::{Created, OpContext, ReadRequest};
use iac_engine::{NullReporter, Provider};
use serde_json::{json, Value as Json};

/// The context of one provider call, reporting nowhere.
pub fn op(name: &str) -> OpContext {
    OpContext::new(name, Arc::new(NullReporter))
}

/// One resource as the little engine keeps it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub rtype: &'static str,
    pub id: String,
    pub inputs: Json,
    pub attrs: Json,
}

/// Everything applied so far, by name.
pub type AppliedMap = BTreeMap<String, Applied>;

/// The engine's tags for resource `name` of stack `stack` on top of the user's `user`.
pub fn with_tags(stack: &str, name: &str, mut inputs: Json, user: &[(&str, &str)]) -> Json {
    let mut tags = serde_json::Map::new();
    tags.insert("Name".to_owned(), json!(format!("{stack}-{name}")));
    for (k, v) in user {
        tags.insert((*k).to_owned(), json!(v));
    }
    tags.insert("iac:stack".to_owned(), json!(stack));
    tags.insert("iac:name".to_owned(), json!(name));
    inputs["tags"] = Json::Object(tags);
    inputs
}

/// `value` with every `${NAME.ATTR}` string replaced by that attribute of an applied
/// resource, as the engine resolves references before it calls the provider.
pub fn resolve(value: &Json, applied: &AppliedMap) -> Json {
    match value {
        Json::String(s) if s.starts_with("${") && s.ends_with('}') => {
            let (name, attr) = s[2..s.len() - 1].split_once('.').expect("NAME.ATTR");
            applied[name].attrs[attr].clone()
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| resolve(v, applied)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, applied)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `inputs` with the engine's tags for `name` of stack `stack`, on every type but
/// `aws.dns_record`, which has none.
pub fn with_engine_tags(stack: &str, name: &str, rtype: &str, inputs: Json) -> Json {
    if rtype == "aws.dns_record" {
        inputs
    } else {
        with_tags(stack, name, inputs, &[])
    }
}

/// The inputs the engine gives a create of `name` from `props`: references resolved from
/// `applied`, the engine's tags added ([`with_engine_tags`]).
pub fn create_inputs(
    stack: &str,
    name: &str,
    rtype: &str,
    props: &Json,
    applied: &AppliedMap,
) -> Json {
    with_engine_tags(stack, name, rtype, resolve(props, applied))
}

/// Creates `name` with the engine's `inputs`; it must succeed.
pub async fn create_with(
    provider: &AwsProvider,
    name: &str,
    rtype: &str,
    inputs: &Json,
) -> Created {
    provider
        .create(&op(name), rtype, name, inputs)
        .await
        .unwrap_or_else(|e| panic!("creating `{name}`: {e}"))
}

/// Keeps `name`, created with `inputs`, in `applied`.
pub fn keep(
    applied: &mut AppliedMap,
    name: &str,
    rtype: &'static str,
    inputs: Json,
    created: Created,
) {
    applied.insert(
        name.to_owned(),
        Applied {
            rtype,
            id: created.physical_id,
            inputs,
            attrs: created.attrs,
        },
    );
}

/// Creates `name` from `props` ([`create_inputs`]) and keeps it in `applied`.
pub async fn create(
    provider: &AwsProvider,
    applied: &mut AppliedMap,
    name: &str,
    rtype: &'static str,
    props: &Json,
) {
    let inputs = create_inputs(provider.stack(), name, rtype, props, applied);
    let created = create_with(provider, name, rtype, &inputs).await;
    keep(applied, name, rtype, inputs, created);
}

/// Reads everything, one call per type, as the engine's refresh does; name -> live inputs.
/// The live attributes of whatever is found must equal those applied.
pub async fn read_all(
    provider: &AwsProvider,
    applied: &AppliedMap,
) -> BTreeMap<String, Option<Json>> {
    let mut by_type: BTreeMap<&str, Vec<ReadRequest>> = BTreeMap::new();
    for (name, a) in applied {
        by_type.entry(a.rtype).or_default().push(ReadRequest {
            name: name.clone(),
            physical_id: a.id.clone(),
            last_inputs: a.inputs.clone(),
            last_attrs: a.attrs.clone(),
        });
    }
    let mut out = BTreeMap::new();
    for (rtype, requests) in by_type {
        let results = provider
            .read(rtype, &requests)
            .await
            .unwrap_or_else(|e| panic!("reading `{rtype}`: {e}"));
        assert_eq!(results.len(), requests.len());
        for (req, res) in requests.iter().zip(results) {
            assert_eq!(req.name, res.name);
            if let Some(live) = &res.live {
                assert_eq!(
                    live.attrs, applied[&req.name].attrs,
                    "attributes of `{}`",
                    req.name
                );
            }
            out.insert(res.name, res.live.map(|l| l.inputs));
        }
    }
    out
}

/// Every applied resource is live with the inputs applied: the next plan would show nothing.
pub fn assert_no_drift(live: &BTreeMap<String, Option<Json>>, applied: &AppliedMap) {
    for (name, a) in applied {
        let got = live[name]
            .as_ref()
            .unwrap_or_else(|| panic!("`{name}` is missing live"));
        assert_eq!(
            got, &a.inputs,
            "live inputs of `{name}` differ from those applied"
        );
    }
}

/// Reads everything applied ([`read_all`]): every resource is live with the inputs
/// applied ([`assert_no_drift`]).
pub async fn assert_reads_back(provider: &AwsProvider, applied: &AppliedMap) {
    assert_no_drift(&read_all(provider, applied).await, applied);
}

/// Updates `name` in place to `new`, `changed` being the paths the plan would name; keeps
/// the new inputs and attributes in `applied` and returns the attributes.
pub async fn update(
    provider: &AwsProvider,
    applied: &mut AppliedMap,
    name: &str,
    new: Json,
    changed: &[&str],
) -> Json {
    let a = applied.get_mut(name).expect("known resource");
    let changed: Vec<String> = changed.iter().map(|s| (*s).to_owned()).collect();
    let attrs = provider
        .update(&op(name), a.rtype, name, &a.id, &a.inputs, &new, &changed)
        .await
        .unwrap_or_else(|e| panic!("updating `{name}`: {e}"));
    a.inputs = new;
    a.attrs = attrs.clone();
    attrs
}

/// Deletes `name` as applied.
pub async fn delete(provider: &AwsProvider, applied: &AppliedMap, name: &str) {
    let a = &applied[name];
    provider
        .delete(&op(name), a.rtype, name, &a.id, &a.inputs)
        .await
        .unwrap_or_else(|e| panic!("deleting `{name}`: {e}"));
}
