//! Stacks as people write them, through the real loader, the engine and [`AwsProvider`] on
//! the local emulator (moto): tests/fixtures/aws/real_apps_stack.yaml has stack-wide tags, a
//! subnet merged from another (`<<: *subnet`), a security group with rules whose peer is the
//! group itself (`source: self`) and a Fargate service with non-default tag propagation.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use aws_sdk_ec2::types::{Filter, IpPermission};
use aws_sdk_ecs::types::PropagateTags;
use iac_stack::Stack;
use iac_testkit::Emulator;

use common::{changes, updated, Deployment};

fn load(vars: &[(&str, &str)]) -> Stack {
    common::load("tests/fixtures/aws/real_apps_stack.yaml", vars, &[])
}

/// The group ids the permissions of one direction name as peers, by port.
fn group_peers(perms: &[IpPermission]) -> Vec<(Option<i32>, String)> {
    let mut out: Vec<(Option<i32>, String)> = perms
        .iter()
        .flat_map(|p| {
            p.user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id())
                .map(|g| (p.from_port(), g.to_owned()))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_group_rule_with_source_self_names_the_group_itself() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    // No edge from the group to itself: it is created once, in the first wave after the VPC.
    assert_eq!(
        stack.resources["cluster_sg"].dependencies(),
        ["vpc"],
        "`source: self` is no reference"
    );
    d.create(&stack).await;
    d.assert_clean(&stack).await;

    // AWS holds the group's own id as the peer, in both directions.
    let sg_id = d.id("cluster_sg");
    let ec2 = aws.clients().ec2.clone();
    let describe = || async {
        ec2.describe_security_groups()
            .group_ids(&sg_id)
            .send()
            .await
            .expect("DescribeSecurityGroups")
            .security_groups()[0]
            .clone()
    };
    let group = describe().await;
    assert_eq!(
        group_peers(group.ip_permissions()),
        [(Some(7946), sg_id.clone())]
    );
    assert_eq!(
        group_peers(group.ip_permissions_egress()),
        [(None, sg_id.clone())]
    );
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&sg_id).build())
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    let referenced: Vec<&str> = rules
        .security_group_rules()
        .iter()
        .filter_map(|r| r.referenced_group_info().and_then(|g| g.group_id()))
        .collect();
    assert_eq!(referenced, [sg_id.as_str(), sg_id.as_str()], "{rules:?}");
    // The stack-wide tags reached the group, with the engine's own.
    let tag = |key: &str| {
        group
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
            .map(str::to_owned)
    };
    assert_eq!(tag("team").as_deref(), Some("checkout"));
    assert_eq!(tag("stack").as_deref(), Some("real-apps"));
    assert_eq!(tag("iac:name").as_deref(), Some("cluster_sg"));

    // An update of the self rule: authorized with the group's own id again, old one revoked.
    let moved = [("gossip_port", "7947")];
    d.change(
        &load(&moved),
        vec![updated("cluster_sg", &["ingress[1].port"])],
    )
    .await;
    d.assert_clean(&load(&moved)).await;
    assert_eq!(
        group_peers(describe().await.ip_permissions()),
        [(Some(7947), sg_id.clone())]
    );

    // A group whose rules name itself is destroyed like any other.
    d.destroy(&load(&moved)).await;
    let left = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-id").values(&sg_id).build())
        .send()
        .await
        .expect("DescribeSecurityGroups");
    assert!(left.security_groups().is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ecs_service_keeps_its_tag_propagation_settings() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let set = [("propagate", "TASK_DEFINITION"), ("managed_tags", "true")];
    let stack = load(&set);
    let mut d = Deployment::new(&aws, &stack);

    // Created with `propagate_tags: TASK_DEFINITION` and `enable_ecs_managed_tags: true`.
    let first = d.plan(&stack).await;
    d.apply(&first).await;
    let ecs = aws.clients().ecs.clone();
    let cluster = d.id("cluster");
    let arn = d.id("web");
    let describe = || async {
        ecs.describe_services()
            .cluster(&cluster)
            .services(&arn)
            .send()
            .await
            .expect("DescribeServices")
            .services()[0]
            .clone()
    };
    let service = describe().await;
    assert_eq!(
        service.propagate_tags(),
        Some(&PropagateTags::TaskDefinition)
    );
    // moto 5.2.5 does not keep `enableECSManagedTags` from CreateService (its create_service
    // takes no such argument); AWS does. The create checks its answer and sends a dropped
    // setting again with UpdateService, so the service is as the stack says when the apply
    // ends, on moto too, and the first re-plan is clean.
    assert!(service.enable_ecs_managed_tags());
    d.assert_clean(&stack).await;

    // Both changed in place through UpdateService, and read back as set.
    let other = [("propagate", "NONE"), ("managed_tags", "false")];
    d.change(
        &load(&other),
        vec![updated(
            "web",
            &["propagate_tags", "enable_ecs_managed_tags"],
        )],
    )
    .await;
    d.assert_clean(&load(&other)).await;
    let service = describe().await;
    assert_eq!(service.propagate_tags(), Some(&PropagateTags::None));
    assert!(!service.enable_ecs_managed_tags());

    // And back to the defaults (`SERVICE`, no managed tags), what iac always sent before.
    let update = d.plan(&load(&[])).await;
    assert_eq!(changes(&update), vec![updated("web", &["propagate_tags"])]);
    d.apply(&update).await;
    d.assert_clean(&load(&[])).await;
    assert_eq!(
        describe().await.propagate_tags(),
        Some(&PropagateTags::Service)
    );
}
