//! `aws.certificate`: an ACM certificate validated through DNS records in a Route 53 zone.
//!
//! Create requests the certificate, waits until ACM has published the validation CNAMEs,
//! UPSERTs them into `validation_zone`, and waits until the certificate is `ISSUED`, so a
//! listener can use it as soon as the create returns. Delete removes the validation records
//! (unless another certificate for the same domain still needs them: ACM gives every
//! certificate of a domain in an account the same CNAME) and then the certificate, retrying
//! while a listener that is being deleted still holds it.
//!
//! By job: [`request`] requests the certificate with ACM's idempotency tokens, [`validation`]
//! puts and removes the DNS validation records and waits for the certificate to be issued;
//! this module reads it and implements [`ResourceType`] with them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, CertificateSummary, Tag, ValidationMethod,
};
use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::common::{
    absent_is_none, apply_tag_diff, first_ours, for_each_bounded, foreign_owner, gone_is_ok,
    input_tags, is_server_failure, malformed, order_like, paged, poll_until, poll_until_else,
    req_str, retry_dependency, sdk_tag_keys, sdk_tags, str_list, tag_pairs, tags_json, token_for,
    Backoff, READ_CONCURRENCY,
};
use super::route53::{
    build_error, change, change_and_wait, delete_record, find_record, normal_name,
};
use super::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.certificate";

/// What a read cannot see (see `iac_engine::Provider::unread_props`): whether the
/// validation records are in `validation_zone` (the read reports the zone last applied, and
/// a find the zone asked for). Adopting a certificate found after an interrupted create,
/// which may have died before its records were made, sends it: the update makes sure of
/// the records.
pub(crate) const UNREAD: &[&str] = &["validation_zone"];

/// How long apply waits for ACM to issue a certificate once its records are in the zone.
/// ACM usually needs a few minutes; when the zone is not the one the domain is delegated
/// to, it never issues, and the error then says which record to check.
const ISSUE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// TTL of the validation records.
const VALIDATION_TTL: i64 = 300;

/// Every status, so that a listing shows pending and failed certificates too.
const ALL_STATUSES: [CertificateStatus; 7] = [
    CertificateStatus::PendingValidation,
    CertificateStatus::Issued,
    CertificateStatus::Inactive,
    CertificateStatus::Expired,
    CertificateStatus::ValidationTimedOut,
    CertificateStatus::Revoked,
    CertificateStatus::Failed,
];

mod request;
#[cfg(test)]
mod tests;
mod validation;

use request::*;
use validation::*;

/// The `aws.certificate` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Certificate;

async fn describe(cx: &Cx, arn: &str) -> Result<Option<CertificateDetail>, ProviderError> {
    let resp = absent_is_none(
        cx.aws
            .clients()
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(cx.err(Service::Acm, "DescribeCertificate")),
    )?;
    Ok(resp.and_then(|r| r.certificate().cloned()))
}

/// Every certificate of the account and region, all statuses, all pages.
pub(crate) async fn list_all(cx: &Cx) -> Result<Vec<CertificateSummary>, ProviderError> {
    let acm = &cx.aws.clients().acm;
    paged!(
        cx,
        Acm,
        "ListCertificates",
        acm.list_certificates()
            .set_certificate_statuses(Some(ALL_STATUSES.to_vec())),
        certificate_summary_list
    )
    .await
}

async fn read_tags(cx: &Cx, arn: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(cx.err(Service::Acm, "ListTagsForCertificate"))?;
    Ok(tag_pairs(resp.tags()))
}

#[async_trait]
impl ResourceType for Certificate {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let summaries: HashMap<String, CertificateSummary> = list_all(cx)
            .await?
            .into_iter()
            .filter_map(|c| Some((c.certificate_arn()?.to_owned(), c)))
            .collect();
        // Tags (and sometimes the names) come one certificate per call: sent concurrently.
        let summaries = &summaries;
        for_each_bounded(requests, READ_CONCURRENCY, |req| async move {
            let Some(summary) = summaries.get(&req.physical_id) else {
                return Ok(None);
            };
            let last = &req.last_inputs;
            let live_domain = summary.domain_name().unwrap_or_default().to_owned();
            // The summary lists the names only up to a limit (and the emulator not at all):
            // describe only when it may be incomplete.
            let mut sans: Vec<String> = summary.subject_alternative_name_summaries().to_vec();
            if sans.is_empty() || summary.has_additional_subject_alternative_names() == Some(true) {
                match describe(cx, &req.physical_id).await? {
                    Some(detail) => sans = detail.subject_alternative_names().to_vec(),
                    None => return Ok(None),
                }
            }
            let mut inputs = Map::new();
            let domain = match last.get("domain").and_then(Json::as_str) {
                Some(d) if normal_name(d) == normal_name(&live_domain) => d.to_owned(),
                _ => live_domain.clone(),
            };
            inputs.insert("domain".into(), json!(domain));
            // ACM lists the domain itself among the alternative names; the stack does not.
            let alternatives: Vec<String> = sans
                .into_iter()
                .filter(|s| normal_name(s) != normal_name(&live_domain))
                .collect();
            if !alternatives.is_empty() || last.get("alternative_names").is_some() {
                inputs.insert(
                    "alternative_names".into(),
                    json!(order_like(alternatives, last.get("alternative_names"))),
                );
            }
            // Where the validation records went is not part of the certificate.
            if let Some(zone) = last.get("validation_zone") {
                inputs.insert("validation_zone".into(), zone.clone());
            }
            inputs.insert(
                "tags".into(),
                tags_json(read_tags(cx, &req.physical_id).await?),
            );
            let status = summary
                .status()
                .map(CertificateStatus::as_str)
                .unwrap_or_default();
            Ok(Some(Live {
                inputs: Json::Object(inputs),
                attrs: json!({ "arn": req.physical_id, "status": status }),
            }))
        })
        .await
    }

    /// By `domain`: the newest `ISSUED` certificate whose domain is exactly that (by
    /// `IssuedAt`, else `CreatedAt`; one `DescribeCertificate` per certificate listed for
    /// the domain), whoever owns it. Renewed and re-requested certificates of one domain
    /// are common, so several are no error: the newest is the one to serve.
    async fn lookup(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        let domain = normal_name(req_str(inputs, RTYPE, "domain")?);
        let arns: Vec<String> = list_all(cx)
            .await?
            .iter()
            .filter(|c| c.domain_name().map(normal_name).as_deref() == Some(domain.as_str()))
            .filter(|c| c.status().is_none_or(|s| *s == CertificateStatus::Issued))
            .filter_map(|c| c.certificate_arn().map(str::to_owned))
            .collect();
        let mut newest: Option<(i64, String)> = None;
        for arn in arns {
            let Some(cert) = describe(cx, &arn).await? else {
                continue;
            };
            if cert.status() != Some(&CertificateStatus::Issued) {
                continue;
            }
            let when = cert
                .issued_at()
                .or(cert.created_at())
                .map_or(i64::MIN, |t| t.secs());
            if newest.as_ref().is_none_or(|(t, a)| (when, &arn) > (*t, a)) {
                newest = Some((when, arn));
            }
        }
        Ok(newest.map(|(_, arn)| Found {
            attrs: json!({ "arn": arn, "status": "ISSUED" }),
            physical_id: arn,
        }))
    }

    /// By domain and tags: the oldest live (pending validation or issued) certificate for
    /// `domain` whose tags name this stack's resource `name`. Certificates have no unique
    /// name, and one of someone else for the same domain is no collision (a create would
    /// request a new one beside it), so only this stack's certificate is ever found.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let domain = normal_name(req_str(inputs, RTYPE, "domain")?);
        let mut candidates: Vec<(i64, String)> = list_all(cx)
            .await?
            .iter()
            .filter(|c| c.domain_name().map(normal_name).as_deref() == Some(domain.as_str()))
            .filter(|c| {
                matches!(
                    c.status(),
                    Some(CertificateStatus::PendingValidation | CertificateStatus::Issued)
                )
            })
            .filter_map(|c| {
                let created = c.created_at().map_or(i64::MAX, |t| t.secs());
                Some((created, c.certificate_arn()?.to_owned()))
            })
            .collect();
        candidates.sort();
        let arns = candidates.into_iter().map(|(_, arn)| arn);
        first_ours(self, cx, name, inputs, arns, |arn| {
            let arn = arn.to_owned();
            async move {
                // Deleted since the listing: not it.
                let tags = absent_is_none(read_tags(cx, &arn).await)?;
                Ok(tags.is_some_and(|t| foreign_owner(&cx.stack, name, &tags_json(t)).is_none()))
            }
        })
        .await
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let domain = req_str(inputs, RTYPE, "domain")?;
        let zone = req_str(inputs, RTYPE, "validation_zone")?;
        let sans = str_list(inputs, "alternative_names");
        let tags: Vec<Tag> = sdk_tags(&input_tags(inputs))?;
        let (arn, requested) = request(cx, op, name, domain, &sans, &tags).await?;
        op.progress(&format!("requested certificate for `{domain}`"));

        validate(cx, op, &arn, domain, zone, &requested).await?;
        Ok(Created {
            physical_id: arn.clone(),
            attrs: json!({ "arn": arn, "status": "ISSUED" }),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        let old_zone = old.get("validation_zone").and_then(Json::as_str);
        let new_zone = new.get("validation_zone").and_then(Json::as_str);
        let cert = describe(cx, id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("certificate `{id}` no longer exists"),
            )
        })?;
        // Found pending after an interrupted create: validated below, as the create would.
        let pending = cert.status() == Some(&CertificateStatus::PendingValidation);
        if changed.iter().any(|c| c == "validation_zone") && !pending {
            // Put the records in the new zone first (UPSERT: records already there stay
            // as they are), so the certificate can be renewed all along, then take them out
            // of the old one. Listed as changed with the same zone (adopting a certificate
            // found after an interrupted create, whose records a read cannot see: see
            // [`UNREAD`]), the records are made sure of, and none are removed, since the
            // "old" zone is the only one.
            let records = validation_records(&cert).unwrap_or_default();
            if !records.is_empty() {
                upsert_records(cx, op, req_str(new, RTYPE, "validation_zone")?, &records).await?;
                if let Some(old_zone) = old_zone.filter(|z| Some(*z) != new_zone) {
                    remove_records(cx, op, id, old_zone, &records).await?;
                }
            }
        }
        let acm = &cx.aws.clients().acm;
        let remove = |keys: Vec<String>| async move {
            // A tag without a value removes the key whatever its value.
            acm.remove_tags_from_certificate()
                .certificate_arn(id)
                .set_tags(Some(sdk_tag_keys::<Tag>(&keys)?))
                .send()
                .await
                .map_err(cx.err(Service::Acm, "RemoveTagsFromCertificate"))?;
            Ok(())
        };
        let add = |tags: Vec<Tag>| async move {
            acm.add_tags_to_certificate()
                .certificate_arn(id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(cx.err(Service::Acm, "AddTagsToCertificate"))?;
            Ok(())
        };
        apply_tag_diff(old, new, remove, add).await?;
        if pending {
            let domain = req_str(new, RTYPE, "domain")?;
            let zone = req_str(new, RTYPE, "validation_zone")?;
            validate(cx, op, id, domain, zone, &cert).await?;
            return Ok(json!({ "arn": id, "status": "ISSUED" }));
        }
        let status = cert
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        Ok(json!({ "arn": id, "status": status }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        let Some(cert) = describe(cx, id).await? else {
            return Ok(());
        };
        if let (Some(zone), Some(records)) = (
            inputs.get("validation_zone").and_then(Json::as_str),
            validation_records(&cert),
        ) {
            remove_records(cx, op, id, zone, &records).await?;
        }
        // A load balancer releases a certificate a little after its listener is deleted.
        retry_dependency(
            op,
            &format!("certificate `{id}`"),
            Backoff::SHORT.with_limit(Duration::from_secs(300)),
            || async {
                gone_is_ok(
                    cx.aws
                        .clients()
                        .acm
                        .delete_certificate()
                        .certificate_arn(id)
                        .send()
                        .await
                        .map_err(cx.err(Service::Acm, "DeleteCertificate")),
                )
            },
            || async {
                describe(cx, id)
                    .await
                    .ok()
                    .flatten()
                    .map(|c| c.in_use_by().iter().map(|u| format!("`{u}`")).collect())
                    .unwrap_or_default()
            },
        )
        .await
    }
}
