//! stacks/ec2-cluster.yaml through the engine on the local emulator (moto): one cluster with
//! an EC2 capacity provider (an Auto Scaling group of ECS-optimised instances) and
//! FARGATE_SPOT, a bridge-mode web service on the instances behind the HTTPS load balancer,
//! and a Fargate Spot worker that registers in Cloud Map. The stack applies, re-plans clean,
//! takes a change of the web service's capacity provider strategy as an in-place update
//! (never a new service), and destroys to nothing, in the order AWS accepts.
//!
//! Where the emulator is not AWS, and how that shapes this test (docs/ec2-capacity.md,
//! docs/ec2-services.md):
//! - No instance joins the cluster and no task is placed. `MOTO_ECS_SERVICE_RUNNING=2`
//!   (iac-testkit's default) makes both services report two running tasks, the stack's
//!   `tasks`, so the apply's wait for a steady service ends as on AWS.
//! - moto's CreateService drops a capacity provider strategy and placement strategies, and
//!   its UpdateService keeps them: the strategy the example starts with is not checked on
//!   the emulator (the read reports what was applied, see `ecs/service/read.rs`); the one
//!   the in-place update sends is.
//! - FARGATE_SPOT shows as MISSING in DescribeCapacityProviders, and moto would delete a
//!   capacity provider still attached to a cluster, or a launch template a group still uses:
//!   the destroy order is checked on the requests iac sent, not on the emulator's refusals.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use common::{changes, Deployment};
use iac_engine::{render_plan, Action};
use iac_stack::Stack;
use iac_testkit::Emulator;

const STRATEGY: &str = "      - capacity_provider: ${ec2.name}\n    placement_strategy:";

fn load(edits: &[(&str, &str)]) -> Stack {
    common::load("stacks/ec2-cluster.yaml", &[], edits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ec2_example_applies_changes_its_strategy_in_place_and_is_destroyed_in_order() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // The hosted zone is `existing: true`: it must be there before.
    let zone_id = common::create_zone(&c, "example.com", "ec2-cluster-test").await;
    let stack = load(&[]);
    assert!(
        stack.resources.values().all(|r| r.depends_on.is_empty()),
        "the example needs no depends_on"
    );
    let mut d = Deployment::new(&aws, &stack);

    let first = d.plan(&stack).await;
    assert_eq!(
        first.summary.add,
        stack.resources.len() - 1,
        "all but the zone"
    );
    d.apply(&first).await;

    // The cluster has both kinds of capacity and the default strategy.
    let cluster_arn = d.id("cluster");
    let provider_name = d.attr("ec2", "name");
    let described = c
        .ecs
        .describe_clusters()
        .clusters(&cluster_arn)
        .send()
        .await
        .expect("DescribeClusters");
    let cluster = &described.clusters()[0];
    assert_eq!(cluster.cluster_name(), Some("ec2-shop-cluster"));
    assert_eq!(
        cluster.capacity_providers(),
        [provider_name.clone(), "FARGATE_SPOT".to_owned()]
    );
    let default: Vec<(&str, i32)> = cluster
        .default_capacity_provider_strategy()
        .iter()
        .map(|s| (s.capacity_provider(), s.base()))
        .collect();
    assert_eq!(default, [(provider_name.as_str(), 1)]);

    // The launch template joins that cluster by name.
    let lt = c
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(&d.state.resources["instances"].physical_id)
        .versions("$Default")
        .send()
        .await
        .expect("DescribeLaunchTemplateVersions");
    let data = lt.launch_template_versions()[0]
        .launch_template_data()
        .expect("template data");
    let user_data = data.user_data().expect("user data");
    let user_data =
        String::from_utf8(aws_smithy_types::base64::decode(user_data).expect("base64 user data"))
            .expect("utf-8 user data");
    assert!(
        user_data.contains("ECS_CLUSTER=ec2-shop-cluster"),
        "{user_data}"
    );

    // web: bridge mode, behind an `instance` target group.
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(&d.state.resources["web_task"].physical_id)
        .send()
        .await
        .expect("DescribeTaskDefinition");
    let td = td.task_definition().expect("task definition");
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("bridge"));
    assert_eq!(
        td.container_definitions()[0].port_mappings()[0].host_port(),
        Some(0)
    );
    let tg = c
        .elbv2
        .describe_target_groups()
        .target_group_arns(&d.state.resources["web_tg"].physical_id)
        .send()
        .await
        .expect("DescribeTargetGroups");
    assert_eq!(
        tg.target_groups()[0].target_type().map(|t| t.as_str()),
        Some("instance")
    );

    // worker: registered in Cloud Map as `worker` in `internal`, A records.
    let worker_arn = d.id("worker");
    let services = c
        .ecs
        .describe_services()
        .cluster(&cluster_arn)
        .services(&worker_arn)
        .send()
        .await
        .expect("DescribeServices");
    let registry = services.services()[0].service_registries()[0]
        .registry_arn()
        .expect("a registry")
        .to_owned();
    let listed = c
        .servicediscovery
        .list_services()
        .send()
        .await
        .expect("ListServices");
    let cloud_map = listed
        .services()
        .iter()
        .find(|s| s.arn() == Some(registry.as_str()))
        .expect("the worker's Cloud Map service");
    assert_eq!(cloud_map.name(), Some("worker"));
    let namespace = d.id("internal");
    let ns = c
        .servicediscovery
        .get_namespace()
        .id(&namespace)
        .send()
        .await
        .expect("GetNamespace");
    assert_eq!(ns.namespace().and_then(|n| n.name()), Some("internal"));

    d.assert_clean(&stack).await;

    // A new strategy for web: an update that starts a new deployment, not a new service.
    let web_arn = d.id("web");
    let weighted = [(
        STRATEGY,
        "      - capacity_provider: ${ec2.name}\n        base: 1\n        weight: 2\n    placement_strategy:",
    )];
    let change = d.plan(&load(&weighted)).await;
    let got = changes(&change);
    assert_eq!(got.len(), 1, "{}", render_plan(&change, false));
    assert_eq!((got[0].0.as_str(), got[0].1), ("web", Action::Update));
    aws.requests().reset();
    d.apply(&change).await;
    assert_eq!(aws.requests().count("ecs", "UpdateService"), 1);
    assert_eq!(aws.requests().count("ecs", "CreateService"), 0);
    assert_eq!(aws.requests().count("ecs", "DeleteService"), 0);
    assert_eq!(d.state.resources["web"].physical_id, web_arn);
    let web = c
        .ecs
        .describe_services()
        .cluster(&cluster_arn)
        .services(&web_arn)
        .send()
        .await
        .expect("DescribeServices");
    let strategy: Vec<(&str, i32, i32)> = web.services()[0]
        .capacity_provider_strategy()
        .iter()
        .map(|s| (s.capacity_provider(), s.base(), s.weight()))
        .collect();
    assert_eq!(strategy, [(provider_name.as_str(), 1, 2)]);
    let stack = load(&weighted);
    d.assert_clean(&stack).await;

    // Destroy, in the order AWS accepts: the services before the cluster and the namespace
    // (the worker's Cloud Map service with it), the cluster letting go of its providers
    // before the provider, the provider before its group, the group before its template.
    aws.requests().reset();
    d.destroy(&stack).await;
    common::assert_sent_in_order(
        &aws,
        &[
            common::CAPACITY_DELETE_ORDER,
            &[
                ("ecs:DeleteService", "ecs:DeleteCluster"),
                ("ecs:DeleteService", "servicediscovery:DeleteService"),
                (
                    "servicediscovery:DeleteService",
                    "servicediscovery:DeleteNamespace",
                ),
                ("ec2:DeleteLaunchTemplate", "iam:DeleteInstanceProfile"),
            ],
        ]
        .concat(),
    );

    let mut left = common::stack_leftovers(&c, &stack.name, &[zone_id]).await;
    let groups = c
        .ec2_autoscaling
        .describe_auto_scaling_groups()
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    left.extend(
        groups
            .auto_scaling_groups()
            .iter()
            .map(|g| format!("group {}", g.auto_scaling_group_name().unwrap_or("?"))),
    );
    let templates = c
        .ec2
        .describe_launch_templates()
        .send()
        .await
        .expect("DescribeLaunchTemplates");
    left.extend(
        templates
            .launch_templates()
            .iter()
            .map(|t| format!("launch template {}", t.launch_template_id().unwrap_or("?"))),
    );
    let namespaces = c
        .servicediscovery
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces");
    left.extend(
        namespaces
            .namespaces()
            .iter()
            .map(|n| format!("namespace {}", n.name().unwrap_or("?"))),
    );
    let profiles = c
        .iam
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    left.extend(
        profiles
            .instance_profiles()
            .iter()
            .map(|p| format!("instance profile {}", p.instance_profile_name())),
    );
    assert!(left.is_empty(), "left behind: {left:?}");
}
