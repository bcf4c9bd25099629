//! What the `lookup` of each type (an `existing: true` resource, found by the identifying
//! properties `iac_stack::schema::lookup_by` lists) shares: EC2 describe filters built from
//! those properties, the answer when several objects match, and the lookup of a type whose
//! `find` already identifies objects the same way (a name unique per account and region,
//! a load balancer and a port).

use aws_sdk_ec2::types::Filter;
use iac_engine::provider::{ErrorKind, Found, ProviderError};
use serde_json::Value as Json;

use super::{Cx, ResourceType};

/// EC2 describe filters for a lookup: one `tag:KEY` filter per tag in `inputs` (every tag
/// given must match) and, for each `(property, filter name)` of `props` that `inputs` sets,
/// that filter. EC2 reads `*` and `?` in filter values as wildcards.
pub fn ec2_filters(inputs: &Json, props: &[(&str, &str)]) -> Vec<Filter> {
    let mut out = Vec::new();
    if let Some(Json::Object(tags)) = inputs.get("tags") {
        for (k, v) in tags {
            if let Some(v) = v.as_str() {
                out.push(Filter::builder().name(format!("tag:{k}")).values(v).build());
            }
        }
    }
    for (prop, filter) in props {
        if let Some(v) = inputs.get(*prop).and_then(Json::as_str) {
            out.push(Filter::builder().name(*filter).values(v).build());
        }
    }
    out
}

/// The one object among `matches` (physical id, attributes) that a lookup of `rtype`
/// found; `None` for no match; several are an error naming each and what was searched
/// for (`3 VPCs match `tags` Name=shared: `vpc-1`, `vpc-2`, `vpc-3``). `plural` names
/// the type's objects: `VPCs`.
pub fn single(
    rtype: &str,
    plural: &str,
    inputs: &Json,
    mut matches: Vec<(String, Json)>,
) -> Result<Option<Found>, ProviderError> {
    if matches.len() > 1 {
        matches.sort_by(|a, b| a.0.cmp(&b.0));
        let searched = iac_stack::schema::searched_for(rtype, inputs).unwrap_or_default();
        let ids: Vec<String> = matches.iter().map(|(id, _)| format!("`{id}`")).collect();
        // Conflict: the live state answers the search ambiguously (never retried here).
        return Err(ProviderError::new(
            ErrorKind::Conflict,
            format!(
                "{} {plural} match {searched}: {}; a lookup must single out one (add a tag that tells them apart, or give `existing: {{ id: ... }}`)",
                matches.len(),
                ids.join(", ")
            ),
        ));
    }
    Ok(matches
        .pop()
        .map(|(physical_id, attrs)| Found { physical_id, attrs }))
}

/// The lookup of a type whose [`ResourceType::find`] searches by exactly what a lookup
/// does (a name unique per account and region; a listener's load balancer and port):
/// what it finds, whoever owns it (a lookup only reads).
pub async fn by_find<T: ResourceType + ?Sized>(
    rt: &T,
    cx: &Cx,
    name: &str,
    inputs: &Json,
) -> Result<Option<Found>, ProviderError> {
    Ok(rt.find(cx, name, inputs).await?.map(|e| Found {
        physical_id: e.physical_id,
        attrs: e.live.attrs,
    }))
}
