//! Route 53: hosted zones and record sets, plus what they and the certificate's validation
//! records share: one change batch applied and waited for until `INSYNC`, record lookup,
//! and the name normalisation that keeps AWS's spelling of names from showing as drift.

pub mod dns_record;
pub mod hosted_zone;

use std::collections::HashMap;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet, RrType,
};
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};

use super::common::{absent_is_none, all_pages_by, poll_until, Backoff};
use super::Cx;
use crate::Service;

/// A request that could not be built (a required field missing): a bug, not an AWS error.
pub(crate) fn build_error(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("cannot build the Route 53 {what}: {e}"),
    )
}

/// `/hostedzone/Z123` -> `Z123`: the form the stack and the state use.
pub(crate) fn bare_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A DNS name as Route 53 compares it: lower case, no final dot, `*` instead of its escape
/// `\052` (how ListResourceRecordSets spells a wildcard).
pub(crate) fn normal_name(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

/// Sends `changes` as one batch to `zone` and waits until Route 53 reports it `INSYNC`
/// (served by all its name servers), so whatever runs next sees the records.
pub(crate) async fn change_and_wait(
    cx: &Cx,
    op: &OpContext,
    zone: &str,
    changes: Vec<Change>,
    comment: &str,
) -> Result<(), ProviderError> {
    if changes.is_empty() {
        return Ok(());
    }
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .comment(comment)
        .build()
        .map_err(|e| build_error("change batch", e))?;
    let resp = cx
        .aws
        .clients()
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(bare_zone_id(zone))
        .change_batch(batch)
        .send()
        .await
        .map_err(cx.err(Service::Route53, "ChangeResourceRecordSets"))?;
    let Some(info) = resp.change_info() else {
        return Ok(());
    };
    if info.status() == &ChangeStatus::Insync {
        return Ok(());
    }
    let change_id = info.id().to_owned();
    poll_until(
        op,
        &format!("Route 53 change `{change_id}` in zone `{zone}` to be in sync"),
        Backoff::LONG.with_limit(std::time::Duration::from_secs(600)),
        || async {
            let resp = cx
                .aws
                .clients()
                .route53
                .get_change()
                .id(&change_id)
                .send()
                .await
                .map_err(cx.err(Service::Route53, "GetChange"))?;
            Ok(resp
                .change_info()
                .filter(|i| i.status() == &ChangeStatus::Insync)
                .map(|_| ()))
        },
    )
    .await
}

/// One change of a batch.
pub(crate) fn change(
    action: ChangeAction,
    set: ResourceRecordSet,
) -> Result<Change, ProviderError> {
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .map_err(|e| build_error("change", e))
}

/// Every simple (not weighted, latency, ...) record set of `zone`, keyed by normalised name
/// and type, all pages: the one read of a zone however many records the stack has in it.
/// `None` when the zone no longer exists.
pub(crate) async fn zone_records(
    cx: &Cx,
    zone: &str,
) -> Result<Option<HashMap<(String, String), ResourceRecordSet>>, ProviderError> {
    let route53 = &cx.aws.clients().route53;
    let sets = all_pages_by(|start: Option<(String, RrType, Option<String>)>| {
        let mut page = route53
            .list_resource_record_sets()
            .hosted_zone_id(bare_zone_id(zone));
        if let Some((name, rtype, ident)) = start {
            page = page
                .start_record_name(name)
                .start_record_type(rtype)
                .set_start_record_identifier(ident);
        }
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Route53, "ListResourceRecordSets"))?;
            let next = match (
                resp.is_truncated(),
                resp.next_record_name(),
                resp.next_record_type(),
            ) {
                (true, Some(name), Some(rtype)) => Some((
                    name.to_owned(),
                    rtype.clone(),
                    resp.next_record_identifier().map(str::to_owned),
                )),
                _ => None,
            };
            Ok((resp.resource_record_sets().to_vec(), next))
        }
    })
    .await;
    let Some(sets) = absent_is_none(sets)? else {
        return Ok(None);
    };
    Ok(Some(
        sets.into_iter()
            .filter(|set| set.set_identifier().is_none())
            .map(|set| {
                let key = (normal_name(set.name()), set.r#type().as_str().to_owned());
                (key, set)
            })
            .collect(),
    ))
}

/// The record set `name`/`rtype` of `zone` as it is now, read with one
/// ListResourceRecordSets that starts at it. `None` when it (or the zone) does not exist.
pub(crate) async fn find_record(
    cx: &Cx,
    zone: &str,
    name: &str,
    rtype: &str,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let listed = cx
        .aws
        .clients()
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(bare_zone_id(zone))
        .start_record_name(name)
        .start_record_type(RrType::from(rtype))
        .max_items(1)
        .send()
        .await
        .map_err(cx.err(Service::Route53, "ListResourceRecordSets"));
    let Some(resp) = absent_is_none(listed)? else {
        return Ok(None);
    };
    let want = normal_name(name);
    Ok(resp
        .resource_record_sets()
        .iter()
        .find(|s| {
            normal_name(s.name()) == want
                && s.r#type().as_str() == rtype
                && s.set_identifier().is_none()
        })
        .cloned())
}

/// Deletes the record set `name`/`rtype` of `zone`, sending it exactly as it is now (Route 53
/// deletes only an exact match), and waits until in sync. Nothing to do when it is gone.
pub(crate) async fn delete_record(
    cx: &Cx,
    op: &OpContext,
    zone: &str,
    name: &str,
    rtype: &str,
) -> Result<(), ProviderError> {
    let Some(current) = find_record(cx, zone, name, rtype).await? else {
        return Ok(());
    };
    let batch = vec![change(ChangeAction::Delete, current)?];
    match change_and_wait(cx, op, zone, batch, &format!("iac: delete {rtype} {name}")).await {
        // Deleted by someone else between the read and the delete.
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) if e.code() == Some("InvalidChangeBatch") => {
            match find_record(cx, zone, name, rtype).await? {
                None => Ok(()),
                Some(_) => Err(e),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_route53_does() {
        assert_eq!(
            normal_name("LemonMart.Example.com."),
            "lemonmart.example.com"
        );
        assert_eq!(normal_name("\\052.example.com."), "*.example.com");
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
    }
}
