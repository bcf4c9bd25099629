//! DNS validation: ACM's validation records put into (and removed from) the zone, and the
//! wait until the certificate is issued.

use super::*;

/// One DNS validation record: a CNAME ACM looks up to prove control of a domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ValidationRecord {
    pub(super) name: String,
    pub(super) value: String,
    /// The domains of the certificate it validates (a wildcard and its base share one).
    pub(super) domains: Vec<String>,
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
pub(super) fn validation_records(cert: &CertificateDetail) -> Option<Vec<ValidationRecord>> {
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

/// The waiting message and timeout error: which records ACM looks up, and where.
pub(super) fn check_hint(records: &[ValidationRecord], zone: &str) -> String {
    let list: Vec<String> = records.iter().map(ValidationRecord::describe).collect();
    format!(
        "{} in hosted zone `{zone}`; if it never issues, check that this record resolves publicly (`dig CNAME {}`), i.e. that `{zone}` is the zone the domain is delegated to",
        list.join(", "),
        records.first().map(|r| r.name.as_str()).unwrap_or_default(),
    )
}

/// Waits until ACM has published the validation records of `arn`.
pub(super) async fn wait_for_records(
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

pub(super) async fn upsert_records(
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
pub(super) async fn remove_records(
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
pub(super) async fn validate(
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
