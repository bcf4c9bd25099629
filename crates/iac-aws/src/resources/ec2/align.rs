//! Live lists read back in the form and order last applied, so an unchanged list is no
//! drift.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Orders a live list like the list last applied, so an unchanged list reads back equal.
///
/// AWS returns routes, associations and rules in its own order, while the engine compares
/// lists element by element. Every live item whose `key` matches an item of `last` takes
/// that item's place and form (it is the same thing, e.g. `port: 443` for a live
/// `443-443`); live items iac did not apply follow, sorted by key, and show as drift.
pub fn align<K: Ord + Clone>(
    live: Vec<(K, Json)>,
    last: Option<&Json>,
    key_of_last: impl Fn(&Json) -> Option<K>,
) -> Vec<Json> {
    let mut remaining: BTreeMap<K, Vec<Json>> = BTreeMap::new();
    for (k, v) in live {
        remaining.entry(k).or_default().push(v);
    }
    let mut out = Vec::new();
    for item in last.and_then(Json::as_array).into_iter().flatten() {
        let Some(k) = key_of_last(item) else { continue };
        if let Some(same) = remaining.get_mut(&k) {
            if !same.is_empty() {
                same.remove(0);
                out.push(item.clone());
            }
        }
    }
    out.extend(remaining.into_values().flatten());
    out
}

/// Puts an optional list property into read-back inputs: an empty live list is left out
/// when the last applied inputs left the property out too, so "omitted" reads back as
/// omitted rather than as `[]`.
pub fn put_list(
    inputs: &mut serde_json::Map<String, Json>,
    last: &Json,
    prop: &str,
    items: Vec<Json>,
) {
    if items.is_empty() && last.get(prop).is_none_or(Json::is_null) {
        return;
    }
    inputs.insert(prop.to_owned(), Json::Array(items));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn align_keeps_the_applied_order_and_form_and_appends_extras_sorted() {
        let live = vec![
            ("b".to_owned(), json!({"k": "b", "form": "live"})),
            ("z".to_owned(), json!({"k": "z", "form": "live"})),
            ("a".to_owned(), json!({"k": "a", "form": "live"})),
            ("c".to_owned(), json!({"k": "c", "form": "live"})),
        ];
        let last = json!([
            {"k": "c", "form": "applied"},
            {"k": "gone", "form": "applied"},
            {"k": "a", "form": "applied"},
        ]);
        let key = |v: &Json| v.get("k").and_then(Json::as_str).map(str::to_owned);
        let out = align(live, Some(&last), key);
        assert_eq!(
            out,
            vec![
                json!({"k": "c", "form": "applied"}),
                json!({"k": "a", "form": "applied"}),
                json!({"k": "b", "form": "live"}),
                json!({"k": "z", "form": "live"}),
            ]
        );
    }

    #[test]
    fn put_list_leaves_out_an_empty_list_that_was_omitted() {
        let mut m = serde_json::Map::new();
        put_list(&mut m, &json!({}), "routes", vec![]);
        assert!(m.is_empty());
        put_list(&mut m, &json!({"routes": []}), "routes", vec![]);
        assert_eq!(m.get("routes"), Some(&json!([])));
        put_list(&mut m, &json!({}), "subnets", vec![json!("subnet-1")]);
        assert_eq!(m.get("subnets"), Some(&json!(["subnet-1"])));
    }
}
