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
    assert!(
        check_hint(&records, "Z1").contains("CNAME `_x.example.com.` -> `_v.acm-validations.aws.`")
    );
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
