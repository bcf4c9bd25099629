//! Tags: the stack's `tags` map as key/value pairs, live tags back as the `tags` input,
//! and the difference an update applies.

use std::collections::BTreeMap;

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
