//! Orphans on the emulator: objects tagged with the stack that the state does not know
//! (made by a run whose state was lost, or by hand with the stack's tags) are adopted when
//! their `iac:name` names a resource of the stack that has no object, listed otherwise,
//! left alone by apply and deleted by destroy; an object of someone else is never listed.
//! The test's own view of what exists comes from the SDK, not from iac.

mod common;

use std::sync::Arc;

use aws_sdk_ec2::types::{ResourceType as Ec2ResourceType, Tag, TagSpecification};
use common::*;
use iac_engine::{plan_destroy_live, Action, PlanOptions, Provider, State};
use iac_testkit::Emulator;

const STACK: &str = r#"stack: orph
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
"#;

fn spec(rtype: Ec2ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let mut s = TagSpecification::builder().resource_type(rtype);
    for (k, v) in tags {
        s = s.tags(Tag::builder().key(*k).value(*v).build());
    }
    s.build()
}

#[tokio::test]
async fn objects_tagged_with_the_stack_that_the_state_does_not_know_are_adopted_listed_and_destroyed(
) {
    let emulator = Emulator::start();
    let aws = context(&emulator).await;
    let ec2 = aws.clients().ec2.clone();
    let dir = tempfile::tempdir().unwrap();
    let loaded = iac_stack::load_str("orph.yaml", STACK, &iac_stack::LoadOptions::default())
        .expect("the stack loads");
    let stack = loaded.stack;

    // A VPC made for this stack's `vpc` by a run whose state is gone, and a subnet of a
    // resource the stack no longer has; and someone else's VPC, tagged for another stack.
    let ours = ec2
        .create_vpc()
        .cidr_block("10.40.0.0/16")
        .tag_specifications(spec(
            Ec2ResourceType::Vpc,
            &[
                ("iac:stack", "orph"),
                ("iac:name", "vpc"),
                ("Name", "orph-vpc"),
            ],
        ))
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = ours.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();
    let old = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.40.9.0/24")
        .availability_zone("us-east-1c")
        .tag_specifications(spec(
            Ec2ResourceType::Subnet,
            &[("iac:stack", "orph"), ("iac:name", "old_subnet")],
        ))
        .send()
        .await
        .expect("CreateSubnet");
    let old_id = old.subnet().and_then(|s| s.subnet_id()).unwrap().to_owned();
    let theirs = ec2
        .create_vpc()
        .cidr_block("10.41.0.0/16")
        .tag_specifications(spec(
            Ec2ResourceType::Vpc,
            &[("iac:stack", "other"), ("iac:name", "vpc")],
        ))
        .send()
        .await
        .expect("CreateVpc");
    let their_id = theirs.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();

    let provider: Arc<dyn Provider> = Arc::new(iac_aws::AwsProvider::new(aws.clone(), "orph"));
    let mut state = State::new("orph");
    let plan = make_plan(&stack, &state, &provider).await;
    let vpc = plan.change("vpc").unwrap();
    assert_eq!(
        vpc.action,
        Action::Adopt,
        "{}",
        iac_engine::render_plan(&plan, false)
    );
    assert_eq!(vpc.physical_id.as_deref(), Some(vpc_id.as_str()));
    assert_eq!(plan.change("public_a").unwrap().action, Action::Create);
    let orphans: Vec<(&str, &str)> = plan
        .orphans
        .iter()
        .map(|o| (o.rtype.as_str(), o.physical_id.as_str()))
        .collect();
    assert_eq!(orphans, [("aws.subnet", old_id.as_str())]);

    run(&plan, &mut state, dir.path(), &provider).await;
    assert_eq!(state.resources["vpc"].physical_id, vpc_id);
    let again = make_plan(&stack, &state, &provider).await;
    assert_clean(&again);
    assert_eq!(again.orphans.len(), 1, "apply leaves orphans alone");

    // `--keep-orphans` keeps it; a destroy deletes it with the rest (the subnet first,
    // then the VPC it is in), and never the other stack's VPC.
    let keep = PlanOptions {
        keep_orphans: true,
        ..PlanOptions::default()
    };
    let kept = plan_destroy_live(&stack, &state, provider.clone(), &keep)
        .await
        .unwrap();
    assert!(kept
        .changes
        .iter()
        .all(|c| c.physical_id.as_deref() != Some(old_id.as_str())));
    let destroy = plan_destroy_live(&stack, &state, provider.clone(), &PlanOptions::default())
        .await
        .unwrap();
    assert!(destroy
        .changes
        .iter()
        .any(|c| c.physical_id.as_deref() == Some(old_id.as_str())));
    run(&destroy, &mut state, dir.path(), &provider).await;
    let left = tagged_network_leftovers(aws.clients(), "orph").await;
    assert!(left.is_empty(), "{left:?}");
    let other = ec2
        .describe_vpcs()
        .vpc_ids(&their_id)
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(other.vpcs().len(), 1, "the other stack's VPC is untouched");
}
