//! Reading the engine's JSON inputs, and building JSON answers.

use std::collections::BTreeMap;

use iac_engine::provider::ProviderError;
use serde_json::{Map, Value as Json};

use super::errors::missing_input;
use crate::resources::Cx;

/// A required string input.
pub fn req_str<'a>(inputs: &'a Json, rtype: &str, prop: &str) -> Result<&'a str, ProviderError> {
    inputs
        .get(prop)
        .and_then(Json::as_str)
        .ok_or_else(|| missing_input(rtype, prop))
}

/// The string `key` of the JSON object `v`, owned (what an SDK builder's `set_*` takes);
/// `None` when absent or not a string.
pub fn owned_str(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

/// The AWS name of the stack's object `name`: its `name` input, which the engine fills with
/// `<stack>-<NAME>` (shortened to `max` characters, the service's limit) when the stack
/// leaves it out.
pub fn aws_name_of(cx: &Cx, name: &str, inputs: &Json, max: usize) -> String {
    owned_str(inputs, "name").unwrap_or_else(|| iac_stack::schema::aws_name(&cx.stack, name, max))
}

/// The name in an ARN `arn:aws:SERVICE:REGION:ACCOUNT:KIND/PATH/NAME` (its last part), or
/// `id` itself when it is no ARN of that `kind` (`role`, `instance-profile`,
/// `capacity-provider`): what an import given a name or an ARN reads by.
pub fn arn_name<'a>(id: &'a str, kind: &str) -> &'a str {
    match id.split_once(&format!(":{kind}/")) {
        Some((_, path)) => path.rsplit('/').next().unwrap_or(path),
        None => id,
    }
}

/// An optional boolean input with its default.
pub fn bool_or(inputs: &Json, prop: &str, default: bool) -> bool {
    inputs.get(prop).and_then(Json::as_bool).unwrap_or(default)
}

/// A list of strings input (absent: empty).
pub fn str_list(inputs: &Json, prop: &str) -> Vec<String> {
    strings_of(inputs.get(prop))
}

/// The strings of a list value, e.g. a field of a nested input (absent or not a list:
/// empty); other items are passed over.
pub fn strings_of(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `live` in the order the list `last` (as last applied) had it, items it did not have
/// after, sorted: AWS returns subnets, security groups, names and policies in its own
/// order, which is not drift.
pub fn order_like(mut live: Vec<String>, last: Option<&Json>) -> Vec<String> {
    let mut position: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in last
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .enumerate()
    {
        position.entry(s).or_insert(i);
    }
    live.sort_by_key(|s| {
        (
            position.get(s.as_str()).copied().unwrap_or(usize::MAX),
            s.clone(),
        )
    });
    live
}

/// A JSON object from pairs, keeping their order.
pub fn object<I: IntoIterator<Item = (&'static str, Json)>>(pairs: I) -> Json {
    Json::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<String, Json>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arn_names_are_the_last_part_of_the_path() {
        assert_eq!(
            arn_name("arn:aws:iam::1:role/svc/shop-exec", "role"),
            "shop-exec"
        );
        assert_eq!(
            arn_name(
                "arn:aws:ecs:us-east-1:1:capacity-provider/shop-ec2",
                "capacity-provider"
            ),
            "shop-ec2"
        );
        assert_eq!(arn_name("shop-exec", "role"), "shop-exec");
        assert_eq!(
            arn_name("arn:aws:iam::1:instance-profile/p", "role"),
            "arn:aws:iam::1:instance-profile/p",
            "an ARN of another kind is taken as a name"
        );
    }

    #[test]
    fn live_lists_keep_the_applied_order() {
        let last = json!(["subnet-b", "subnet-a"]);
        let live = vec![
            "subnet-a".to_owned(),
            "subnet-c".to_owned(),
            "subnet-b".to_owned(),
        ];
        assert_eq!(
            order_like(live, Some(&last)),
            ["subnet-b", "subnet-a", "subnet-c"]
        );
        assert_eq!(
            order_like(vec!["b".into(), "a".into()], None),
            ["a", "b"],
            "nothing applied: sorted"
        );
    }
}
