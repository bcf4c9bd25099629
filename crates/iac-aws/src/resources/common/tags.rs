//! Tags: the stack's `tags` map as key/value pairs, live tags back as the `tags` input,
//! and the difference an update applies.

use std::collections::BTreeMap;

use iac_engine::provider::{ErrorKind, ProviderError};
use serde_json::Value as Json;

/// The tags of the inputs (`tags`, which already holds the engine's `iac:*` and `Name`),
/// as key/value pairs sorted by key. Non-string values are written as JSON text.
pub fn input_tags(inputs: &Json) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = inputs
        .get("tags")
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

/// Live tags as the `tags` input: AWS's own `aws:*` tags are dropped (nobody can set or
/// remove them, so they are never drift).
pub fn tags_json<I, K, V>(tags: I) -> Json
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut sorted: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in tags {
        let k = k.into();
        if !k.starts_with("aws:") {
            sorted.insert(k, v.into());
        }
    }
    Json::Object(
        sorted
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect(),
    )
}

/// What an update must do to the tags: set `add` (new keys and changed values), remove
/// `remove` (keys no longer wanted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagDiff {
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl TagDiff {
    /// The difference from the `tags` of `old` inputs to those of `new`.
    pub fn between(old: &Json, new: &Json) -> TagDiff {
        let old: BTreeMap<String, String> = input_tags(old).into_iter().collect();
        let new: BTreeMap<String, String> = input_tags(new).into_iter().collect();
        TagDiff {
            add: new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove: old
                .keys()
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// A service's own tag type (EC2's, ECS's, IAM's ...): the one conversion between the
/// stack's tags and every service's `Tag`, both ways, written once for all of them.
pub trait SdkTag: Sized {
    /// The tag `key` = `value`; without a value, the key alone (how EC2 and ACM name a
    /// tag to remove whatever its value).
    fn build(key: &str, value: Option<&str>) -> Result<Self, ProviderError>;
    /// Its key and value (an absent value read as empty); `None` without a key.
    fn pair(&self) -> Option<(&str, &str)>;
}

/// Implements [`SdkTag`] for a service's `Tag`, whose builder either always succeeds
/// (`infallible`) or checks its required fields (`fallible`), and whose getters return
/// `&str` or `Option<&str>` (both read through `Into<Option<&str>>`).
macro_rules! sdk_tag {
    ($tag:ty, $build:ident) => {
        impl SdkTag for $tag {
            fn build(key: &str, value: Option<&str>) -> Result<Self, ProviderError> {
                let built = <$tag>::builder()
                    .key(key)
                    .set_value(value.map(str::to_owned))
                    .build();
                sdk_tag!(@$build built, key)
            }
            fn pair(&self) -> Option<(&str, &str)> {
                let key: Option<&str> = self.key().into();
                let value: Option<&str> = self.value().into();
                Some((key?, value.unwrap_or("")))
            }
        }
    };
    (@infallible $built:ident, $key:ident) => {
        Ok($built)
    };
    (@fallible $built:ident, $key:ident) => {
        $built.map_err(|e| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("cannot build the tag `{}`: {e}", $key),
            )
        })
    };
}

sdk_tag!(aws_sdk_ec2::types::Tag, infallible);
sdk_tag!(aws_sdk_ecs::types::Tag, infallible);
sdk_tag!(aws_sdk_elasticloadbalancingv2::types::Tag, infallible);
sdk_tag!(aws_sdk_route53::types::Tag, infallible);
sdk_tag!(aws_sdk_acm::types::Tag, fallible);
sdk_tag!(aws_sdk_ecr::types::Tag, fallible);
sdk_tag!(aws_sdk_iam::types::Tag, fallible);
sdk_tag!(aws_sdk_servicediscovery::types::Tag, fallible);

/// Key/value pairs (as [`input_tags`] and [`TagDiff::add`] give them) as a service's tags.
pub fn sdk_tags<T: SdkTag>(pairs: &[(String, String)]) -> Result<Vec<T>, ProviderError> {
    pairs.iter().map(|(k, v)| T::build(k, Some(v))).collect()
}

/// The `tags` of the inputs as a service's tags, `None` when there are none (they already
/// hold the engine's `iac:*` and `Name`).
pub fn sdk_tags_of<T: SdkTag>(inputs: &Json) -> Result<Option<Vec<T>>, ProviderError> {
    let tags = sdk_tags(&input_tags(inputs))?;
    Ok((!tags.is_empty()).then_some(tags))
}

/// Keys alone as a service's tags, for the APIs that remove tags given as tags.
pub fn sdk_tag_keys<T: SdkTag>(keys: &[String]) -> Result<Vec<T>, ProviderError> {
    keys.iter().map(|k| T::build(k, None)).collect()
}

/// A service's tags as key/value pairs, in its order.
pub fn tag_pairs<T: SdkTag>(tags: &[T]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(SdkTag::pair)
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A service's live tags as the `tags` input ([`tags_json`]).
pub fn live_tags<T: SdkTag>(tags: &[T]) -> Json {
    tags_json(tags.iter().filter_map(SdkTag::pair))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_diff_adds_changed_and_new_keys_and_removes_dropped_ones() {
        let old = json!({"tags": {"iac:stack": "s", "team": "a", "gone": "x"}});
        let new = json!({"tags": {"iac:stack": "s", "team": "b", "env": "prod"}});
        let diff = TagDiff::between(&old, &new);
        assert_eq!(
            diff.add,
            vec![
                ("env".to_owned(), "prod".to_owned()),
                ("team".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(diff.remove, vec!["gone".to_owned()]);
        assert!(TagDiff::between(&new, &new).is_empty());
    }

    #[test]
    fn every_services_tags_convert_the_same_way_both_ways() {
        let inputs = json!({"tags": {"team": "a", "iac:stack": "s"}});
        let ec2: Vec<aws_sdk_ec2::types::Tag> = sdk_tags_of(&inputs).unwrap().unwrap();
        let iam: Vec<aws_sdk_iam::types::Tag> = sdk_tags_of(&inputs).unwrap().unwrap();
        assert_eq!(tag_pairs(&ec2), tag_pairs(&iam));
        assert_eq!(
            tag_pairs(&ec2),
            vec![
                ("iac:stack".to_owned(), "s".to_owned()),
                ("team".to_owned(), "a".to_owned())
            ]
        );
        assert_eq!(live_tags(&iam), json!({"iac:stack": "s", "team": "a"}));
        assert_eq!(
            sdk_tags_of::<aws_sdk_ecs::types::Tag>(&json!({})).unwrap(),
            None
        );
        let removed: Vec<aws_sdk_acm::types::Tag> = sdk_tag_keys(&["team".to_owned()]).unwrap();
        assert_eq!(
            tag_pairs(&removed),
            vec![("team".to_owned(), String::new())]
        );
        // IAM requires a value: a key alone is refused, not sent.
        assert!(sdk_tag_keys::<aws_sdk_iam::types::Tag>(&["team".to_owned()]).is_err());
    }

    #[test]
    fn live_tags_drop_aws_owned_keys_and_sort() {
        let tags = tags_json([
            ("b", "2"),
            ("aws:cloudformation:stack-name", "x"),
            ("a", "1"),
        ]);
        assert_eq!(tags, json!({"a": "1", "b": "2"}));
        assert_eq!(
            input_tags(&json!({"tags": {"n": 3, "a": "x"}})),
            vec![
                ("a".to_owned(), "x".to_owned()),
                ("n".to_owned(), "3".to_owned())
            ]
        );
    }
}
