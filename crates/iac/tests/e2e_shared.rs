//! End-to-end, the real `iac` binary against the local AWS emulator (moto): stacks built on
//! what they do not own. A stack reads another stack's outputs (`iac.stack`) and keeps it
//! from being destroyed first; a stack built on a VPC it looks up by tag applies, then plans
//! no changes, and its destroy leaves the VPC alone.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.

mod common;

use common::*;
use iac_testkit::Emulator;

/// A network stack with outputs, for the stacks that read them.
const NETWORK: &str = r#"stack: e2e-net
region: us-east-1

resources:
  vpc:
    type: aws.vpc
    cidr: 10.40.0.0/16
  public_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.40.1.0/24
    az: ${region}a

outputs:
  vpc_id: ${vpc.id}
  subnets: ["${public_a.id}"]
"#;

/// An app stack that reads the network stack's outputs.
const APP: &str = r#"stack: e2e-app
region: us-east-1

resources:
  network:
    type: iac.stack
    stack: e2e-net
  web_sg:
    type: aws.security_group
    vpc: ${network.vpc_id}
    description: e2e app
    ingress:
      - { protocol: tcp, port: 443, cidr: 10.0.0.0/8 }
"#;

#[test]
fn a_stack_reads_another_stacks_outputs_and_keeps_it_from_being_destroyed_first() {
    let emulator = Emulator::start();
    let work = Work::new("net.yaml", "e2e-net", NETWORK);
    work.write("app.yaml", APP);

    // Not applied yet: a located error, before any AWS call (the endpoint answers nothing).
    let mut offline = work.command(&["plan", "app.yaml"]);
    emulator.configure(&mut offline);
    offline.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let out = Run::of(offline);
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    assert!(stderr.contains("iac::stack_ref::not_applied"), "{stderr}");
    assert!(
        stderr.contains("stack `e2e-net` has no state at"),
        "{stderr}"
    );
    assert!(
        stderr.contains("app.yaml:5:3"),
        "points at the resource: {stderr}"
    );

    work.iac(&emulator, &["apply", "--yes", "net.yaml"])
        .expect(0);
    let vpc = work.state_of("e2e-net")["resources"]["vpc"]["physical_id"]
        .as_str()
        .unwrap()
        .to_string();

    // An output the network stack does not have.
    work.write(
        "bad.yaml",
        &APP.replace("stack: e2e-app", "stack: e2e-bad")
            .replace("${network.vpc_id}", "${network.vpc}"),
    );
    let bad = work.iac(&emulator, &["plan", "bad.yaml"]).expect(1);
    bad.says_err("iac::stack_ref::unknown_output");
    bad.says_err("stack `e2e-net` has no output `vpc`");
    bad.says_err("stack `e2e-net` has the outputs `vpc_id`, `subnets`");

    let plan = work.iac(&emulator, &["plan", "app.yaml"]).expect(0);
    plan.says("Read from other stacks:");
    plan.says("<= network: stack `e2e-net`, state `");
    plan.says(format!("vpc_id = \"{vpc}\""));
    work.iac(&emulator, &["apply", "--yes", "app.yaml"])
        .expect(0);
    let app = work.state_of("e2e-app");
    assert_eq!(app["resources"]["web_sg"]["inputs"]["vpc"], vpc.as_str());
    assert_eq!(app["resources"]["network"]["type"], "iac.stack");
    work.iac(&emulator, &["plan", "--detailed-exitcode", "app.yaml"])
        .expect(0);

    // The network stack is read by the app stack: not destroyed first.
    let refused = work
        .iac(&emulator, &["destroy", "--yes", "net.yaml"])
        .expect(1);
    refused.says_err("iac::destroy::in_use");
    refused.says_err("stack `e2e-app` (its `network`) read its outputs");
    assert!(work.state_of("e2e-net")["resources"]["vpc"].is_object());

    // Destroying the app reads nothing of the network stack: it works with that state gone.
    let net_state = work.path().join(".iac/state/e2e-net.json");
    let aside = work.path().join("e2e-net.json.aside");
    std::fs::rename(&net_state, &aside).unwrap();
    work.iac(&emulator, &["destroy", "--yes", "app.yaml"])
        .expect(0);
    std::fs::rename(&aside, &net_state).unwrap();
    work.iac(&emulator, &["destroy", "--yes", "net.yaml"])
        .expect(0);
    assert!(work.state_of("e2e-net")["resources"]
        .as_object()
        .is_none_or(|r| r.is_empty()));
}

/// A stack built on a VPC it does not own, found by its tag.
const ON_SHARED_VPC: &str = r#"stack: e2e-life
region: us-east-1

resources:
  vpc:
    type: aws.vpc
    existing: true
    tags: { Name: shared-platform }

  app_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.80.5.0/24
    az: ${region}a
"#;

/// Issue 21's done-when for lookups: a stack that looks up an existing VPC by tag applies,
/// then `plan --detailed-exitcode` exits 0; destroy leaves the VPC alone.
#[test]
fn a_stack_on_a_vpc_looked_up_by_tag_applies_then_plans_no_changes() {
    let emulator = Emulator::start();
    let vpc = shared_platform_vpc(&emulator, "10.80.0.0");
    let work = work(ON_SHARED_VPC);

    let plan = work
        .iac(&emulator, &["plan", "--detailed-exitcode", "life.yaml"])
        .expect(2);
    plan.says(format!(
        "Looked up:\n  <= vpc (aws.vpc): {vpc}, by `tags` Name=shared-platform\n"
    ));
    plan.says("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.");
    work.apply(&emulator);
    assert_eq!(work.id_of("vpc"), vpc);
    assert_eq!(work.state()["resources"]["vpc"]["existing"], true);

    work.plans_no_changes(&emulator);

    work.destroy(&emulator);
    let left = query(
        &emulator,
        "ec2",
        &format!("Action=DescribeVpcs&Version=2016-11-15&VpcId.1={vpc}"),
    );
    assert_eq!(xml_value(&left, "vpcId"), vpc);

    // A second VPC with the tag: the lookup is ambiguous, and the error names both.
    let second = shared_platform_vpc(&emulator, "10.81.0.0");
    let ambiguous = work.iac(&emulator, &["plan", "life.yaml"]).expect(1);
    // The message is wrapped (at the `-` of an id, here): joined again.
    let text = ambiguous.stderr.replace("\n  │ ", "");
    assert!(text.contains("iac::plan::lookup"), "{text}");
    assert!(
        text.contains("2 VPCs match `tags` Name=shared-platform")
            && text.contains(&vpc)
            && text.contains(&second),
        "{text}"
    );
}

/// A VPC made in the emulator (not by iac) with the block `BASE/16` and the tag
/// `Name=shared-platform`; its id.
fn shared_platform_vpc(emulator: &Emulator, base: &str) -> String {
    let created = query(
        emulator,
        "ec2",
        &format!(
            "Action=CreateVpc&Version=2016-11-15&CidrBlock={base}%2F16\
             &TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name\
             &TagSpecification.1.Tag.1.Value=shared-platform"
        ),
    );
    xml_value(&created, "vpcId")
}

/// A working directory with `text` as the stack file `life.yaml` (stack `e2e-life`).
fn work(text: &str) -> Work {
    Work::new("life.yaml", "e2e-life", text)
}
