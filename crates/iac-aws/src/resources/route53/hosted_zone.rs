//! `aws.hosted_zone`: a Route 53 zone, created by the stack or (usually) looked up with
//! `existing: true`.
//!
//! Only zones this stack created are ever deleted: the engine never asks to delete an
//! existing zone, and the delete checks the `iac:stack` tag anyway, because a deleted zone
//! takes every record of the domain with it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::types::{HostedZoneConfig, Tag, TagResourceType, Vpc, VpcRegion};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::{bare_zone_id, normal_name, zone_records};
use crate::resources::common::{
    absent_is_none, all_pages_by, client_token, first_ours, for_each_bounded, foreign_owner,
    in_chunks, malformed, name_taken, poll_until, req_str, sdk_tags, tag_pairs, tags_json, Backoff,
    TagDiff, READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.hosted_zone";

/// ListTagsForResources takes at most 10 zones per call.
const TAG_BATCH: usize = 10;

/// The `aws.hosted_zone` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostedZone;

/// The attributes: `id` without the `/hostedzone/` prefix, the name without its final dot.
fn attrs_of(zone: &GetHostedZoneOutput) -> Json {
    let (id, name) = zone
        .hosted_zone()
        .map(|z| (bare_zone_id(z.id()).to_owned(), normal_name(z.name())))
        .unwrap_or_default();
    let name_servers: Vec<String> = zone
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    json!({ "id": id, "name": name, "name_servers": name_servers })
}

/// GetHostedZone; `None` when the zone does not exist.
async fn get_zone(cx: &Cx, id: &str) -> Result<Option<GetHostedZoneOutput>, ProviderError> {
    absent_is_none(
        cx.aws
            .clients()
            .route53
            .get_hosted_zone()
            .id(bare_zone_id(id))
            .send()
            .await
            .map_err(cx.err(Service::Route53, "GetHostedZone")),
    )
}

/// The tags of the zones `ids`, ten per call.
async fn read_tags(
    cx: &Cx,
    ids: &[String],
) -> Result<HashMap<String, Vec<(String, String)>>, ProviderError> {
    in_chunks(ids, TAG_BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .route53
            .list_tags_for_resources()
            .resource_type(TagResourceType::Hostedzone)
            .set_resource_ids(Some(chunk))
            .send()
            .await
            .map_err(cx.err(Service::Route53, "ListTagsForResources"))?;
        Ok(resp
            .resource_tag_sets()
            .iter()
            .filter_map(|set| {
                Some((
                    bare_zone_id(set.resource_id()?).to_owned(),
                    tag_pairs(set.tags()),
                ))
            })
            .collect::<Vec<_>>())
    })
    .await
}

async fn change_tags(cx: &Cx, id: &str, diff: &TagDiff) -> Result<(), ProviderError> {
    if diff.is_empty() {
        return Ok(());
    }
    let add: Vec<Tag> = sdk_tags(&diff.add)?;
    cx.aws
        .clients()
        .route53
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(bare_zone_id(id))
        .set_add_tags((!add.is_empty()).then_some(add))
        .set_remove_tag_keys((!diff.remove.is_empty()).then(|| diff.remove.clone()))
        .send()
        .await
        .map_err(cx.err(Service::Route53, "ChangeTagsForResource"))?;
    Ok(())
}

/// Zones named `name` (any spelling), all pages of ListHostedZonesByName from that name on.
async fn zones_named(
    cx: &Cx,
    name: &str,
) -> Result<Vec<aws_sdk_route53::types::HostedZone>, ProviderError> {
    let want = normal_name(name);
    let route53 = &cx.aws.clients().route53;
    all_pages_by(|next: Option<(String, Option<String>)>| {
        let (dns_name, zone_id) = next.unwrap_or_else(|| (format!("{want}."), None));
        let page = route53
            .list_hosted_zones_by_name()
            .dns_name(dns_name)
            .set_hosted_zone_id(zone_id);
        let want = &want;
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Route53, "ListHostedZonesByName"))?;
            let (named, others): (Vec<_>, Vec<_>) = resp
                .hosted_zones()
                .iter()
                .cloned()
                .partition(|zone| normal_name(zone.name()) == *want);
            // Zones come sorted by name: once past the name, no more matches follow.
            let past = !others.is_empty();
            let next = resp
                .next_dns_name()
                .filter(|_| !past && resp.is_truncated())
                .map(|n| (n.to_owned(), resp.next_hosted_zone_id().map(str::to_owned)));
            Ok((named, next))
        }
    })
    .await
}

#[async_trait]
impl ResourceType for HostedZone {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // One `GetHostedZone` per zone and no batch form: sent concurrently.
        let zones = for_each_bounded(requests, READ_CONCURRENCY, |req| {
            get_zone(cx, &req.physical_id)
        })
        .await?;
        let live_ids: Vec<String> = requests
            .iter()
            .zip(&zones)
            .filter(|(_, z)| z.is_some())
            .map(|(r, _)| bare_zone_id(&r.physical_id).to_owned())
            .collect();
        let tags = read_tags(cx, &live_ids).await?;
        let mut out = Vec::with_capacity(requests.len());
        for (req, zone) in requests.iter().zip(zones) {
            let Some(zone) = zone else {
                out.push(None);
                continue;
            };
            let attrs = attrs_of(&zone);
            let last = &req.last_inputs;
            let live_name = attrs["name"].as_str().unwrap_or_default().to_owned();
            let mut inputs = Map::new();
            // `example.com` and AWS's `example.com.` are the same zone.
            let name = match last.get("name").and_then(Json::as_str) {
                Some(n) if normal_name(n) == live_name => n.to_owned(),
                _ => live_name,
            };
            inputs.insert("name".into(), json!(name));
            let private = zone
                .hosted_zone()
                .and_then(|z| z.config())
                .is_some_and(|c| c.private_zone());
            if private {
                let vpcs: Vec<&str> = zone.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
                let wanted = last.get("private_vpc").and_then(Json::as_str);
                let vpc = wanted
                    .filter(|w| vpcs.contains(w))
                    .or(vpcs.first().copied());
                if let Some(vpc) = vpc {
                    inputs.insert("private_vpc".into(), json!(vpc));
                }
            }
            let live_tags = tags
                .get(bare_zone_id(&req.physical_id))
                .cloned()
                .unwrap_or_default();
            inputs.insert("tags".into(), tags_json(live_tags));
            out.push(Some(Live {
                inputs: Json::Object(inputs),
                attrs,
            }));
        }
        Ok(out)
    }

    /// By id, with or without the `/hostedzone/` prefix.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        read_one(self, cx, name, bare_zone_id(id), desired, json!({})).await
    }

    /// By name and owner: the zone named `name` (public, or private when the inputs have
    /// `private_vpc`) whose tags name this stack's resource, or, untagged, that was made
    /// with this resource's caller reference (a create interrupted between
    /// `CreateHostedZone` and the tags; see [`reference_prefix`]). Route 53 allows several
    /// zones of one name, so a zone of someone else with the same name is no collision and
    /// is not found. Several of this stack's: the smallest id.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let zone_name = req_str(inputs, RTYPE, "name")?;
        let private = inputs.get("private_vpc").and_then(Json::as_str).is_some();
        let prefix = reference_prefix(cx, name, inputs)?;
        let mut zones: Vec<(String, String)> = zones_named(cx, zone_name)
            .await?
            .into_iter()
            .filter(|z| z.config().is_some_and(|c| c.private_zone()) == private)
            .map(|z| {
                (
                    bare_zone_id(z.id()).to_owned(),
                    z.caller_reference().to_owned(),
                )
            })
            .collect();
        zones.sort();
        let ids: Vec<String> = zones.iter().map(|(id, _)| id.clone()).collect();
        let tags = read_tags(cx, &ids).await?;
        let references: HashMap<String, String> = zones.into_iter().collect();
        let found = first_ours(self, cx, name, inputs, ids, |id| {
            let tags = tags_json(tags.get(id).cloned().unwrap_or_default());
            let tagged_ours = foreign_owner(&cx.stack, name, &tags).is_none();
            let untagged = tags
                .as_object()
                .is_none_or(|t| !t.keys().any(|k| k.starts_with("iac:")));
            let made_here = references.get(id).is_some_and(|r| r.starts_with(&prefix));
            std::future::ready(Ok(tagged_ours || (untagged && made_here)))
        })
        .await?;
        // Ours either way; an untagged one gets its tags from the engine's update.
        Ok(found.map(|found| Existing {
            foreign: None,
            ..found
        }))
    }

    /// The caller reference is the engine's token of this create's intent (so a create
    /// retried after a lost answer cannot make a second zone) after [`reference_prefix`];
    /// without a token, the prefix alone. Route 53 answers a reference used before with
    /// `HostedZoneAlreadyExists`: when the zone made with it still exists, that is a
    /// `Conflict` (the engine's `find` then recognises it as this stack's), changing
    /// nothing; when that zone was deleted since (Route 53 never forgets a reference), the
    /// create is retried once with a fresh reference.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let zone_name = req_str(inputs, RTYPE, "name")?;
        let vpc = inputs.get("private_vpc").and_then(Json::as_str);
        let prefix = reference_prefix(cx, name, inputs)?;
        let reference = match op.token() {
            Some(token) => format!("{prefix}-{token}"),
            None => prefix,
        };
        let id = match create_zone(cx, zone_name, vpc, &reference).await {
            Ok(id) => id,
            Err(e) if e.code() == Some("HostedZoneAlreadyExists") => {
                let made = zones_named(cx, zone_name)
                    .await?
                    .into_iter()
                    .find(|z| z.caller_reference() == reference);
                if let Some(zone) = made {
                    return Err(name_taken(&format!(
                        "hosted zone `{zone_name}` made with caller reference `{reference}` (`{}`)",
                        bare_zone_id(zone.id())
                    )));
                }
                let fresh = format!("{reference}-{}", unix_seconds());
                create_zone(cx, zone_name, vpc, &fresh).await?
            }
            Err(e) => return Err(e),
        };
        change_tags(cx, &id, &TagDiff::between(&json!({}), inputs)).await?;
        op.progress(&format!("created hosted zone `{zone_name}` (`{id}`)"));
        let zone = poll_until(
            op,
            &format!("hosted zone `{id}` to be readable"),
            Backoff::SHORT,
            || async { get_zone(cx, &id).await },
        )
        .await?;
        Ok(Created {
            physical_id: id,
            attrs: attrs_of(&zone),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        _changed: &[String],
    ) -> Result<Json, ProviderError> {
        // Name and VPC force a new zone; only the tags change in place.
        change_tags(cx, id, &TagDiff::between(old, new)).await?;
        let zone = get_zone(cx, id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("hosted zone `{id}` no longer exists"),
            )
        })?;
        Ok(attrs_of(&zone))
    }

    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        let id = bare_zone_id(id);
        let tags = read_tags(cx, &[id.to_owned()]).await?;
        let ours = tags
            .get(id)
            .is_some_and(|t| t.iter().any(|(k, v)| k == "iac:stack" && *v == cx.stack));
        if !ours {
            let name = inputs.get("name").and_then(Json::as_str).unwrap_or(id);
            return Err(ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "refusing to delete hosted zone `{name}` (`{id}`): it has no tag `iac:stack={}`, so this stack did not create it; remove it from the state with `existing: true` instead",
                    cx.stack
                ),
            ));
        }
        match cx
            .aws
            .clients()
            .route53
            .delete_hosted_zone()
            .id(id)
            .send()
            .await
            .map_err(cx.err(Service::Route53, "DeleteHostedZone"))
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("HostedZoneNotEmpty") => {
                let left: Vec<String> = zone_records(cx, id)
                    .await?
                    .unwrap_or_default()
                    .into_keys()
                    .filter(|(_, t)| t != "NS" && t != "SOA")
                    .map(|(n, t)| format!("`{n}` {t}"))
                    .collect();
                Err(ProviderError::new(
                    ErrorKind::Dependency,
                    format!(
                        "hosted zone `{id}` still holds records iac does not manage: {}; delete them first",
                        left.join(", ")
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    async fn lookup(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        let zone_name = req_str(inputs, RTYPE, "name")?;
        let private = inputs.get("private_vpc").and_then(Json::as_str).is_some();
        let candidates: Vec<String> = zones_named(cx, zone_name)
            .await?
            .into_iter()
            .filter(|z| z.config().is_some_and(|c| c.private_zone()) == private)
            .map(|z| bare_zone_id(z.id()).to_owned())
            .collect();
        let id = match candidates.as_slice() {
            [] => return Ok(None),
            [one] => one.clone(),
            many => {
                // Conflict: the search is ambiguous, as for every lookup (see `lookup.rs`).
                return Err(ProviderError::new(
                    ErrorKind::Conflict,
                    format!(
                        "{} {} hosted zones are named `{zone_name}` ({}); iac cannot tell which one is meant",
                        many.len(),
                        if private { "private" } else { "public" },
                        many.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        };
        let zone = get_zone(cx, &id)
            .await?
            .ok_or_else(|| malformed("ListHostedZonesByName", "HostedZone"))?;
        Ok(Some(Found {
            physical_id: id,
            attrs: attrs_of(&zone),
        }))
    }
}

async fn create_zone(
    cx: &Cx,
    zone_name: &str,
    vpc: Option<&str>,
    reference: &str,
) -> Result<String, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .route53
        .create_hosted_zone()
        .name(zone_name)
        .caller_reference(reference)
        .set_vpc(vpc.map(|v| {
            Vpc::builder()
                .vpc_id(v)
                .vpc_region(VpcRegion::from(cx.aws.region()))
                .build()
        }))
        .hosted_zone_config(
            HostedZoneConfig::builder()
                .private_zone(vpc.is_some())
                .comment(format!("managed by iac stack {}", cx.stack))
                .build(),
        )
        .send()
        .await
        .map_err(cx.err(Service::Route53, "CreateHostedZone"))?;
    Ok(bare_zone_id(
        resp.hosted_zone()
            .ok_or_else(|| malformed("CreateHostedZone", "HostedZone"))?
            .id(),
    )
    .to_owned())
}

/// How every caller reference of this stack's resource `name` with these inputs starts:
/// a token of the stack, resource, zone name and VPC (at most 64 characters; a reference
/// may have 128). The zone's tags are set only after `CreateHostedZone`, so this is what
/// still says whose a zone is when a create was interrupted in between.
fn reference_prefix(cx: &Cx, name: &str, inputs: &Json) -> Result<String, ProviderError> {
    let zone_name = req_str(inputs, RTYPE, "name")?;
    let vpc = inputs.get("private_vpc").and_then(Json::as_str);
    Ok(client_token(
        cx,
        name,
        &[&normal_name(zone_name), vpc.unwrap_or("")],
    ))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
