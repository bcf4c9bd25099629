//! `aws.certificate`: an ACM certificate validated through DNS records in a Route 53 zone.
//!
//! Create requests the certificate, waits until ACM has published the validation CNAMEs,
//! UPSERTs them into `validation_zone`, and waits until the certificate is `ISSUED`, so a
//! listener can use it as soon as the create returns. Delete removes the validation records
//! (unless another certificate for the same domain still needs them: ACM gives every
//! certificate of a domain in an account the same CNAME) and then the certificate, retrying
//! while a listener that is being deleted still holds it.

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
    existing, for_each_bounded, foreign_owner, gone_is_ok, input_tags, is_server_failure,
    malformed, order_like, paged, poll_until, read_found, req_str, retry_dependency, sdk_tag_keys,
    sdk_tags, str_list, tag_pairs, tags_json, token_for, Backoff, TagDiff, READ_CONCURRENCY,
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

/// The `aws.certificate` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Certificate;

/// One DNS validation record: a CNAME ACM looks up to prove control of a domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ValidationRecord {
    name: String,
    value: String,
    /// The domains of the certificate it validates (a wildcard and its base share one).
    domains: Vec<String>,
}

impl ValidationRecord {
    fn describe(&self) -> String {
        format!("CNAME `{}` -> `{}`", self.name, self.value)
    }

    fn record_set(&self) -> Result<ResourceRecordSet, ProviderError> {
        ResourceRecordSet::builder()
            .name(&self.name)
            .r#type(RrType::Cname)
            .ttl(VALIDATION_TTL)
            .resource_records(
                ResourceRecord::builder()
                    .value(&self.value)
                    .build()
                    .map_err(|e| build_error("record value", e))?,
            )
            .build()
            .map_err(|e| build_error("record set", e))
    }
}

/// The validation records of a certificate, one per distinct name; `None` while ACM has
/// not published all of them yet (the first seconds after the request).
fn validation_records(cert: &CertificateDetail) -> Option<Vec<ValidationRecord>> {
    let mut by_name: BTreeMap<String, ValidationRecord> = BTreeMap::new();
    for option in cert.domain_validation_options() {
        let record = option.resource_record()?;
        let entry = by_name
            .entry(normal_name(record.name()))
            .or_insert_with(|| ValidationRecord {
                name: record.name().to_owned(),
                value: record.value().to_owned(),
                domains: Vec::new(),
            });
        entry.domains.push(option.domain_name().to_owned());
    }
    (!by_name.is_empty()).then(|| by_name.into_values().collect())
}

async fn describe(cx: &Cx, arn: &str) -> Result<Option<CertificateDetail>, ProviderError> {
    match cx
        .aws
        .clients()
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(cx.err(Service::Acm, "DescribeCertificate"))
    {
        Ok(resp) => Ok(resp.certificate().cloned()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
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
        set_next_token,
        next_token,
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

/// How many idempotency tokens one create tries before it gives up (see [`request`]).
const TOKEN_ATTEMPTS: u32 = 5;

/// ACM's idempotency token (at most 32 word characters) for attempt `attempt` of a create:
/// the same inputs and attempt give the same token, so a retried request within the hour
/// returns the first certificate instead of a second one. Attempt 0 is the token of the
/// stack, name and names alone; later attempts add their number (see [`request`]).
fn idempotency_token(
    stack: &str,
    name: &str,
    domain: &str,
    sans: &[String],
    attempt: u32,
) -> String {
    let attempt = attempt.to_string();
    let mut parts: Vec<&str> = vec![domain];
    parts.extend(sans.iter().map(String::as_str));
    if attempt != "0" {
        parts.push(&attempt);
    }
    let token = token_for(stack, name, &parts);
    let hash = token.rsplit('-').next().unwrap_or_default();
    format!("iac{hash}")
}

/// Requests the certificate and returns the ARN of a live one (pending validation or
/// issued) with its description, whose validation records may already be there.
///
/// ACM remembers an idempotency token for an hour, also after the certificate it made is
/// deleted: `iac destroy` and `iac apply` within the hour would get the deleted
/// certificate's ARN back for the same token (moto answers HTTP 500 instead). The token
/// cannot change per call, or a create retried after a lost answer would make a second
/// certificate. So the tokens are a fixed sequence: each answer is checked with
/// `DescribeCertificate`, and one that names a certificate that is gone (or failed,
/// revoked, expired), or a server failure that outlived the SDK's own retries, moves on to
/// the next token of the sequence. A retried create walks the same sequence and stops at
/// the same live certificate.
async fn request(
    cx: &Cx,
    op: &OpContext,
    name: &str,
    domain: &str,
    sans: &[String],
    tags: &[Tag],
) -> Result<(String, CertificateDetail), ProviderError> {
    let mut skipped = Vec::new();
    for attempt in 0..TOKEN_ATTEMPTS {
        let resp = cx
            .aws
            .clients()
            .acm
            .request_certificate()
            .domain_name(domain)
            .validation_method(ValidationMethod::Dns)
            .set_subject_alternative_names((!sans.is_empty()).then(|| sans.to_vec()))
            .idempotency_token(idempotency_token(&cx.stack, name, domain, sans, attempt))
            .set_tags((!tags.is_empty()).then(|| tags.to_vec()))
            .send()
            .await
            .map_err(cx.err(Service::Acm, "RequestCertificate"));
        let arn = match resp {
            Ok(resp) => resp
                .certificate_arn()
                .ok_or_else(|| malformed("RequestCertificate", "CertificateArn"))?
                .to_owned(),
            Err(e) if is_server_failure(&e) => {
                op.progress(&format!(
                    "requesting the certificate for `{domain}` failed on the server ({}); trying the next idempotency token",
                    e.code().unwrap_or("5xx")
                ));
                skipped.push(format!("a server failure ({})", e.message));
                continue;
            }
            Err(e) => return Err(e),
        };
        let dead = match describe_new(cx, &arn).await? {
            None => format!("`{arn}`, which no longer exists"),
            Some(cert) => match cert.status() {
                // No status yet: just requested, so alive.
                Some(CertificateStatus::PendingValidation | CertificateStatus::Issued) | None => {
                    return Ok((arn, cert))
                }
                Some(other) => format!("`{arn}`, which is `{}`", other.as_str()),
            },
        };
        op.progress(&format!(
            "the idempotency token for `{domain}` returned {dead}, from an earlier create; trying the next token"
        ));
        skipped.push(dead);
    }
    Err(ProviderError::new(
        ErrorKind::Fatal,
        format!(
            "requesting the certificate for `{domain}` with {TOKEN_ATTEMPTS} idempotency tokens gave no live certificate: {}; ACM forgets a token an hour after its request, so apply again later",
            skipped.join("; ")
        ),
    ))
}

/// How long a certificate ACM has just answered a request with may stay invisible to
/// `DescribeCertificate` (ACM is eventually consistent) before it counts as deleted.
const NEW_VISIBLE_WITHIN: Duration = Duration::from_secs(5);

/// The certificate a `RequestCertificate` answered with, or `None` when it stays not found
/// for [`NEW_VISIBLE_WITHIN`]: a certificate deleted earlier, whose token was reused. A new
/// one not yet visible must not be taken for that, or the next token would request a
/// second certificate.
async fn describe_new(cx: &Cx, arn: &str) -> Result<Option<CertificateDetail>, ProviderError> {
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        if let Some(cert) = describe(cx, arn).await? {
            return Ok(Some(cert));
        }
        if start.elapsed() + delay > NEW_VISIBLE_WITHIN {
            return Ok(None);
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

/// The waiting message and timeout error: which records ACM looks up, and where.
fn check_hint(records: &[ValidationRecord], zone: &str) -> String {
    let list: Vec<String> = records.iter().map(ValidationRecord::describe).collect();
    format!(
        "{} in hosted zone `{zone}`; if it never issues, check that this record resolves publicly (`dig CNAME {}`), i.e. that `{zone}` is the zone the domain is delegated to",
        list.join(", "),
        records.first().map(|r| r.name.as_str()).unwrap_or_default(),
    )
}

/// Waits until ACM has published the validation records of `arn`.
async fn wait_for_records(
    cx: &Cx,
    op: &OpContext,
    arn: &str,
) -> Result<Vec<ValidationRecord>, ProviderError> {
    poll_until(
        op,
        &format!("ACM to publish the DNS validation records of `{arn}`"),
        Backoff::SHORT.with_limit(Duration::from_secs(300)),
        || async {
            let cert = describe(cx, arn).await?.ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Retryable,
                    format!("certificate `{arn}` is not visible yet"),
                )
            })?;
            Ok(validation_records(&cert))
        },
    )
    .await
}

async fn upsert_records(
    cx: &Cx,
    op: &OpContext,
    zone: &str,
    records: &[ValidationRecord],
) -> Result<(), ProviderError> {
    let changes = records
        .iter()
        .map(|r| change(ChangeAction::Upsert, r.record_set()?))
        .collect::<Result<Vec<_>, _>>()?;
    change_and_wait(cx, op, zone, changes, "iac: ACM DNS validation")
        .await
        .map_err(|e| {
            if e.code() != Some("InvalidChangeBatch") {
                return e;
            }
            let list: Vec<String> = records.iter().map(ValidationRecord::describe).collect();
            ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "cannot put the DNS validation record {} into hosted zone `{zone}`: {}; `validation_zone` must be the zone that holds the certificate's domains",
                    list.join(", "),
                    e.message
                ),
            )
        })
}

/// Removes the validation records from `zone`, except those a certificate other than
/// `arn` still needs for one of its domains (same domain, same account: same CNAME).
async fn remove_records(
    cx: &Cx,
    op: &OpContext,
    arn: &str,
    zone: &str,
    records: &[ValidationRecord],
) -> Result<(), ProviderError> {
    let others: BTreeSet<String> = list_all(cx)
        .await?
        .iter()
        .filter(|c| c.certificate_arn() != Some(arn))
        .filter(|c| {
            matches!(
                c.status(),
                Some(CertificateStatus::Issued | CertificateStatus::PendingValidation)
            )
        })
        .flat_map(|c| {
            c.domain_name()
                .into_iter()
                .chain(
                    c.subject_alternative_name_summaries()
                        .iter()
                        .map(String::as_str),
                )
                .map(normal_name)
                .collect::<Vec<_>>()
        })
        .collect();
    for record in records {
        if let Some(domain) = record
            .domains
            .iter()
            .find(|d| others.contains(&normal_name(d)))
        {
            op.progress(&format!(
                "keeping validation record `{}`: another certificate for `{domain}` uses it",
                record.name
            ));
            continue;
        }
        // Only a record that still says what ACM asked for is ours to delete.
        let ours = find_record(cx, zone, &record.name, "CNAME")
            .await?
            .is_some_and(|set| {
                set.resource_records()
                    .iter()
                    .any(|r| normal_name(r.value()) == normal_name(&record.value))
            });
        if ours {
            delete_record(cx, op, zone, &record.name, "CNAME").await?;
        }
    }
    Ok(())
}

/// The second half of a create: put the DNS validation records of `cert` in `zone` and wait
/// until ACM has issued it. Also what finishes a certificate found still pending validation
/// after an interrupted apply (the records are UPSERTed, so putting them again is harmless).
async fn validate(
    cx: &Cx,
    op: &OpContext,
    arn: &str,
    domain: &str,
    zone: &str,
    requested: &CertificateDetail,
) -> Result<(), ProviderError> {
    // The describe that checked the certificate may already list the records.
    let records = match validation_records(requested) {
        Some(records) => records,
        None => wait_for_records(cx, op, arn).await?,
    };
    upsert_records(cx, op, zone, &records).await?;
    op.progress(&format!(
        "validation records in zone `{zone}`: {}",
        records.len()
    ));

    let hint = check_hint(&records, zone);
    poll_until(
        op,
        &format!("certificate `{arn}` to be issued; ACM checks {hint}"),
        Backoff::LONG.with_limit(ISSUE_TIMEOUT),
        || async {
            let Some(cert) = describe(cx, arn).await? else {
                return Ok(None);
            };
            match cert.status() {
                Some(CertificateStatus::Issued) => Ok(Some(())),
                Some(CertificateStatus::PendingValidation) | None => Ok(None),
                Some(other) => Err(ProviderError::new(
                    ErrorKind::Fatal,
                    format!(
                        "certificate `{arn}` for `{domain}` is `{}`{}; ACM checked {hint}",
                        other.as_str(),
                        cert.failure_reason()
                            .map(|r| format!(" (`{}`)", r.as_str()))
                            .unwrap_or_default()
                    ),
                )),
            }
        },
    )
    .await?;
    Ok(())
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
        for (_, arn) in candidates {
            let tags = match read_tags(cx, &arn).await {
                Ok(tags) => tags_json(tags),
                // Deleted since the listing.
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if foreign_owner(&cx.stack, name, &tags).is_some() {
                continue;
            }
            if let Some(live) = read_found(self, cx, name, &arn, inputs, Json::Null).await? {
                return Ok(Some(existing(cx, name, arn, live)));
            }
        }
        Ok(None)
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
        let diff = TagDiff::between(old, new);
        let acm = &cx.aws.clients().acm;
        if !diff.remove.is_empty() {
            // A tag without a value removes the key whatever its value.
            acm.remove_tags_from_certificate()
                .certificate_arn(id)
                .set_tags(Some(sdk_tag_keys::<Tag>(&diff.remove)?))
                .send()
                .await
                .map_err(cx.err(Service::Acm, "RemoveTagsFromCertificate"))?;
        }
        if !diff.add.is_empty() {
            acm.add_tags_to_certificate()
                .certificate_arn(id)
                .set_tags(Some(sdk_tags::<Tag>(&diff.add)?))
                .send()
                .await
                .map_err(cx.err(Service::Acm, "AddTagsToCertificate"))?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_acm::types::{DomainValidation, ResourceRecord as AcmRecord};

    fn option(domain: &str, name: &str) -> DomainValidation {
        DomainValidation::builder()
            .domain_name(domain)
            .resource_record(
                AcmRecord::builder()
                    .name(name)
                    .r#type(aws_sdk_acm::types::RecordType::Cname)
                    .value("_v.acm-validations.aws.")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn a_wildcard_and_its_base_share_one_validation_record() {
        let cert = CertificateDetail::builder()
            .domain_validation_options(option("example.com", "_x.example.com."))
            .domain_validation_options(option("*.example.com", "_x.example.com."))
            .build();
        let records = validation_records(&cert).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].domains, ["example.com", "*.example.com"]);
        assert!(check_hint(&records, "Z1")
            .contains("CNAME `_x.example.com.` -> `_v.acm-validations.aws.`"));
    }

    #[test]
    fn records_are_not_ready_until_every_domain_has_one() {
        let pending = DomainValidation::builder()
            .domain_name("b.example.com")
            .build()
            .unwrap();
        let cert = CertificateDetail::builder()
            .domain_validation_options(option("a.example.com", "_a.a.example.com."))
            .domain_validation_options(pending)
            .build();
        assert_eq!(validation_records(&cert), None);
    }

    #[test]
    fn idempotency_tokens_are_a_fixed_sequence_acm_accepts() {
        let sans = ["www.example.com".to_owned()];
        let tokens: Vec<String> = (0..TOKEN_ATTEMPTS)
            .map(|n| idempotency_token("shop", "cert", "example.com", &sans, n))
            .collect();
        // Attempt 0 is the token iac sent before there were attempts, so a create retried
        // across an upgrade still finds its certificate.
        let hash = token_for("shop", "cert", &["example.com", "www.example.com"]);
        assert_eq!(
            tokens[0],
            format!("iac{}", hash.rsplit('-').next().unwrap())
        );
        for (n, token) in tokens.iter().enumerate() {
            assert!(token.len() <= 32, "{token}");
            assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
            // Deterministic: a retried create walks the same sequence.
            assert_eq!(
                *token,
                idempotency_token("shop", "cert", "example.com", &sans, n as u32)
            );
        }
        let distinct: BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), tokens.len(), "{tokens:?}");
        assert_ne!(
            tokens[0],
            idempotency_token("shop", "cert", "example.org", &sans, 0)
        );
    }
}
