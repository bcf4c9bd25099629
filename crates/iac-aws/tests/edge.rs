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

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, RedirectActionStatusCodeEnum};
use iac_aws::{AwsConfig, AwsContext, AwsProvider, ConfigSource};
use iac_engine::provider::{ErrorKind, OpContext, Provider, ReadRequest};
use iac_engine::report::NullReporter;
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

const STACK: &str = "edge";
const ZONE: &str = "edge-test.example.com";
const DOMAIN: &str = "app.edge-test.example.com";
const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

async fn provider(emulator: &Emulator) -> AwsProvider {
    let config = AwsConfig {
        source: ConfigSource::Vars(emulator.aws_env()),
        ..AwsConfig::default()
    };
    let ctx = AwsContext::load(&config).await.expect("config loads");
    AwsProvider::new(ctx, STACK)
}

fn op(name: &str) -> OpContext {
    OpContext::new(name, Arc::new(NullReporter))
}

/// One resource as the test's little engine keeps it.
#[derive(Debug, Clone)]
struct Applied {
    rtype: &'static str,
    id: String,
    inputs: Json,
    attrs: Json,
}

/// The health check of the target group, every field given (the engine fills defaults).
fn health_check(path: &str) -> Json {
    json!({
        "path": path, "interval": 15, "timeout": 5,
        "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200",
    })
}

/// The network the edge needs, then the edge of lemon-mart, in dependency order. `${A.B}`
/// strings are resolved from the attributes of resources created before.
fn edge_stack() -> Vec<(&'static str, &'static str, Json)> {
    vec![
        (
            "vpc",
            "aws.vpc",
            json!({"cidr": "10.0.0.0/16", "dns_hostnames": true, "dns_support": true}),
        ),
        (
            "public_a",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "10.0.1.0/24", "az": "us-east-1a", "public": true}),
        ),
        (
            "public_b",
            "aws.subnet",
            json!({"vpc": "${vpc.id}", "cidr": "10.0.2.0/24", "az": "us-east-1b", "public": true}),
        ),
        (
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
        ),
        ("zone", "aws.hosted_zone", json!({"name": ZONE})),
        (
            "cert",
            "aws.certificate",
            json!({"domain": DOMAIN, "validation_zone": "${zone.id}"}),
        ),
        (
            "alb",
            "aws.load_balancer",
            json!({
                "name": "edge-alb",
                "subnets": ["${public_a.id}", "${public_b.id}"],
                "security_groups": ["${alb_sg.id}"],
                "internal": false,
                "idle_timeout": 60,
            }),
        ),
        (
            "other_alb",
            "aws.load_balancer",
            json!({
                "name": "edge-other-alb",
                "subnets": ["${public_b.id}", "${public_a.id}"],
                "internal": true,
                "idle_timeout": 120,
            }),
        ),
        (
            "web_tg",
            "aws.target_group",
            json!({
                "name": "edge-web-tg",
                "vpc": "${vpc.id}",
                "port": 80,
                "protocol": "HTTP",
                "target_type": "ip",
                "health_check": health_check("/healthCheck"),
                "deregistration_delay": 30,
            }),
        ),
        (
            "https",
            "aws.listener",
            json!({
                "load_balancer": "${alb.arn}",
                "port": 443,
                "protocol": "HTTPS",
                "certificate": "${cert.arn}",
                "ssl_policy": SSL_POLICY,
                "forward": "${web_tg.arn}",
            }),
        ),
        (
            "http",
            "aws.listener",
            json!({
                "load_balancer": "${alb.arn}",
                "port": 80,
                "protocol": "HTTP",
                "ssl_policy": SSL_POLICY,
                "redirect": {"protocol": "HTTPS", "port": 443, "status": 301},
            }),
        ),
        (
            "not_found",
            "aws.listener",
            json!({
                "load_balancer": "${other_alb.arn}",
                "port": 8080,
                "protocol": "HTTP",
                "ssl_policy": SSL_POLICY,
                "fixed_response": {"status": 404, "body": "nothing here", "content_type": "text/plain"},
            }),
        ),
        (
            "site",
            "aws.dns_record",
            json!({
                "zone": "${zone.id}",
                "name": DOMAIN,
                "record_type": "A",
                "alias": {"dns_name": "${alb.dns_name}", "zone_id": "${alb.zone_id}", "evaluate_target_health": true},
            }),
        ),
        (
            "verification",
            "aws.dns_record",
            json!({
                "zone": "${zone.id}",
                "name": format!("verify.{ZONE}"),
                "record_type": "TXT",
                "ttl": 60,
                "values": ["site-verification=abc", "second value"],
            }),
        ),
    ]
}

/// The engine's tags, on the taggable types.
fn with_tags(name: &str, rtype: &str, mut inputs: Json) -> Json {
    if rtype == "aws.dns_record" {
        return inputs;
    }
    inputs["tags"] = json!({
        "Name": format!("{STACK}-{name}"),
        "iac:stack": STACK,
        "iac:name": name,
    });
    inputs
}

fn resolve(value: &Json, applied: &BTreeMap<String, Applied>) -> Json {
    match value {
        Json::String(s) if s.starts_with("${") && s.ends_with('}') => {
            let (name, attr) = s[2..s.len() - 1].split_once('.').expect("NAME.ATTR");
            applied[name].attrs[attr].clone()
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| resolve(v, applied)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, applied)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn create(
    provider: &AwsProvider,
    applied: &mut BTreeMap<String, Applied>,
    name: &str,
    rtype: &'static str,
    props: &Json,
) {
    let inputs = with_tags(name, rtype, resolve(props, applied));
    let created = provider
        .create(&op(name), rtype, name, &inputs)
        .await
        .unwrap_or_else(|e| panic!("creating `{name}`: {e}"));
    applied.insert(
        name.to_owned(),
        Applied {
            rtype,
            id: created.physical_id,
            inputs,
            attrs: created.attrs,
        },
    );
}

/// Reads everything, one call per type, as the engine's refresh does; name -> live inputs.
async fn read_all(
    provider: &AwsProvider,
    applied: &BTreeMap<String, Applied>,
) -> BTreeMap<String, Option<Json>> {
    let mut by_type: BTreeMap<&str, Vec<ReadRequest>> = BTreeMap::new();
    for (name, a) in applied {
        by_type.entry(a.rtype).or_default().push(ReadRequest {
            name: name.clone(),
            physical_id: a.id.clone(),
            last_inputs: a.inputs.clone(),
            last_attrs: a.attrs.clone(),
        });
    }
    let mut out = BTreeMap::new();
    for (rtype, requests) in by_type {
        let results = provider
            .read(rtype, &requests)
            .await
            .unwrap_or_else(|e| panic!("reading `{rtype}`: {e}"));
        assert_eq!(results.len(), requests.len());
        for (req, res) in requests.iter().zip(results) {
            if let Some(live) = &res.live {
                assert_eq!(
                    live.attrs, applied[&req.name].attrs,
                    "attributes of `{}`",
                    req.name
                );
            }
            out.insert(res.name, res.live.map(|l| l.inputs));
        }
    }
    out
}

fn assert_no_drift(live: &BTreeMap<String, Option<Json>>, applied: &BTreeMap<String, Applied>) {
    for (name, a) in applied {
        let got = live[name]
            .as_ref()
            .unwrap_or_else(|| panic!("`{name}` is missing live"));
        assert_eq!(
            got, &a.inputs,
            "live inputs of `{name}` differ from those applied"
        );
    }
}

fn get(applied: &BTreeMap<String, Applied>, name: &str) -> Applied {
    applied[name].clone()
}

async fn update(
    provider: &AwsProvider,
    applied: &mut BTreeMap<String, Applied>,
    name: &str,
    new: Json,
    changed: &[&str],
) {
    let a = applied.get_mut(name).expect("known resource");
    let changed: Vec<String> = changed.iter().map(|s| (*s).to_owned()).collect();
    let attrs = provider
        .update(&op(name), a.rtype, name, &a.id, &a.inputs, &new, &changed)
        .await
        .unwrap_or_else(|e| panic!("updating `{name}`: {e}"));
    a.attrs = attrs;
    a.inputs = new;
}

/// The live listener `arn` of `lb`, through the SDK.
async fn listener(
    provider: &AwsProvider,
    lb: &str,
    arn: &str,
) -> aws_sdk_elasticloadbalancingv2::types::Listener {
    let out = provider
        .aws()
        .clients()
        .elbv2
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("DescribeListeners");
    out.listeners()
        .iter()
        .find(|l| l.listener_arn() == Some(arn))
        .unwrap_or_else(|| panic!("listener `{arn}` is not on `{lb}`"))
        .clone()
}

/// The live record sets of `zone` as `(name, type) -> set`.
async fn records(
    provider: &AwsProvider,
    zone: &str,
) -> BTreeMap<(String, String), aws_sdk_route53::types::ResourceRecordSet> {
    let out = provider
        .aws()
        .clients()
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("ListResourceRecordSets");
    out.resource_record_sets()
        .iter()
        .map(|s| {
            (
                (
                    s.name().trim_end_matches('.').to_owned(),
                    s.r#type().as_str().to_owned(),
                ),
                s.clone(),
            )
        })
        .collect()
}

/// Everything of the edge kinds still in the emulator's account.
async fn edge_leftovers(provider: &AwsProvider) -> Vec<String> {
    edge_leftovers_of(provider.aws().clients()).await
}

async fn edge_leftovers_of(clients: &iac_aws::Clients) -> Vec<String> {
    let mut left = Vec::new();
    let lbs = clients
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    left.extend(
        lbs.load_balancers()
            .iter()
            .map(|l| format!("load balancer {:?}", l.load_balancer_name())),
    );
    let tgs = clients
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    left.extend(
        tgs.target_groups()
            .iter()
            .map(|t| format!("target group {:?}", t.target_group_name())),
    );
    let certs = clients
        .acm
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates");
    left.extend(
        certs
            .certificate_summary_list()
            .iter()
            .map(|c| format!("certificate {:?}", c.domain_name())),
    );
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

/// The records of `zone` as `"name TYPE"` -> the alias target or the first value, lower case
/// and without the final dot.
async fn records_of(clients: &iac_aws::Clients, zone: &str) -> BTreeMap<String, String> {
    let out = clients
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("ListResourceRecordSets");
    out.resource_record_sets()
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
    assert_no_drift(&read_all(&provider, &applied).await, &applied);
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

    let tgs = provider
        .aws()
        .clients()
        .elbv2
        .describe_target_groups()
        .target_group_arns(&get(&applied, "web_tg").id)
        .send()
        .await
        .expect("DescribeTargetGroups");
    assert_eq!(tgs.target_groups()[0].health_check_path(), Some("/ready"));
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
    assert_no_drift(&read_all(&provider, &applied).await, &applied);

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
        let a = &applied[*name];
        provider
            .delete(&op(name), a.rtype, name, &a.id, &a.inputs)
            .await
            .unwrap_or_else(|e| panic!("deleting `{name}`: {e}"));
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
async fn a_replacement_target_group_gets_a_fresh_name_while_the_old_one_is_in_use() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = BTreeMap::new();
    let stack: Vec<_> = edge_stack()
        .into_iter()
        .filter(|(name, _, _)| {
            ["vpc", "public_a", "public_b", "alb_sg", "alb", "web_tg"].contains(name)
        })
        .collect();
    for (name, rtype, props) in &stack {
        create(&provider, &mut applied, name, rtype, props).await;
    }
    let http = json!({
        "load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP",
        "ssl_policy": SSL_POLICY, "forward": "${web_tg.arn}",
    });
    create(&provider, &mut applied, "http", "aws.listener", &http).await;

    // The port changed: a new group, created while the listener still uses the old one.
    let old = applied["web_tg"].clone();
    let mut props = old.inputs.clone();
    props["port"] = json!(8080);
    let replacement = provider
        .create(&op("web_tg"), "aws.target_group", "web_tg", &props)
        .await
        .expect("the replacement is created next to the old group");
    assert_ne!(replacement.physical_id, old.id);
    let mut http_inputs = applied["http"].inputs.clone();
    http_inputs["forward"] = json!(replacement.attrs["arn"]);
    update(&provider, &mut applied, "http", http_inputs, &["forward"]).await;
    provider
        .delete(
            &op("web_tg"),
            "aws.target_group",
            "web_tg",
            &old.id,
            &old.inputs,
        )
        .await
        .expect("the old group is deleted once the listener moved");

    let tgs = provider
        .aws()
        .clients()
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    let live: Vec<(Option<&str>, Option<i32>)> = tgs
        .target_groups()
        .iter()
        .map(|t| (t.target_group_arn(), t.port()))
        .collect();
    assert_eq!(live, [(Some(replacement.physical_id.as_str()), Some(8080))]);
    let name = tgs.target_groups()[0].target_group_name().unwrap();
    assert!(
        name.starts_with("edge-web-tg-") && name.len() <= 32,
        "{name}"
    );

    // The group keeps the stack's name under its alternate AWS name: no drift.
    let read = provider
        .read(
            "aws.target_group",
            &[ReadRequest {
                name: "web_tg".into(),
                physical_id: replacement.physical_id.clone(),
                last_inputs: props.clone(),
                last_attrs: replacement.attrs.clone(),
            }],
        )
        .await
        .expect("read");
    assert_eq!(read[0].live.as_ref().map(|l| &l.inputs), Some(&props));

    // The next replacement takes the plain name back, as it is free again.
    let mut again = props.clone();
    again["port"] = json!(80);
    let third = provider
        .create(&op("web_tg"), "aws.target_group", "web_tg", &again)
        .await
        .expect("create");
    let tgs = provider
        .aws()
        .clients()
        .elbv2
        .describe_target_groups()
        .target_group_arns(&third.physical_id)
        .send()
        .await
        .expect("DescribeTargetGroups");
    assert_eq!(
        tgs.target_groups()[0].target_group_name(),
        Some("edge-web-tg")
    );

    for (name, id, rtype, inputs) in [
        (
            "http",
            applied["http"].id.clone(),
            "aws.listener",
            applied["http"].inputs.clone(),
        ),
        (
            "web_tg",
            replacement.physical_id.clone(),
            "aws.target_group",
            props.clone(),
        ),
        (
            "web_tg",
            third.physical_id.clone(),
            "aws.target_group",
            again.clone(),
        ),
    ] {
        provider
            .delete(&op(name), rtype, name, &id, &inputs)
            .await
            .expect("delete");
    }
    for (name, _, _) in stack.iter().rev().filter(|(n, _, _)| *n != "web_tg") {
        let a = &applied[*name];
        provider
            .delete(&op(name), a.rtype, name, &a.id, &a.inputs)
            .await
            .expect("delete");
    }
    assert!(edge_leftovers(&provider).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_outside_its_validation_zone_fails_naming_the_record() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = BTreeMap::new();
    create(
        &provider,
        &mut applied,
        "zone",
        "aws.hosted_zone",
        &json!({"name": ZONE}),
    )
    .await;
    let inputs = with_tags(
        "cert",
        "aws.certificate",
        json!({"domain": "shop.elsewhere.org", "validation_zone": applied["zone"].id}),
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

// ---------------------------------------------------------------------------------------
// Through the engine: plan, apply, plan clean, change in place, replace the target group
// a listener forwards to, destroy.
// ---------------------------------------------------------------------------------------

mod engine {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, RedirectActionStatusCodeEnum};
    use iac_aws::AwsProvider;
    use iac_engine::{
        apply, plan, plan_destroy, render_plan, Action, ApplyOptions, LocalBackend, NullReporter,
        Plan, PlanOptions, Provider, ReplaceStrategy, State,
    };
    use iac_stack::{load_str, LoadOptions, Stack};
    use iac_testkit::Emulator;

    /// The fixture with `vars`, and with each `(from, to)` of `edits` replaced in its text
    /// (for changes a var cannot express, such as pointing a reference elsewhere).
    fn load(vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/aws/edge_stack.yaml");
        let mut text = std::fs::read_to_string(&path).expect("the edge fixture is readable");
        for (from, to) in edits {
            assert!(text.contains(from), "`{from}` is not in the fixture");
            text = text.replace(from, to);
        }
        let opts = LoadOptions {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..LoadOptions::default()
        };
        match load_str(&path.display().to_string(), &text, &opts) {
            Ok(loaded) => loaded.stack,
            Err(d) => panic!("the edge fixture does not load: {d:?}"),
        }
    }

    async fn make_plan(stack: &Stack, state: &State, provider: &Arc<dyn Provider>) -> Plan {
        plan(stack, state, provider.clone(), &PlanOptions::default())
            .await
            .unwrap_or_else(|e| panic!("plan: {e}"))
    }

    async fn run(plan: &Plan, state: &mut State, dir: &Path, provider: &Arc<dyn Provider>) {
        let backend = LocalBackend::new(dir, &plan.stack);
        let report = apply(
            plan,
            state,
            &backend,
            provider.clone(),
            Arc::new(NullReporter),
            &ApplyOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("apply: {e}"));
        assert!(report.success(), "{:?}", report.failures());
    }

    /// `(name, action, changed paths)` of every change that is not a no-op. The lookup of
    /// the existing zone (`Read`) is in every plan and changes nothing.
    fn changes(plan: &Plan) -> Vec<(String, Action, Vec<String>)> {
        plan.changes
            .iter()
            .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
            .map(|c| (c.name.clone(), c.action, c.changed_paths.clone()))
            .collect()
    }

    fn assert_clean(plan: &Plan) {
        assert_eq!(changes(plan), vec![], "{}", render_plan(plan, false));
        assert!(plan.drift.is_empty(), "{:?}", plan.drift);
    }

    fn update(name: &str, paths: &[&str]) -> (String, Action, Vec<String>) {
        (
            name.to_owned(),
            Action::Update,
            paths.iter().map(|p| (*p).to_owned()).collect(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_edge_applies_plans_clean_updates_in_place_replaces_the_target_group_and_is_destroyed(
    ) {
        let emulator = Emulator::start();
        let tmp = tempfile::tempdir().expect("state dir");
        let dir = tmp.path().to_owned();
        let aws = super::provider(&emulator).await.aws().clone();
        let clients = aws.clients().clone();

        // The zone the stack looks up exists before it and outlives it.
        let zone = clients
            .route53
            .create_hosted_zone()
            .name("example.com")
            .caller_reference("made-before-the-stack")
            .send()
            .await
            .expect("CreateHostedZone");
        let zone_id = zone
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();

        let stack = load(&[], &[]);
        let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
        let mut state = State::new(&stack.name);
        let first = make_plan(&stack, &state, &provider).await;
        run(&first, &mut state, &dir, &provider).await;
        let id = |state: &State, name: &str| state.resources[name].physical_id.clone();
        assert_eq!(id(&state, "zone"), zone_id);

        // Live: 80 redirects to 443 with a 301, 443 forwards with the issued certificate,
        // the alias points at the load balancer.
        let listeners = clients
            .elbv2
            .describe_listeners()
            .load_balancer_arn(id(&state, "alb"))
            .send()
            .await
            .expect("DescribeListeners");
        let by_port = |port: i32| {
            listeners
                .listeners()
                .iter()
                .find(|l| l.port() == Some(port))
                .unwrap_or_else(|| panic!("no listener on {port}"))
                .clone()
        };
        let redirect = by_port(80).default_actions()[0]
            .redirect_config()
            .cloned()
            .expect("a redirect");
        assert_eq!(
            (redirect.protocol(), redirect.port(), redirect.status_code()),
            (
                Some("HTTPS"),
                Some("443"),
                Some(&RedirectActionStatusCodeEnum::Http301)
            )
        );
        let https = by_port(443);
        assert_eq!(
            https.certificates()[0].certificate_arn(),
            Some(id(&state, "cert").as_str())
        );
        assert_eq!(
            https.default_actions()[0].r#type(),
            Some(&ActionTypeEnum::Forward)
        );
        assert_eq!(
            https.default_actions()[0].target_group_arn(),
            Some(id(&state, "web_tg").as_str())
        );
        let records = super::records_of(&clients, &zone_id).await;
        let alb_dns = state.resources["alb"].attrs["dns_name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        assert_eq!(
            records.get("lemonmart.example.com A").map(String::as_str),
            Some(alb_dns.as_str())
        );
        assert_clean(&make_plan(&stack, &state, &provider).await);

        // The health check path, the redirect status and the record's target: three updates.
        let site_edit = [(
            "dns_name: ${alb.dns_name}",
            "dns_name: ${admin_alb.dns_name}",
        )];
        let changed = load(
            &[("health_path", "/ready"), ("redirect_status", "302")],
            &site_edit,
        );
        let plan_changed = make_plan(&changed, &state, &provider).await;
        assert_eq!(
            changes(&plan_changed),
            vec![
                update("web_tg", &["health_check.path"]),
                update("http", &["redirect.status"]),
                update("site", &["alias.dns_name"]),
            ],
            "{}",
            render_plan(&plan_changed, false)
        );
        run(&plan_changed, &mut state, &dir, &provider).await;
        assert_clean(&make_plan(&changed, &state, &provider).await);
        let admin_dns = state.resources["admin_alb"].attrs["dns_name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        let records = super::records_of(&clients, &zone_id).await;
        assert_eq!(
            records.get("lemonmart.example.com A").map(String::as_str),
            Some(admin_dns.as_str())
        );

        // A new port replaces the target group the HTTPS listener forwards to: the new group
        // is created first, the listener moves to it, then the old one is deleted.
        let old_tg = id(&state, "web_tg");
        let moved = load(
            &[
                ("health_path", "/ready"),
                ("redirect_status", "302"),
                ("tg_port", "8080"),
            ],
            &site_edit,
        );
        let plan_moved = make_plan(&moved, &state, &provider).await;
        let rendered = render_plan(&plan_moved, false);
        eprintln!("{rendered}");
        let tg_change = plan_moved
            .changes
            .iter()
            .find(|c| c.name == "web_tg")
            .expect("web_tg");
        assert_eq!(tg_change.action, Action::Replace, "{rendered}");
        assert_eq!(
            tg_change.replace.as_ref().map(|r| r.strategy),
            Some(ReplaceStrategy::CreateBeforeDestroy),
            "{rendered}"
        );
        let https_change = plan_moved
            .changes
            .iter()
            .find(|c| c.name == "https")
            .expect("https");
        assert_eq!(https_change.action, Action::Update, "{rendered}");
        run(&plan_moved, &mut state, &dir, &provider).await;
        let new_tg = id(&state, "web_tg");
        assert_ne!(new_tg, old_tg);
        let groups = clients
            .elbv2
            .describe_target_groups()
            .send()
            .await
            .expect("DescribeTargetGroups");
        let live: Vec<(Option<&str>, Option<i32>)> = groups
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn(), t.port()))
            .collect();
        assert_eq!(
            live,
            [(Some(new_tg.as_str()), Some(8080))],
            "the old group is gone"
        );
        let listeners = clients
            .elbv2
            .describe_listeners()
            .load_balancer_arn(id(&state, "alb"))
            .send()
            .await
            .expect("DescribeListeners");
        let https = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(443))
            .expect("443");
        assert_eq!(
            https.default_actions()[0].target_group_arn(),
            Some(new_tg.as_str())
        );
        assert_clean(&make_plan(&moved, &state, &provider).await);

        // Destroy: no balancer, group, certificate or record is left; the existing zone stays.
        let destroy = plan_destroy(&moved, &state, &PlanOptions::default()).expect("plan destroy");
        run(&destroy, &mut state, &dir, &provider).await;
        assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
        assert_eq!(
            super::edge_leftovers_of(&clients).await,
            ["zone example.com."]
        );
        let records = super::records_of(&clients, &zone_id).await;
        assert!(
            records
                .keys()
                .all(|k| k.ends_with(" NS") || k.ends_with(" SOA")),
            "records left in the zone: {records:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The example stack itself, stacks/lemon-mart.yaml, through the engine: apply, plan clean,
// the edge in place, a target group replaced while in use, destroy leaving only the zone.
// ---------------------------------------------------------------------------------------

mod lemon_mart {
    use std::path::PathBuf;
    use std::sync::Arc;

    use aws_sdk_elasticloadbalancingv2::types::RedirectActionStatusCodeEnum;
    use iac_aws::AwsProvider;
    use iac_engine::{
        apply, plan, plan_destroy, render_plan, Action, ApplyOptions, LocalBackend, NullReporter,
        Plan, PlanOptions, Provider, State,
    };
    use iac_stack::{load_file, LoadOptions};
    use iac_testkit::Emulator;

    async fn run(
        plan: &Plan,
        state: &mut State,
        dir: &std::path::Path,
        provider: &Arc<dyn Provider>,
    ) {
        let backend = LocalBackend::new(dir, &plan.stack);
        let report = apply(
            plan,
            state,
            &backend,
            provider.clone(),
            Arc::new(NullReporter),
            &ApplyOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("apply: {e}"));
        assert!(report.success(), "{:?}", report.failures());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_example_stack_applies_clean_replaces_its_target_group_in_use_and_is_destroyed() {
        let emulator = Emulator::start();
        let tmp = tempfile::tempdir().expect("state dir");
        let aws = super::provider(&emulator).await.aws().clone();
        let clients = aws.clients().clone();
        let zone = clients
            .route53
            .create_hosted_zone()
            .name("example.com")
            .caller_reference("the-domain-owner")
            .send()
            .await
            .expect("CreateHostedZone");
        let zone_id = zone
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();

        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
        let stack = match load_file(&path, &LoadOptions::default()) {
            Ok(loaded) => loaded.stack,
            Err(d) => panic!("stacks/lemon-mart.yaml does not load: {d:?}"),
        };
        let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
        let mut state = State::new(&stack.name);
        let first = plan(&stack, &state, provider.clone(), &PlanOptions::default())
            .await
            .expect("plan");
        // Everything is created except the zone, which is looked up.
        let actions: Vec<(&str, Action)> = first
            .changes
            .iter()
            .map(|c| (c.name.as_str(), c.action))
            .collect();
        for (name, action) in &actions {
            let want = if *name == "zone" {
                Action::Read
            } else {
                Action::Create
            };
            assert_eq!(*action, want, "`{name}` in\n{}", render_plan(&first, false));
        }
        assert_eq!(actions.len(), stack.resources.len());
        run(&first, &mut state, tmp.path(), &provider).await;

        let again = plan(&stack, &state, provider.clone(), &PlanOptions::default())
            .await
            .expect("plan");
        let changes: Vec<_> = again
            .changes
            .iter()
            .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
            .map(|c| (c.name.clone(), c.action))
            .collect();
        assert_eq!(changes, vec![], "{}", render_plan(&again, false));

        let alb = state.resources["alb"].physical_id.clone();
        let listeners = clients
            .elbv2
            .describe_listeners()
            .load_balancer_arn(&alb)
            .send()
            .await
            .expect("DescribeListeners");
        let http = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(80))
            .expect("80");
        let redirect = http.default_actions()[0]
            .redirect_config()
            .expect("a redirect");
        assert_eq!(
            redirect.status_code(),
            Some(&RedirectActionStatusCodeEnum::Http301)
        );
        let https = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(443))
            .expect("443");
        assert_eq!(
            https.certificates()[0].certificate_arn(),
            Some(state.resources["cert"].physical_id.as_str())
        );
        assert_eq!(
            https.default_actions()[0].target_group_arn(),
            Some(state.resources["web_tg"].physical_id.as_str())
        );
        let records = super::records_of(&clients, &zone_id).await;
        let alb_dns = state.resources["alb"].attrs["dns_name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        assert_eq!(records.get("lemonmart.example.com A"), Some(&alb_dns));

        // The app moves to port 8080: the target group is replaced while the HTTPS listener
        // and the service use it; the apply goes through and no old group is left.
        let old_tg = state.resources["web_tg"].physical_id.clone();
        let opts = LoadOptions {
            vars: vec![("container_port".to_owned(), "8080".to_owned())],
            ..LoadOptions::default()
        };
        let moved = match load_file(&path, &opts) {
            Ok(loaded) => loaded.stack,
            Err(d) => panic!("stacks/lemon-mart.yaml does not load: {d:?}"),
        };
        let replace = plan(&moved, &state, provider.clone(), &PlanOptions::default())
            .await
            .expect("plan");
        eprintln!("{}", render_plan(&replace, false));
        run(&replace, &mut state, tmp.path(), &provider).await;
        let new_tg = state.resources["web_tg"].physical_id.clone();
        assert_ne!(new_tg, old_tg);
        let groups = clients
            .elbv2
            .describe_target_groups()
            .send()
            .await
            .expect("DescribeTargetGroups");
        let live: Vec<(Option<&str>, Option<i32>)> = groups
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn(), t.port()))
            .collect();
        assert_eq!(live, [(Some(new_tg.as_str()), Some(8080))]);

        let destroy = plan_destroy(&moved, &state, &PlanOptions::default()).expect("plan destroy");
        run(&destroy, &mut state, tmp.path(), &provider).await;
        assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
        assert_eq!(
            super::edge_leftovers_of(&clients).await,
            ["zone example.com."]
        );
    }
}
