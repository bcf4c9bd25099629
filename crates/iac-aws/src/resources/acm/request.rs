//! Requesting a certificate: ACM's idempotency tokens, and telling a new certificate from
//! one deleted earlier whose token was reused.

use super::*;

/// How many idempotency tokens one create tries before it gives up (see [`request`]).
pub(super) const TOKEN_ATTEMPTS: u32 = 5;

/// ACM's idempotency token (at most 32 word characters) for attempt `attempt` of a create:
/// the same inputs and attempt give the same token, so a retried request within the hour
/// returns the first certificate instead of a second one. Attempt 0 is the token of the
/// stack, name and names alone; later attempts add their number (see [`request`]).
pub(super) fn idempotency_token(
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
pub(super) async fn request(
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
        let dead = match describe_new(cx, op, &arn).await? {
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
pub(super) const NEW_VISIBLE_WITHIN: Duration = Duration::from_secs(5);

/// The certificate a `RequestCertificate` answered with, or `None` when it stays not found
/// for [`NEW_VISIBLE_WITHIN`]: a certificate deleted earlier, whose token was reused. A new
/// one not yet visible must not be taken for that, or the next token would request a
/// second certificate.
pub(super) async fn describe_new(
    cx: &Cx,
    op: &OpContext,
    arn: &str,
) -> Result<Option<CertificateDetail>, ProviderError> {
    let within = Backoff {
        first: Duration::from_millis(250),
        max_delay: NEW_VISIBLE_WITHIN,
        limit: NEW_VISIBLE_WITHIN,
    };
    poll_until_else(
        op,
        &format!("certificate `{arn}` to become visible"),
        within,
        || async { Ok(describe(cx, arn).await?.map(Some)) },
        // Not visible in time: gone, not new.
        |_| Ok(None),
    )
    .await
}
