//! The connection layer against the local emulator (moto): endpoint override, credentials,
//! region, request counting, and the errors a user sees when one of them is wrong.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use iac_aws::{AwsConfig, AwsContext, AwsError, ConfigSource, Service};
use iac_testkit::{Emulator, REGION};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_then_create_and_find_a_tagged_vpc() {
    let emulator = Emulator::start();
    let ctx = common::context(&emulator).await;
    assert_eq!(ctx.region(), REGION);
    assert_eq!(ctx.endpoint_url(), Some(emulator.url()));

    let zones = ctx.probe().await.expect("the emulator answers the probe");
    assert!(
        zones.iter().all(|z| z.starts_with(REGION)) && !zones.is_empty(),
        "zones of {REGION}: {zones:?}"
    );

    let ec2 = &ctx.clients().ec2;
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Vpc)
        .tags(
            Tag::builder()
                .key("iac:stack")
                .value("connection-test")
                .build(),
        )
        .build();
    let created = ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .tag_specifications(tags)
        .send()
        .await
        .map_err(|e| ctx.classify(Service::Ec2, "CreateVpc", e))
        .expect("CreateVpc");
    let vpc_id = created
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("CreateVpc returns the id")
        .to_owned();

    // An untagged VPC must not match the filter.
    ec2.create_vpc()
        .cidr_block("10.43.0.0/16")
        .send()
        .await
        .map_err(|e| ctx.classify(Service::Ec2, "CreateVpc", e))
        .expect("CreateVpc");

    let found = ec2
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:iac:stack")
                .values("connection-test")
                .build(),
        )
        .send()
        .await
        .map_err(|e| ctx.classify(Service::Ec2, "DescribeVpcs", e))
        .expect("DescribeVpcs");
    let ids: Vec<&str> = found.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
    assert_eq!(ids, [vpc_id.as_str()]);
    assert_eq!(found.vpcs()[0].cidr_block(), Some("10.42.0.0/16"));

    let requests = ctx.requests();
    assert_eq!(requests.count("ec2", "DescribeAvailabilityZones"), 1);
    assert_eq!(requests.count("ec2", "CreateVpc"), 2);
    assert_eq!(requests.count("ec2", "DescribeVpcs"), 1);
    assert_eq!(requests.total(), 4);
    assert_eq!(
        requests.last_endpoint("ec2").as_deref(),
        Some(emulator.url())
    );
}

#[tokio::test]
async fn a_missing_resource_is_not_found() {
    let emulator = Emulator::start();
    let ctx = common::context(&emulator).await;
    let err = ctx
        .clients()
        .ec2
        .describe_vpcs()
        .vpc_ids("vpc-00000000000000000")
        .send()
        .await
        .map_err(|e| ctx.classify(Service::Ec2, "DescribeVpcs", e))
        .expect_err("no such VPC");
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .starts_with("`ec2:DescribeVpcs` found nothing (`InvalidVpcID.NotFound`)"),
        "{err}"
    );
}

#[tokio::test]
async fn deleting_a_vpc_with_a_subnet_is_a_conflict() {
    let emulator = Emulator::start();
    let ctx = common::context(&emulator).await;
    let ec2 = &ctx.clients().ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id");
    ec2.create_subnet()
        .vpc_id(vpc_id)
        .cidr_block("10.0.1.0/24")
        .send()
        .await
        .expect("CreateSubnet");
    let err = ec2
        .delete_vpc()
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(|e| ctx.classify(Service::Ec2, "DeleteVpc", e))
        .expect_err("the subnet blocks the delete");
    assert!(matches!(err, AwsError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("`DependencyViolation`"), "{err}");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast_and_names_the_url() {
    // A port that was free a moment ago: nothing listens there.
    let url = format!("http://127.0.0.1:{}", iac_testkit::free_port());
    let config = common::unreachable_config(&url);
    let ctx = AwsContext::load(&config).await.expect("config loads");
    let started = Instant::now();
    let err = ctx.probe().await.expect_err("nothing listens there");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        AwsError::Unreachable { url: named, .. } => assert_eq!(named, &url),
        other => panic!("expected Unreachable, got: {other}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach `{url}` for `ec2:DescribeAvailabilityZones`: "
        )),
        "{text}"
    );
    assert!(err.is_transient());
    assert!(err.help().is_some_and(|h| h.contains("just emulator")));
}

#[tokio::test]
async fn missing_credentials_say_how_to_configure_them() {
    // The emulator is running, so the only thing wrong is the credentials.
    let emulator = Emulator::start();
    let config = AwsConfig {
        endpoint_url: Some(emulator.url().to_owned()),
        source: ConfigSource::Vars(vec![("AWS_REGION".to_owned(), REGION.to_owned())]),
        ..AwsConfig::default()
    };
    let ctx = AwsContext::load(&config).await.expect("config loads");
    let err = ctx.probe().await.expect_err("no credentials");
    assert!(matches!(err, AwsError::MissingCredentials { .. }), "{err}");
    let text = err.to_string();
    for needle in ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "aws sso login"] {
        assert!(text.contains(needle), "`{needle}` missing from: {text}");
    }
    assert!(!text.contains("Error {"), "no Debug dumps: {text}");
    assert_eq!(ctx.requests().total(), 0, "nothing was sent unsigned");
}

/// The name of the child-process half of [`aws_endpoint_url_from_the_environment_is_honoured`].
const CHILD_TEST: &str = "child_process_probe_with_process_environment";

/// `AWS_ENDPOINT_URL` is read by aws-config from the process environment. Tests must not set
/// process variables (they run in parallel), so this runs the test binary again with the
/// variables set, executing only [`child_process_probe_with_process_environment`].
#[test]
fn aws_endpoint_url_from_the_environment_is_honoured() {
    let emulator = Emulator::start();
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command.args([CHILD_TEST, "--exact", "--ignored", "--nocapture"]);
    emulator.configure(&mut command);
    let output = command.output().expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("probed {} via {}", REGION, emulator.url())),
        "{stdout}"
    );
}

#[tokio::test]
#[ignore = "run by aws_endpoint_url_from_the_environment_is_honoured in a child process with the emulator's variables"]
async fn child_process_probe_with_process_environment() {
    // The default chains: region, endpoint and credentials all from the process environment.
    let ctx = AwsContext::load(&AwsConfig::default())
        .await
        .expect("config loads");
    let endpoint = ctx
        .endpoint_url()
        .expect("AWS_ENDPOINT_URL is read")
        .to_owned();
    ctx.probe().await.expect("probe via AWS_ENDPOINT_URL");
    assert_eq!(
        ctx.requests().last_endpoint("ec2").as_deref(),
        Some(endpoint.as_str())
    );
    println!("probed {} via {}", ctx.region(), endpoint);
}
