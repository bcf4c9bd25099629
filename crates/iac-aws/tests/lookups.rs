//! `existing` lookups against the local emulator (moto): objects made outside the stack
//! (here with the SDK clients, as their owner would) are found by what identifies each
//! type, read at plan time as `Read` changes with their physical ids and attributes; no
//! match and several matches are errors naming what was searched for; and a stack that
//! looks up a VPC by tag and creates a subnet in it applies and then plans clean.
//!
//! Moto gaps (5.2.5) that shape these tests:
//! - `RequestCertificate` leaves a DNS-validated certificate `PENDING_VALIDATION` until
//!   `MOTO_ACM_VALIDATION_WAIT` has passed, while one requested with a
//!   `CertificateAuthorityArn` (a private certificate) is `ISSUED` at once and moto checks
//!   no authority: the certificates here are requested that way.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::sync::Arc;

use aws_sdk_ec2::types::{ResourceType as Ec2Type, Tag, TagSpecification};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as LbAction, ActionTypeEnum, FixedResponseActionConfig, ProtocolEnum,
};
use common::{assert_clean, make_plan, run};
use iac_aws::Clients;
use iac_engine::plan::{Action, Plan, PlanError};
use iac_engine::provider::Provider;
use iac_engine::render::render_plan;
use iac_engine::state::State;
use iac_engine::PlanOptions;
use iac_stack::{load_str, LoadOptions, Stack};
use iac_testkit::Emulator;
use serde_json::json;

const STACK: &str = "lookups";

fn tags(rtype: Ec2Type, pairs: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(rtype);
    for (k, v) in pairs {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    spec.build()
}

async fn vpc(c: &Clients, cidr: &str, tag: &[(&str, &str)]) -> String {
    let resp = c
        .ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tags(Ec2Type::Vpc, tag))
        .send()
        .await
        .expect("CreateVpc");
    resp.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned()
}

async fn subnet(c: &Clients, vpc: &str, cidr: &str, az: &str, tag: &[(&str, &str)]) -> String {
    let resp = c
        .ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tags(Ec2Type::Subnet, tag))
        .send()
        .await
        .expect("CreateSubnet");
    resp.subnet()
        .and_then(|s| s.subnet_id())
        .unwrap()
        .to_owned()
}

fn load(text: &str) -> Stack {
    match load_str("lookups.yaml", text, &LoadOptions::default()) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("the stack does not load: {d:?}"),
    }
}

async fn try_plan(stack: &Stack, provider: &Arc<dyn Provider>) -> Result<Plan, PlanError> {
    iac_engine::plan(
        stack,
        &State::new(STACK),
        provider.clone(),
        &PlanOptions::default(),
    )
    .await
}

fn read<'p>(plan: &'p Plan, name: &str) -> &'p iac_engine::plan::Change {
    let c = plan
        .change(name)
        .unwrap_or_else(|| panic!("no change for `{name}`"));
    assert_eq!(c.action, Action::Read, "{name}");
    c
}

#[tokio::test]
async fn every_type_is_found_by_what_identifies_it() {
    let emulator = Emulator::start();
    let provider = common::provider(&emulator, STACK).await;
    let c = provider.aws().clients().clone();

    let vpc_id = vpc(&c, "10.50.0.0/16", &[("Name", "shared"), ("env", "prod")]).await;
    // A VPC with one of the tags only: not a match.
    vpc(&c, "10.51.0.0/16", &[("Name", "shared")]).await;
    let sub_a = subnet(
        &c,
        &vpc_id,
        "10.50.1.0/24",
        "us-east-1a",
        &[("tier", "public")],
    )
    .await;
    let sub_b = subnet(
        &c,
        &vpc_id,
        "10.50.2.0/24",
        "us-east-1b",
        &[("tier", "public")],
    )
    .await;
    let sg = c
        .ec2
        .create_security_group()
        .group_name("shared-web")
        .description("shared web")
        .vpc_id(&vpc_id)
        .tag_specifications(tags(Ec2Type::SecurityGroup, &[("role", "web")]))
        .send()
        .await
        .expect("CreateSecurityGroup");
    let sg_id = sg.group_id().unwrap().to_owned();
    let lb = c
        .elbv2
        .create_load_balancer()
        .name("shared-lb")
        .subnets(&sub_a)
        .subnets(&sub_b)
        .send()
        .await
        .expect("CreateLoadBalancer");
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let listener = c
        .elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .port(80)
        .protocol(ProtocolEnum::Http)
        .default_actions(
            LbAction::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("404")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateListener");
    let listener_arn = listener.listeners()[0].listener_arn().unwrap().to_owned();
    let cluster = c
        .ecs
        .create_cluster()
        .cluster_name("shared")
        .send()
        .await
        .expect("CreateCluster");
    let cluster_arn = cluster
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap()
        .to_owned();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    c.iam
        .create_role()
        .role_name("shared-exec")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    c.logs
        .create_log_group()
        .log_group_name("/shared/app")
        .send()
        .await
        .expect("CreateLogGroup");
    c.ecr
        .create_repository()
        .repository_name("shared/app")
        .send()
        .await
        .expect("CreateRepository");
    let mut certs = Vec::new();
    for _ in 0..2 {
        let cert = c
            .acm
            .request_certificate()
            .domain_name("app.lookups.example.com")
            .certificate_authority_arn(
                "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012",
            )
            .send()
            .await
            .expect("RequestCertificate");
        certs.push(cert.certificate_arn().unwrap().to_owned());
        // Issued a second apart: the newest is the later one.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }

    let stack = load(
        r#"
stack: lookups
region: us-east-1
resources:
  vpc:
    type: aws.vpc
    existing: true
    tags: { Name: shared, env: prod }
  subnet:
    type: aws.subnet
    existing: true
    vpc: ${vpc.id}
    az: us-east-1b
    tags: { tier: public }
  web_sg:
    type: aws.security_group
    existing: true
    vpc: ${vpc.id}
    tags: { role: web }
  lb:
    type: aws.load_balancer
    existing: true
    name: shared-lb
  http:
    type: aws.listener
    existing: true
    load_balancer: ${lb.arn}
    port: 80
  cluster:
    type: aws.ecs_cluster
    existing: true
    name: shared
  exec_role:
    type: aws.iam_role
    existing: true
    name: shared-exec
  logs:
    type: aws.log_group
    existing: true
    name: /shared/app
  repo:
    type: aws.ecr_repository
    existing: true
    name: shared/app
  cert:
    type: aws.certificate
    existing: true
    domain: app.lookups.example.com
  by_id:
    type: aws.subnet
    existing: { id: SUBNET_A }
"#
        .replace("SUBNET_A", &sub_a)
        .as_str(),
    );
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let plan = make_plan(&stack, &State::new(STACK), &provider).await;
    let expect = [
        ("vpc", vpc_id.as_str()),
        ("subnet", sub_b.as_str()),
        ("web_sg", sg_id.as_str()),
        ("lb", lb_arn.as_str()),
        ("http", listener_arn.as_str()),
        ("cluster", cluster_arn.as_str()),
        ("exec_role", "shared-exec"),
        ("logs", "/shared/app"),
        ("repo", "shared/app"),
        ("cert", certs[1].as_str()),
        ("by_id", sub_a.as_str()),
    ];
    for (name, id) in expect {
        assert_eq!(read(&plan, name).physical_id.as_deref(), Some(id), "{name}");
    }
    let attrs = |name: &str| read(&plan, name).live_attrs.clone().unwrap();
    assert_eq!(attrs("vpc"), json!({"id": vpc_id, "cidr": "10.50.0.0/16"}));
    assert_eq!(attrs("subnet")["az"], "us-east-1b");
    assert_eq!(attrs("lb")["arn"], json!(lb_arn));
    assert_eq!(attrs("cluster")["name"], "shared");
    assert_eq!(attrs("cert"), json!({"arn": certs[1], "status": "ISSUED"}));
    assert!(attrs("exec_role")["arn"]
        .as_str()
        .unwrap()
        .ends_with(":role/shared-exec"));
    // Nothing to do: lookups count in none of the numbers, and are listed as found.
    assert_eq!(plan.summary.add, 0);
    let shown = render_plan(&plan, false);
    assert!(
        shown.contains(&format!(
            "  <= vpc (aws.vpc): {vpc_id}, by `tags` Name=shared, env=prod\n"
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "  <= by_id (aws.subnet): {sub_a}, by id `{sub_a}`\n"
        )),
        "{shown}"
    );
}

#[tokio::test]
async fn no_match_and_several_matches_name_what_was_searched_for() {
    let emulator = Emulator::start();
    let provider = common::provider(&emulator, STACK).await;
    let c = provider.aws().clients().clone();
    let one = vpc(&c, "10.60.0.0/16", &[("Name", "dup")]).await;
    let two = vpc(&c, "10.61.0.0/16", &[("Name", "dup")]).await;
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let stack = |body: &str| {
        load(&format!(
            "stack: lookups\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.vpc\n{body}"
        ))
    };

    let err = try_plan(
        &stack("    existing: true\n    tags: { Name: dup }\n"),
        &provider,
    )
    .await
    .unwrap_err();
    let (first, second) = if one < two {
        (&one, &two)
    } else {
        (&two, &one)
    };
    assert_eq!(
        err.to_string(),
        format!("cannot look up `vpc`: 2 VPCs match `tags` Name=dup: `{first}`, `{second}`; a lookup must single out one (add a tag that tells them apart, or give `existing: {{ id: ... }}`)")
    );
    // The CIDR tells them apart.
    let plan = try_plan(
        &stack("    existing: true\n    tags: { Name: dup }\n    cidr: 10.61.0.0/16\n"),
        &provider,
    )
    .await
    .expect("plan");
    assert_eq!(
        read(&plan, "vpc").physical_id.as_deref(),
        Some(two.as_str())
    );

    let err = try_plan(
        &stack("    existing: true\n    tags: { Name: nowhere }\n"),
        &provider,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`vpc` is `existing` but no `aws.vpc` matches `tags` Name=nowhere"
    );
    let err = try_plan(
        &stack("    existing: { id: vpc-0123456789abcdef0 }\n"),
        &provider,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`vpc` is `existing` but no `aws.vpc` has the id `vpc-0123456789abcdef0`"
    );
}

/// The issue's done-when: a stack that looks up an existing VPC by tag (and makes a subnet
/// in it) applies, and its next plan has nothing to do.
#[tokio::test]
async fn a_stack_on_a_looked_up_vpc_applies_and_plans_clean() {
    let emulator = Emulator::start();
    let provider = common::provider(&emulator, STACK).await;
    let c = provider.aws().clients().clone();
    let vpc_id = vpc(&c, "10.70.0.0/16", &[("Name", "platform")]).await;
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let stack = load(
        "stack: lookups\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.vpc\n    existing: true\n    tags: { Name: platform }\n  app_a:\n    type: aws.subnet\n    vpc: ${vpc.id}\n    cidr: 10.70.5.0/24\n    az: us-east-1a\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::new(STACK);
    let plan = make_plan(&stack, &state, &provider).await;
    assert_eq!(plan.summary.add, 1);
    run(&plan, &mut state, dir.path(), &provider).await;
    assert_eq!(state.resources["vpc"].physical_id, vpc_id);
    let again = make_plan(&stack, &state, &provider).await;
    assert_clean(&again);
    assert_eq!(
        read(&again, "vpc").physical_id.as_deref(),
        Some(vpc_id.as_str())
    );
}

/// An SSM parameter is only looked up: by name (or by id, its name), its value an attribute
/// a container can use; a `SecureString` is refused (its value is a secret, kept out of plans
/// and the state); a missing one names what was searched for.
#[tokio::test]
async fn an_ssm_parameter_is_looked_up_by_name_and_a_secret_one_is_refused() {
    use aws_sdk_ssm::types::ParameterType;

    let emulator = Emulator::start();
    let provider = common::provider(&emulator, STACK).await;
    let ssm = provider.aws().clients().ssm.clone();
    for (name, value, kind) in [
        (
            "/platform/fluent-bit/stable",
            "2.32.4",
            ParameterType::String,
        ),
        (
            "/platform/db/password",
            "hunter2",
            ParameterType::SecureString,
        ),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .send()
            .await
            .expect("put parameter");
    }
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let stack = |body: &str| {
        load(&format!(
            "stack: lookups\nregion: us-east-1\nresources:\n  tag:\n    type: aws.ssm_parameter\n{body}"
        ))
    };

    let plan = try_plan(
        &stack("    existing: true\n    name: /platform/fluent-bit/stable\n"),
        &provider,
    )
    .await
    .expect("plan");
    let found = read(&plan, "tag");
    assert_eq!(found.action, Action::Read);
    assert_eq!(
        found.physical_id.as_deref(),
        Some("/platform/fluent-bit/stable")
    );
    assert_eq!(found.live_attrs.as_ref().unwrap()["value"], "2.32.4");
    assert_eq!(found.live_attrs.as_ref().unwrap()["version"], 1);
    assert_eq!(plan.summary.add, 0);

    let by_id = try_plan(
        &stack("    existing: { id: /platform/fluent-bit/stable }\n"),
        &provider,
    )
    .await
    .expect("plan");
    assert_eq!(
        read(&by_id, "tag").physical_id.as_deref(),
        Some("/platform/fluent-bit/stable")
    );

    let secret = try_plan(
        &stack("    existing: true\n    name: /platform/db/password\n"),
        &provider,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(secret.contains("is a SecureString parameter"), "{secret}");
    assert!(!secret.contains("hunter2"), "{secret}");

    let missing = try_plan(
        &stack("    existing: true\n    name: /platform/nothing\n"),
        &provider,
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        missing,
        "`tag` is `existing` but no `aws.ssm_parameter` matches `name` /platform/nothing"
    );
}
