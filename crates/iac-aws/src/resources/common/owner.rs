//! Ownership: what `find` decides about an object it found, and reading it as a read
//! would.

use std::future::Future;

use iac_engine::provider::{Existing, Live, ProviderError, ReadRequest};
use serde_json::Value as Json;

use super::super::{Cx, ResourceType};
use super::inputs::req_str;

/// How many of a foreign object's tags [`foreign_owner`] lists.
const OWNER_TAGS_SHOWN: usize = 5;

/// Whose an object found by a `find` seems to be, from its live `tags` (in the stack's
/// shape, as a read returns them): `None` when they carry this stack's `iac:stack` and the
/// resource's `iac:name`, so the object is this stack's resource `name`; otherwise a short
/// description of the owner for the error, e.g. ``tags `iac:stack=other`, `iac:name=web` ``
/// or ``no iac tags (tags: `team=payments`)``.
///
/// This is the one ownership rule for every taggable type: iac adopts an object it finds
/// only when it is `None`, and never modifies or deletes an object for which it is `Some`.
pub fn foreign_owner(stack: &str, name: &str, live_tags: &Json) -> Option<String> {
    let tag = |k: &str| live_tags.get(k).and_then(Json::as_str);
    if tag("iac:stack") == Some(stack) && tag("iac:name") == Some(name) {
        return None;
    }
    // Sorted by key, `iac:stack` first: the same tags always read the same.
    let mut sorted: Vec<(&String, &Json)> = live_tags.as_object().into_iter().flatten().collect();
    sorted.sort_by_key(|(k, _)| (k.as_str() != "iac:stack", k.as_str()));
    let show = |(k, v): &(&String, &Json)| match v {
        Json::String(s) => format!("`{k}={s}`"),
        other => format!("`{k}={other}`"),
    };
    let iac: Vec<String> = sorted
        .iter()
        .filter(|(k, _)| k.starts_with("iac:"))
        .map(show)
        .collect();
    if !iac.is_empty() {
        return Some(format!("tags {}", iac.join(", ")));
    }
    let all: Vec<String> = sorted.iter().map(show).collect();
    Some(match all.len() {
        0 => "no tags".to_owned(),
        n if n > OWNER_TAGS_SHOWN => format!(
            "no iac tags (tags: {}, and {} more)",
            all[..OWNER_TAGS_SHOWN].join(", "),
            n - OWNER_TAGS_SHOWN
        ),
        _ => format!("no iac tags (tags: {})", all.join(", ")),
    })
}

/// What `find` answers for an object of a taggable type found live (`live` as its read
/// returns it): this stack's resource `name`, or someone else's per [`foreign_owner`].
pub fn existing(cx: &Cx, name: &str, physical_id: impl Into<String>, live: Live) -> Existing {
    let foreign = foreign_owner(
        &cx.stack,
        name,
        live.inputs.get("tags").unwrap_or(&Json::Null),
    );
    Existing {
        physical_id: physical_id.into(),
        live,
        foreign,
    }
}

/// The object `physical_id`, found by a `find`, read by the type's own `read` with the
/// create `inputs` as the last applied inputs (and `last_attrs`), so that `find` returns
/// it exactly as a read would and the engine can diff it against the desired inputs.
/// `None` when it is gone (or in a state the read counts as gone).
pub async fn read_found<T: ResourceType + ?Sized>(
    rtype: &T,
    cx: &Cx,
    name: &str,
    physical_id: &str,
    inputs: &Json,
    last_attrs: Json,
) -> Result<Option<Live>, ProviderError> {
    let request = ReadRequest {
        name: name.to_owned(),
        physical_id: physical_id.to_owned(),
        last_inputs: inputs.clone(),
        last_attrs,
    };
    Ok(rtype
        .read(cx, std::slice::from_ref(&request))
        .await?
        .into_iter()
        .next()
        .flatten())
}

/// `find`'s answer for the object `physical_id` (found by its deterministic name or ARN):
/// read as the type's read would ([`read_found`]) and whose it is ([`existing`]); `None`
/// when it is gone.
pub async fn find_existing<T: ResourceType + ?Sized>(
    rtype: &T,
    cx: &Cx,
    name: &str,
    physical_id: &str,
    inputs: &Json,
) -> Result<Option<Existing>, ProviderError> {
    let live = read_found(rtype, cx, name, physical_id, inputs, Json::Null).await?;
    Ok(live.map(|live| existing(cx, name, physical_id, live)))
}

/// `find` among `candidates` (physical ids, in the order to try) of a type with no unique
/// name: the first that `ours` accepts (`Ok(false)` passes it over) and that still reads as
/// the type's read would ([`read_found`]), as [`existing`] answers for it.
pub async fn first_ours<T, F, Fut>(
    rtype: &T,
    cx: &Cx,
    name: &str,
    inputs: &Json,
    candidates: impl IntoIterator<Item = String>,
    mut ours: F,
) -> Result<Option<Existing>, ProviderError>
where
    T: ResourceType + ?Sized,
    F: FnMut(&str) -> Fut,
    Fut: Future<Output = Result<bool, ProviderError>>,
{
    for id in candidates {
        if !ours(&id).await? {
            continue;
        }
        if let Some(found) = find_existing(rtype, cx, name, &id, inputs).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// `find` of a type whose objects have the deterministic name the `name` input holds
/// (unique per account or region): that object ([`find_existing`]), whoever owns it.
pub async fn find_by_name<T: ResourceType + ?Sized>(
    rtype: &T,
    type_name: &str,
    cx: &Cx,
    name: &str,
    inputs: &Json,
) -> Result<Option<Existing>, ProviderError> {
    let object = req_str(inputs, type_name, "name")?;
    find_existing(rtype, cx, name, object, inputs).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_is_ours_only_with_this_stacks_and_this_resources_iac_tags() {
        let ours = json!({"Name": "shop-web", "iac:stack": "shop", "iac:name": "web"});
        assert_eq!(foreign_owner("shop", "web", &ours), None);
        assert_eq!(
            foreign_owner("shop", "api", &ours).as_deref(),
            Some("tags `iac:stack=shop`, `iac:name=web`")
        );
        assert_eq!(
            foreign_owner("other", "web", &ours).as_deref(),
            Some("tags `iac:stack=shop`, `iac:name=web`")
        );
        assert_eq!(
            foreign_owner("shop", "web", &json!({"team": "payments"})).as_deref(),
            Some("no iac tags (tags: `team=payments`)")
        );
        assert_eq!(
            foreign_owner("shop", "web", &json!({})).as_deref(),
            Some("no tags")
        );
        assert_eq!(
            foreign_owner("shop", "web", &Json::Null).as_deref(),
            Some("no tags")
        );
        let many = json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7"});
        assert_eq!(
            foreign_owner("shop", "web", &many).as_deref(),
            Some("no iac tags (tags: `a=1`, `b=2`, `c=3`, `d=4`, `e=5`, and 2 more)")
        );
    }
}
