//! The edge types (`aws.hosted_zone`, `aws.certificate`, `aws.load_balancer`,
//! `aws.target_group`, `aws.listener`, `aws.dns_record`) through [`AwsProvider`] against the
//! local emulator (moto): the edge of stacks/lemon-mart.yaml is created, checked live through
//! the SDK, read back without drift, updated in place and deleted without leftovers.
//!
//! The provider is driven the way the engine drives it: resolved inputs in the stack
//! format's shape, with the engine's tags and the schema's defaults filled in. The harness
//! starts moto with `MOTO_ACM_VALIDATION_WAIT=5`, so a certificate issues after 5 s.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

#[path = "../common/mod.rs"]
mod common;

mod engine;
mod lemon_mart;

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, RedirectActionStatusCodeEnum};
use common::{assert_reads_back, create, op, read_all, update, Applied, AppliedMap, SSL_POLICY};
use iac_aws::AwsProvider;
use iac_engine::provider::{ErrorKind, Provider};
use iac_testkit::Emulator;
use serde_json::json;

const STACK: &str = "edge";
const ZONE: &str = "edge-test.example.com";
const DOMAIN: &str = "app.edge-test.example.com";

async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// The network the edge needs, then the edge of lemon-mart, in dependency order. `${A.B}`
/// strings are resolved from the attributes of resources created before.
fn edge_stack() -> Vec<common::Resource> {
    let mut stack = common::public_network();
    stack.push((
        "alb_sg",
        "aws.security_group",
        json!({
            "vpc": "${vpc.id}",
            "description": "edge load balancer",
            "ingress": [
                {"protocol": "tcp", "port": 80, "cidr": "0.0.0.0/0"},
                {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"},
            ],
        }),
    ));
    stack.extend(common::web_edge(ZONE, DOMAIN, "edge-alb"));
    stack.push((
        "other_alb",
        "aws.load_balancer",
        json!({
            "name": "edge-other-alb",
            "subnets": ["${public_b.id}", "${public_a.id}"],
            "internal": true,
            "idle_timeout": 120,
        }),
    ));
    stack.push(common::web_target_group("edge-web-tg"));
    stack.extend(common::web_listeners());
    stack.push((
        "not_found",
        "aws.listener",
        json!({
            "load_balancer": "${other_alb.arn}",
            "port": 8080,
            "protocol": "HTTP",
            "ssl_policy": SSL_POLICY,
            "fixed_response": {"status": 404, "body": "nothing here", "content_type": "text/plain"},
        }),
    ));
    stack.extend(common::site_records(ZONE, DOMAIN));
    stack
}

/// The zone `zone` (named [`ZONE`]) created, as the start of a little-engine stack.
async fn with_zone(provider: &AwsProvider) -> AppliedMap {
    let mut applied = AppliedMap::new();
    create(
        provider,
        &mut applied,
        "zone",
        "aws.hosted_zone",
        &json!({"name": ZONE}),
    )
    .await;
    applied
}

fn get(applied: &AppliedMap, name: &str) -> Applied {
    applied[name].clone()
}

/// The live listener `arn` of `lb`, through the SDK.
async fn listener(
    provider: &AwsProvider,
    lb: &str,
    arn: &str,
) -> aws_sdk_elasticloadbalancingv2::types::Listener {
    common::listeners_of(provider.aws().clients(), lb)
        .await
        .into_iter()
        .find(|l| l.listener_arn() == Some(arn))
        .unwrap_or_else(|| panic!("listener `{arn}` is not on `{lb}`"))
}

/// The live record sets of `zone` as `(name, type) -> set`.
async fn records(
    provider: &AwsProvider,
    zone: &str,
) -> BTreeMap<(String, String), aws_sdk_route53::types::ResourceRecordSet> {
    common::record_sets(provider.aws().clients(), zone)
        .await
        .into_iter()
        .map(|s| {
            (
                (
                    s.name().trim_end_matches('.').to_owned(),
                    s.r#type().as_str().to_owned(),
                ),
                s,
            )
        })
        .collect()
}

/// Everything of the edge kinds still in the emulator's account.
async fn edge_leftovers(provider: &AwsProvider) -> Vec<String> {
    edge_leftovers_of(provider.aws().clients()).await
}

async fn edge_leftovers_of(clients: &iac_aws::Clients) -> Vec<String> {
    let mut left = common::edge_leftovers(clients).await;
    let zones = clients
        .route53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    left.extend(
        zones
            .hosted_zones()
            .iter()
            .map(|z| format!("zone {}", z.name())),
    );
    left
}

/// Every target group in the account as `(ARN, port)`.
async fn target_group_ports(clients: &iac_aws::Clients) -> Vec<(String, i32)> {
    let groups = clients
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    groups
        .target_groups()
        .iter()
        .map(|t| {
            (
                t.target_group_arn().unwrap_or_default().to_owned(),
                t.port().unwrap_or_default(),
            )
        })
        .collect()
}

/// The records of `zone` as `"name TYPE"` -> the alias target or the first value, lower case
/// and without the final dot.
async fn records_of(clients: &iac_aws::Clients, zone: &str) -> BTreeMap<String, String> {
    common::record_sets(clients, zone)
        .await
        .iter()
        .map(|s| {
            let target = match s.alias_target() {
                Some(a) => a.dns_name().to_owned(),
                None => s
                    .resource_records()
                    .first()
                    .map(|r| r.value().to_owned())
                    .unwrap_or_default(),
            };
            (
                format!("{} {}", s.name().trim_end_matches('.'), s.r#type().as_str()),
                target.trim_end_matches('.').to_ascii_lowercase(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemon_mart_edge_creates_reads_back_clean_updates_in_place_and_deletes() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = BTreeMap::new();
    let stack = edge_stack();
    for (name, rtype, props) in &stack {
        create(&provider, &mut applied, name, rtype, props).await;
    }

    // The certificate is issued and its validation record is in the zone.
    let zone_id = get(&applied, "zone").id;
    assert_eq!(get(&applied, "cert").attrs["status"], "ISSUED");
    let cert = provider
        .aws()
        .clients()
        .acm
        .describe_certificate()
        .certificate_arn(&get(&applied, "cert").id)
        .send()
        .await
        .expect("DescribeCertificate");
    let cert = cert.certificate().expect("a certificate");
    assert_eq!(cert.status().map(|s| s.as_str()), Some("ISSUED"));
    let validation = cert.domain_validation_options()[0]
        .resource_record()
        .expect("a validation record");
    let live_records = records(&provider, &zone_id).await;
    let cname = &live_records[&(
        validation.name().trim_end_matches('.').to_owned(),
        "CNAME".to_owned(),
    )];
    assert_eq!(cname.resource_records()[0].value(), validation.value());

    // HTTP:80 redirects to HTTPS:443 with a 301.
    let alb = get(&applied, "alb");
    let http = listener(&provider, &alb.id, &get(&applied, "http").id).await;
    assert_eq!(http.port(), Some(80));
    let action = &http.default_actions()[0];
    assert_eq!(action.r#type(), Some(&ActionTypeEnum::Redirect));
    let redirect = action.redirect_config().expect("a redirect");
    assert_eq!(redirect.protocol(), Some("HTTPS"));
    assert_eq!(redirect.port(), Some("443"));
    assert_eq!(
        redirect.status_code(),
        Some(&RedirectActionStatusCodeEnum::Http301)
    );
    assert!(http.certificates().is_empty());

    // HTTPS:443 forwards to the target group with the issued certificate.
    let https = listener(&provider, &alb.id, &get(&applied, "https").id).await;
    assert_eq!(https.port(), Some(443));
    assert_eq!(
        https.certificates()[0].certificate_arn(),
        Some(get(&applied, "cert").id.as_str())
    );
    assert_eq!(https.ssl_policy(), Some(SSL_POLICY));
    let forward = &https.default_actions()[0];
    assert_eq!(forward.r#type(), Some(&ActionTypeEnum::Forward));
    assert_eq!(
        forward.target_group_arn(),
        Some(get(&applied, "web_tg").id.as_str())
    );

    // The alias A record points at the load balancer.
    let site = &live_records[&(DOMAIN.to_owned(), "A".to_owned())];
    let target = site.alias_target().expect("an alias");
    assert_eq!(
        target.dns_name().trim_end_matches('.').to_ascii_lowercase(),
        alb.attrs["dns_name"].as_str().unwrap().to_ascii_lowercase()
    );
    assert_eq!(target.hosted_zone_id(), alb.attrs["zone_id"]);
    assert_eq!(get(&applied, "site").attrs, json!({"fqdn": DOMAIN}));

    // Read back: no drift, in one DescribeListeners per load balancer and one record
    // listing per zone.
    provider.aws().requests().reset();
    assert_reads_back(&provider, &applied).await;
    let count = |s: &str, o: &str| provider.aws().requests().count(s, o);
    assert_eq!(count("elasticloadbalancing", "DescribeListeners"), 2);
    assert_eq!(count("elasticloadbalancing", "DescribeLoadBalancers"), 1);
    assert_eq!(count("elasticloadbalancing", "DescribeTargetGroups"), 1);
    assert_eq!(count("elasticloadbalancing", "DescribeTags"), 3);
    assert_eq!(count("route53", "ListResourceRecordSets"), 1);
    assert_eq!(count("acm", "ListCertificates"), 1);

    // In-place updates: health check path, redirect status, record target, idle timeout,
    // security groups, fixed response, TXT values, tags.
    let mut tg = get(&applied, "web_tg").inputs;
    tg["health_check"]["path"] = json!("/ready");
    update(
        &provider,
        &mut applied,
        "web_tg",
        tg,
        &["health_check.path"],
    )
    .await;
    let mut http = get(&applied, "http").inputs;
    http["redirect"]["status"] = json!(302);
    update(&provider, &mut applied, "http", http, &["redirect.status"]).await;
    let other = get(&applied, "other_alb");
    let mut site = get(&applied, "site").inputs;
    site["alias"]["dns_name"] = other.attrs["dns_name"].clone();
    site["alias"]["evaluate_target_health"] = json!(false);
    update(
        &provider,
        &mut applied,
        "site",
        site,
        &["alias.dns_name", "alias.evaluate_target_health"],
    )
    .await;
    let mut lb = get(&applied, "alb").inputs;
    lb["idle_timeout"] = json!(300);
    lb["tags"]["team"] = json!("edge");
    update(
        &provider,
        &mut applied,
        "alb",
        lb,
        &["idle_timeout", "tags.team"],
    )
    .await;
    let mut other_lb = get(&applied, "other_alb").inputs;
    other_lb["security_groups"] = json!([get(&applied, "alb_sg").id]);
    update(
        &provider,
        &mut applied,
        "other_alb",
        other_lb,
        &["security_groups"],
    )
    .await;
    let mut fixed = get(&applied, "not_found").inputs;
    fixed["fixed_response"] =
        json!({"status": 503, "body": "down for maintenance", "content_type": "text/plain"});
    fixed["port"] = json!(8081);
    update(
        &provider,
        &mut applied,
        "not_found",
        fixed,
        &["port", "fixed_response.status", "fixed_response.body"],
    )
    .await;
    let mut txt = get(&applied, "verification").inputs;
    txt["values"] = json!(["site-verification=xyz"]);
    update(&provider, &mut applied, "verification", txt, &["values"]).await;
    let mut cert_inputs = get(&applied, "cert").inputs;
    cert_inputs["tags"]["team"] = json!("edge");
    update(&provider, &mut applied, "cert", cert_inputs, &["tags.team"]).await;
    let mut tg_tags = get(&applied, "web_tg").inputs;
    tg_tags["deregistration_delay"] = json!(10);
    tg_tags["tags"].as_object_mut().unwrap().remove("Name");
    update(
        &provider,
        &mut applied,
        "web_tg",
        tg_tags,
        &["deregistration_delay", "tags.Name"],
    )
    .await;

    let tg = common::target_group(provider.aws().clients(), &get(&applied, "web_tg").id).await;
    assert_eq!(tg.health_check_path(), Some("/ready"));
    let http = listener(&provider, &alb.id, &get(&applied, "http").id).await;
    let redirect = http.default_actions()[0]
        .redirect_config()
        .expect("a redirect");
    assert_eq!(
        redirect.status_code(),
        Some(&RedirectActionStatusCodeEnum::Http302)
    );
    let site = &records(&provider, &zone_id).await[&(DOMAIN.to_owned(), "A".to_owned())];
    let target = site.alias_target().expect("an alias");
    assert_eq!(
        target.dns_name().trim_end_matches('.').to_ascii_lowercase(),
        other.attrs["dns_name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
    );
    assert!(!target.evaluate_target_health());
    assert_reads_back(&provider, &applied).await;

    // A zone that exists outside the stack is found by name, and never deleted.
    let existing = provider
        .aws()
        .clients()
        .route53
        .create_hosted_zone()
        .name("existing.example.org")
        .caller_reference("made-by-hand")
        .send()
        .await
        .expect("CreateHostedZone");
    let existing_id = existing
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let found = provider
        .lookup(
            "aws.hosted_zone",
            "shared",
            &json!({"name": "existing.example.org"}),
        )
        .await
        .expect("lookup")
        .expect("the zone is found");
    assert_eq!(found.physical_id, existing_id);
    assert_eq!(found.attrs["name"], "existing.example.org");
    assert!(found.attrs["name_servers"]
        .as_array()
        .is_some_and(|ns| !ns.is_empty()));
    let missing = provider
        .lookup(
            "aws.hosted_zone",
            "nope",
            &json!({"name": "absent.example.org"}),
        )
        .await
        .expect("lookup");
    assert_eq!(missing, None);
    let refused = provider
        .delete(
            &op("shared"),
            "aws.hosted_zone",
            "shared",
            &existing_id,
            &json!({"name": "existing.example.org"}),
        )
        .await
        .expect_err("an existing zone is never deleted");
    assert_eq!(refused.kind, ErrorKind::Fatal);
    assert!(
        refused.message.contains("existing.example.org"),
        "{refused}"
    );

    // Delete in reverse dependency order, as the engine's destroy does.
    for (name, _, _) in stack.iter().rev() {
        common::delete(&provider, &applied, name).await;
    }
    assert_eq!(
        edge_leftovers(&provider).await,
        ["zone existing.example.org."]
    );
    let gone = read_all(&provider, &applied).await;
    assert!(
        gone.values().all(Option::is_none),
        "still live after delete: {gone:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_outside_its_validation_zone_fails_naming_the_record() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let applied = with_zone(&provider).await;
    let inputs = common::with_tags(
        STACK,
        "cert",
        json!({"domain": "shop.elsewhere.org", "validation_zone": applied["zone"].id}),
        &[],
    );
    let err = provider
        .create(&op("cert"), "aws.certificate", "cert", &inputs)
        .await
        .expect_err("the record cannot go in that zone");
    assert_eq!(err.kind, ErrorKind::Fatal, "{err}");
    for needle in [
        "CNAME `_",
        "shop.elsewhere.org",
        "validation_zone",
        applied["zone"].id.as_str(),
    ] {
        assert!(err.message.contains(needle), "`{needle}` is not in: {err}");
    }
}

/// `destroy` then `apply` of the same stack within the hour: ACM remembers the idempotency
/// token of the deleted certificate (moto answers it with HTTP 500, AWS with the deleted
/// ARN), and the second create must still get a new certificate that issues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_deleted_and_created_again_with_the_same_inputs_is_a_new_one() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = with_zone(&provider).await;
    let props = json!({"domain": DOMAIN, "validation_zone": "${zone.id}"});
    create(&provider, &mut applied, "cert", "aws.certificate", &props).await;
    let first = applied["cert"].id.clone();
    common::delete(&provider, &applied, "cert").await;
    let acm = &provider.aws().clients().acm;
    let gone = acm
        .describe_certificate()
        .certificate_arn(&first)
        .send()
        .await;
    assert!(gone.is_err(), "the first certificate is deleted: {gone:?}");

    // The same stack, name and inputs, as the next apply would send them.
    create(&provider, &mut applied, "cert", "aws.certificate", &props).await;
    let second = &applied["cert"];
    assert_ne!(second.id, first, "a new certificate, not the deleted one");
    assert_eq!(second.attrs["status"], "ISSUED");
    let live = acm
        .describe_certificate()
        .certificate_arn(&second.id)
        .send()
        .await
        .expect("the new certificate exists");
    let live = live.certificate().expect("a certificate");
    assert_eq!(live.status().map(|s| s.as_str()), Some("ISSUED"));
    assert_eq!(live.domain_name(), Some(DOMAIN));

    // A retry of that create (an answer lost on the way back) finds the same certificate
    // instead of requesting a third.
    let again = provider
        .create(&op("cert"), "aws.certificate", "cert", &second.inputs)
        .await
        .expect("the retried create succeeds");
    assert_eq!(again.physical_id, second.id);
    let listed = acm
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates");
    let arns: Vec<&str> = listed
        .certificate_summary_list()
        .iter()
        .filter_map(|c| c.certificate_arn())
        .collect();
    assert_eq!(arns, [second.id.as_str()], "exactly one live certificate");

    common::delete(&provider, &applied, "cert").await;
    common::delete(&provider, &applied, "zone").await;
}
