//! Through the engine: plan, apply, plan clean, change, drift, destroy.

use std::path::PathBuf;

use aws_sdk_ec2::types::{Filter, Tag};

use iac_engine::{render_plan, Plan};
use iac_stack::{LoadOptions, Stack};
use iac_testkit::Emulator;

use crate::common::{self, changes, updated, Deployment};

fn load(vars: &[(&str, &str)]) -> Stack {
    common::load("tests/fixtures/aws/network_stack.yaml", vars, &[])
}

/// [`common::assert_clean`], and the plan says so.
fn assert_clean(plan: &Plan) {
    common::assert_clean(plan);
    assert!(
        render_plan(plan, false).contains("No changes."),
        "{}",
        render_plan(plan, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_stack_applies_plans_clean_changes_in_place_and_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;

    // A no-op plan, reading with one describe per type.
    aws.requests().reset();
    let again = d.plan(&stack).await;
    assert_clean(&again);
    for (op, n) in aws.requests().snapshot() {
        assert!(
            op.operation.starts_with("Describe"),
            "a plan only reads: {op}"
        );
        assert_eq!(n, 1, "{op} was called {n} times");
    }
    assert_eq!(
        aws.requests().total(),
        super::NO_OP_PLAN,
        "{:?}",
        aws.requests().snapshot()
    );

    // Change a rule, a route and a tag: exactly those three updates.
    let changed = load(&[
        ("http_port", "8080"),
        ("office_cidr", "172.16.0.0/12"),
        ("team", "platform"),
    ]);
    d.change(
        &changed,
        vec![
            updated("vpc", &["tags.team"]),
            updated("public_routes", &["routes[1].destination"]),
            updated("alb_sg", &["ingress[1].port"]),
        ],
    )
    .await;
    assert_clean(&d.plan(&changed).await);

    // Drift: a rule revoked behind iac's back shows, and apply puts it back.
    let ec2 = aws.clients().ec2.clone();
    let alb = d.id("alb_sg");
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&alb).build())
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    let http = rules
        .security_group_rules()
        .iter()
        .find(|r| r.from_port() == Some(8080) && r.is_egress() == Some(false))
        .and_then(|r| r.security_group_rule_id())
        .expect("the rule on 8080")
        .to_owned();
    ec2.revoke_security_group_ingress()
        .group_id(&alb)
        .security_group_rule_ids(http)
        .send()
        .await
        .expect("RevokeSecurityGroupIngress");
    let drifted = d.plan(&changed).await;
    let drift = common::drift_of(&drifted);
    assert_eq!(drift, vec![("alb_sg", &["ingress".to_owned()][..])]);
    assert_eq!(changes(&drifted), vec![updated("alb_sg", &["ingress"])]);
    d.apply(&drifted).await;
    assert_clean(&d.plan(&changed).await);

    // Destroy: nothing tagged with the stack is left.
    let (destroy, _) = d.destroy(&changed).await;
    assert_eq!(destroy.summary.destroy, stack.resources.len());
    assert_eq!(
        common::tagged_network_leftovers(aws.clients(), &stack.name).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_tag_removed_outside_iac_is_planned_as_drift_and_restored_by_apply() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);
    let first = d.plan(&stack).await;
    d.apply(&first).await;

    // Behind iac's back: the stack's tag removed from a subnet and a security group.
    let ec2 = aws.clients().ec2.clone();
    for name in ["public_b", "app_sg"] {
        ec2.delete_tags()
            .resources(&d.state.resources[name].physical_id)
            .tags(Tag::builder().key("iac:stack").build())
            .send()
            .await
            .expect("DeleteTags");
    }

    // The plan still finds both, shows the tag as drift and updates it back; their two
    // types cost one more describe each, the others one.
    aws.requests().reset();
    let drifted = d.plan(&stack).await;
    let calls: Vec<String> = aws
        .requests()
        .snapshot()
        .iter()
        .map(|(op, n)| format!("{op}={n}"))
        .collect();
    assert_eq!(calls, super::plan_describes(&["SecurityGroups", "Subnets"]));
    let drift = common::drift_of(&drifted);
    let tag_path = ["tags.iac:stack".to_owned()];
    assert_eq!(
        drift,
        vec![("public_b", &tag_path[..]), ("app_sg", &tag_path[..])],
        "{}",
        render_plan(&drifted, false)
    );
    assert_eq!(
        changes(&drifted),
        vec![
            updated("public_b", &["tags.iac:stack"]),
            updated("app_sg", &["tags.iac:stack"]),
        ],
        "{}",
        render_plan(&drifted, false)
    );

    // Apply puts the tag back: the next plan is clean and the tag alone finds everything.
    d.apply(&drifted).await;
    aws.requests().reset();
    assert_clean(&d.plan(&stack).await);
    assert_eq!(
        aws.requests().total(),
        super::NO_OP_PLAN,
        "{:?}",
        aws.requests().snapshot()
    );
    let tagged = ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("tag:iac:stack")
                .values(&stack.name)
                .build(),
        )
        .send()
        .await
        .expect("DescribeSubnets");
    assert!(
        tagged
            .subnets()
            .iter()
            .any(|s| s.subnet_id() == Some(&d.state.resources["public_b"].physical_id)),
        "`public_b` is tagged with the stack again"
    );

    d.destroy(&stack).await;
    assert_eq!(
        common::tagged_network_leftovers(aws.clients(), &stack.name).await,
        Vec::<String>::new()
    );
}

/// The network part of stacks/lemon-mart.yaml: everything before its DNS section.
fn example_network() -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let text = std::fs::read_to_string(&path).expect("the example stack is readable");
    let end = text
        .find("  # --- DNS and TLS")
        .expect("the example stack has a DNS section after the network");
    match iac_stack::load_str(
        "lemon-mart-network.yaml",
        &text[..end],
        &LoadOptions::default(),
    ) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("the network part of the example does not load: {d:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_part_of_the_example_stack_applies_plans_clean_and_is_destroyed() {
    let emulator = Emulator::start();
    let stack = example_network();
    for name in [
        "vpc",
        "public_a",
        "public_b",
        "igw",
        "public_routes",
        "alb_sg",
        "app_sg",
    ] {
        assert!(
            stack.resources.contains_key(name),
            "`{name}` is in the network part"
        );
    }
    let aws = common::context(&emulator).await;
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;
    assert_clean(&d.plan(&stack).await);

    d.destroy(&stack).await;
    assert_eq!(
        common::tagged_network_leftovers(aws.clients(), &stack.name).await,
        Vec::<String>::new()
    );
}
