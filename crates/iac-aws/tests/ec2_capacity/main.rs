//! ECS on EC2 capacity through the engine on the local emulator (moto), with
//! tests/fixtures/aws/ec2_capacity.yaml: an instance profile, a launch template, an Auto
//! Scaling group, a capacity provider and a cluster listing it and FARGATE_SPOT with a
//! default strategy apply, re-plan clean, change in place (a new launch template version,
//! the provider's target capacity, the cluster's strategy), and are destroyed in the order
//! AWS accepts.
//!
//! Where the emulator is not AWS, and how that shapes this test (docs/ec2-capacity.md):
//! - moto has the public SSM parameter of the ECS-optimised AMI
//!   (`/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id`), so the AMI
//!   is resolved as on AWS; the test compares the template's AMI with the parameter's value.
//!   `/aws/` names are reserved (`AccessDeniedException`, as on AWS), so a parameter of the
//!   test's own stands for a public one that AWS moves on to a newer AMI.
//! - Instances of the group start (moto launches them) but never join the cluster: there
//!   are no container instances, so the deregistration a cluster's delete does on AWS is
//!   not exercised here, and nothing is placed on the provider.
//! - FARGATE and FARGATE_SPOT describe as `MISSING` in `DescribeCapacityProviders`; iac
//!   never describes them (it reads a cluster's list from `DescribeClusters`).
//! - `DescribeCapacityProviders` without names fails with HTTP 500, and so does
//!   `DeleteCapacityProvider` of a provider already deleted: iac always passes names and
//!   looks before it deletes. A deleted provider describes as `MISSING`, not `INACTIVE`.
//! - moto deletes a provider that a cluster still lists, deletes a cluster that lists
//!   providers, and a launch template a group still uses (AWS refuses all three): the order
//!   is checked on the requests iac sent, not on the emulator's refusals.
//! - `ForceDelete` removes the group at once and leaves its instances running: the wait for
//!   the group to go ends at the first poll.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

#[path = "../common/mod.rs"]
mod common;

mod fixture;

use common::{changes, updated, Deployment};
use iac_engine::render_plan;
use iac_testkit::Emulator;

use fixture::{change_shown, cluster_capacity, load, target_capacity, template, FIXTURE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_capacity_applies_updates_in_place_and_is_destroyed_in_order() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;

    // The launch template: the ECS-optimised AMI the parameter names, the user data that
    // joins the cluster then the stack's own, IMDSv2 only, the instance profile.
    let lt_id = d.id("instances");
    let ami = c
        .ssm
        .get_parameter()
        .name("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
        .send()
        .await
        .expect("the emulator has the ECS AMI parameter")
        .parameter()
        .and_then(|p| p.value())
        .expect("a value")
        .to_owned();
    let profile_arn = d.attr("instance_profile", "arn");
    let (data, version) = template(&c, &lt_id).await;
    assert_eq!(
        data,
        vec![
            "t3.small".to_owned(),
            ami.clone(),
            "#!/bin/bash\necho ECS_CLUSTER=capacity-engine-cluster >> /etc/ecs/ecs.config\n\
             echo ECS_ENABLE_CONTAINER_METADATA=true >> /etc/ecs/ecs.config\n"
                .to_owned(),
            "required".to_owned(),
            profile_arn,
        ]
    );
    assert_eq!(version, 1);
    assert_eq!(
        d.state.resources["instances"].attrs["image_id"],
        ami.as_str()
    );

    // The instance profile holds the role.
    let profile = c
        .iam
        .get_instance_profile()
        .instance_profile_name(&d.state.resources["instance_profile"].physical_id)
        .send()
        .await
        .expect("GetInstanceProfile");
    let roles: Vec<&str> = profile
        .instance_profile()
        .expect("profile")
        .roles()
        .iter()
        .map(|r| r.role_name())
        .collect();
    assert_eq!(
        roles,
        vec![d.state.resources["instance_role"].physical_id.as_str()]
    );

    // The group: scale-in protection, its tags propagated at launch, `AmazonECSManaged`
    // among them (set with the capacity provider).
    let group = d.id("asg");
    let groups = c
        .ec2_autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&group)
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    let g = &groups.auto_scaling_groups()[0];
    assert_eq!(g.new_instances_protected_from_scale_in(), Some(true));
    assert_eq!(g.health_check_grace_period(), Some(120));
    assert_eq!(
        (g.min_size(), g.max_size(), g.desired_capacity()),
        (Some(0), Some(4), Some(1))
    );
    assert_eq!(
        g.launch_template().and_then(|t| t.launch_template_id()),
        Some(lt_id.as_str())
    );
    let mut tags: Vec<(&str, bool)> = g
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default(),
                t.propagate_at_launch().unwrap_or(false),
            )
        })
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("AmazonECSManaged", true),
            ("Name", true),
            ("iac:name", true),
            ("iac:stack", true)
        ]
    );

    // The provider and the cluster.
    let cp = d.id("ec2");
    let cluster = "capacity-engine-cluster";
    assert_eq!(target_capacity(&c, &cp).await, Some(90));
    assert_eq!(
        cluster_capacity(&c, cluster).await,
        (
            vec![cp.clone(), "FARGATE_SPOT".to_owned()],
            vec![(cp.clone(), 1, 1), ("FARGATE_SPOT".to_owned(), 2, 0)]
        )
    );

    // Read back as applied, with one describe of each kind (the plan's orphan check takes
    // what the reads found by the stack's tag) and one GetParameters for the AMI.
    aws.requests().reset();
    d.assert_clean(&stack).await;
    let counts: Vec<(&str, u64)> = [
        ("ec2", "DescribeLaunchTemplates"),
        ("ec2", "DescribeLaunchTemplateVersions"),
        ("ssm", "GetParameters"),
        ("autoscaling", "DescribeAutoScalingGroups"),
        ("ecs", "DescribeCapacityProviders"),
        ("iam", "GetInstanceProfile"),
    ]
    .into_iter()
    .map(|(service, op)| (op, aws.requests().count(service, op)))
    .collect();
    assert_eq!(
        counts,
        vec![
            ("DescribeLaunchTemplates", 1),
            ("DescribeLaunchTemplateVersions", 1),
            ("GetParameters", 1),
            ("DescribeAutoScalingGroups", 1),
            ("DescribeCapacityProviders", 1),
            ("GetInstanceProfile", 1),
        ]
    );

    // A new instance type: a new default version of the same template, not a new one.
    let bigger = load(&[("instance_type", "t3.medium")]);
    change_shown(
        &mut d,
        &bigger,
        vec![updated("instances", &["instance_type"])],
        "will get a new version",
    )
    .await;
    assert_eq!(d.state.resources["instances"].physical_id, lt_id);
    let (data, version) = template(&c, &lt_id).await;
    assert_eq!((data[0].as_str(), version), ("t3.medium", 2));
    assert_eq!(d.state.resources["instances"].attrs["version"], 2);
    d.assert_clean(&bigger).await;

    // The provider's target capacity and the cluster's strategy: in place.
    let moved = load(&[
        ("instance_type", "t3.medium"),
        ("target_capacity", "80"),
        ("spot_weight", "3"),
    ]);
    let plan = d.plan(&moved).await;
    let mut got = changes(&plan);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            updated("cluster", &["default_strategy[1].weight"]),
            updated("ec2", &["managed_scaling.target_capacity"]),
        ],
        "{}",
        render_plan(&plan, false)
    );
    d.apply(&plan).await;
    assert_eq!(target_capacity(&c, &cp).await, Some(80));
    assert_eq!(
        cluster_capacity(&c, cluster).await.1,
        vec![(cp.clone(), 1, 1), ("FARGATE_SPOT".to_owned(), 3, 0)]
    );
    d.assert_clean(&moved).await;

    // The AMI parameter: another one makes a version with its AMI; when the parameter then
    // names another AMI, the plan shows it and apply makes a version with the new one.
    // (`/capacity-test/ami` is the stack's own parameter, standing for a public one that
    // AWS moves on: `/aws/` names are reserved, in moto as on AWS.)
    let put_ami = |ami: &'static str| {
        let c = c.clone();
        async move {
            c.ssm
                .put_parameter()
                .name("/capacity-test/ami")
                .value(ami)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .expect("PutParameter");
        }
    };
    put_ami("ami-0aaaaaaaaaaaaaaa1").await;
    let own = [
        ("instance_type", "t3.medium"),
        ("target_capacity", "80"),
        ("spot_weight", "3"),
        ("ami_parameter", "/capacity-test/ami"),
    ];
    let custom = load(&own);
    d.change(&custom, vec![updated("instances", &["ami_parameter"])])
        .await;
    assert_eq!(
        d.state.resources["instances"].attrs["image_id"],
        "ami-0aaaaaaaaaaaaaaa1"
    );
    d.assert_clean(&custom).await;
    put_ami("ami-0bbbbbbbbbbbbbbb2").await;
    change_shown(
        &mut d,
        &custom,
        vec![updated("instances", &["ami_parameter"])],
        "ami-0aaaaaaaaaaaaaaa1",
    )
    .await;
    let (data, version) = template(&c, &lt_id).await;
    assert_eq!((data[1].as_str(), version), ("ami-0bbbbbbbbbbbbbbb2", 4));
    d.assert_clean(&custom).await;
    let moved = custom;

    // Destroy, in the order AWS accepts: the cluster lets go of its providers before it is
    // deleted, the provider is deleted before its group, the group (force, its instances
    // terminated) before the launch template, the template before the instance profile,
    // whose role is removed before it is deleted.
    aws.requests().reset();
    d.destroy(&moved).await;
    common::assert_sent_in_order(
        &aws,
        &[
            common::CAPACITY_DELETE_ORDER,
            &[
                (
                    "ec2:DeleteLaunchTemplate",
                    "iam:RemoveRoleFromInstanceProfile",
                ),
                (
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile",
                ),
                ("iam:DeleteInstanceProfile", "iam:DeleteRole"),
            ],
        ]
        .concat(),
    );
    let sent = common::sent(&aws);
    let at = |op: &str| {
        sent.iter()
            .position(|s| s == op)
            .unwrap_or_else(|| panic!("`{op}` was not sent: {sent:?}"))
    };
    // The provider's delete describes it first (moto fails a delete of a deleted one) and
    // waits on a describe naming it.
    assert!(
        sent.iter()
            .skip(at("ecs:DeleteCapacityProvider"))
            .any(|s| s == "ecs:DescribeCapacityProviders"),
        "{sent:?}"
    );
    assert_eq!(target_capacity(&c, &cp).await, None);
    let left = c
        .ec2_autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&group)
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    assert!(left.auto_scaling_groups().is_empty());
    let templates = c
        .ec2
        .describe_launch_templates()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:iac:stack")
                .values(&stack.name)
                .build(),
        )
        .send()
        .await
        .expect("DescribeLaunchTemplates");
    assert!(templates.launch_templates().is_empty());
}

/// A stack that drops its capacity provider but keeps the cluster: the cluster's lists
/// change in place, and the provider is taken off the cluster before it is deleted, in
/// whatever order the walker runs the cluster's update and the provider's delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_capacity_provider_leaves_the_cluster_first() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);
    d.apply(&d.plan(&stack).await).await;
    let cp = d.id("ec2");

    let fargate_only = common::load(
        FIXTURE,
        &[],
        &[
            (
                "  ec2:\n    type: aws.capacity_provider\n    autoscaling_group: ${asg.arn}\n    \
                 managed_scaling:\n      target_capacity: ${var.target_capacity}\n      \
                 max_step: 2\n    managed_termination_protection: true\n",
                "",
            ),
            (
                "      - ${ec2.name}\n      - FARGATE_SPOT\n",
                "      - FARGATE_SPOT\n",
            ),
            (
                "      - capacity_provider: ${ec2.name}\n        base: 1\n        weight: 1\n",
                "",
            ),
        ],
    );
    let plan = d.plan(&fargate_only).await;
    let mut got: Vec<(String, iac_engine::Action)> = changes(&plan)
        .into_iter()
        .map(|(name, action, _)| (name, action))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("cluster".to_owned(), iac_engine::Action::Update),
            ("ec2".to_owned(), iac_engine::Action::Delete),
        ],
        "{}",
        render_plan(&plan, false)
    );
    aws.requests().reset();
    d.apply(&plan).await;
    let sent = common::sent(&aws);
    let first_put = sent
        .iter()
        .position(|s| s == "ecs:PutClusterCapacityProviders")
        .unwrap_or_else(|| panic!("no PutClusterCapacityProviders: {sent:?}"));
    let delete = sent
        .iter()
        .position(|s| s == "ecs:DeleteCapacityProvider")
        .unwrap_or_else(|| panic!("no DeleteCapacityProvider: {sent:?}"));
    assert!(first_put < delete, "{sent:?}");
    assert_eq!(target_capacity(&c, &cp).await, None);
    assert_eq!(
        cluster_capacity(&c, "capacity-engine-cluster").await,
        (
            vec!["FARGATE_SPOT".to_owned()],
            vec![("FARGATE_SPOT".to_owned(), 2, 0)]
        )
    );
    d.assert_clean(&fargate_only).await;
}

/// `existing: true` finds an instance profile and a capacity provider by name, whoever made
/// them, and a stack uses them without changing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_profile_and_a_capacity_provider_are_looked_up_by_name() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // Made by someone else: a profile, and a provider over a group of theirs.
    let profile_arn = c
        .iam
        .create_instance_profile()
        .instance_profile_name("platform-instances")
        .send()
        .await
        .expect("CreateInstanceProfile")
        .instance_profile()
        .expect("profile")
        .arn()
        .to_owned();
    let vpc = c
        .ec2
        .create_vpc()
        .cidr_block("10.80.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    let subnet = c
        .ec2
        .create_subnet()
        .vpc_id(vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id"))
        .cidr_block("10.80.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .expect("CreateSubnet");
    let lt = c
        .ec2
        .create_launch_template()
        .launch_template_name("platform")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Small)
                .build(),
        )
        .send()
        .await
        .expect("CreateLaunchTemplate");
    c.ec2_autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name("platform")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(
                    lt.launch_template()
                        .and_then(|t| t.launch_template_id())
                        .expect("template id"),
                )
                .build(),
        )
        .min_size(0)
        .max_size(1)
        .vpc_zone_identifier(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id"),
        )
        .send()
        .await
        .expect("CreateAutoScalingGroup");
    let group_arn = c
        .ec2_autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("platform")
        .send()
        .await
        .expect("DescribeAutoScalingGroups")
        .auto_scaling_groups()[0]
        .auto_scaling_group_arn()
        .expect("group arn")
        .to_owned();
    c.ecs
        .create_capacity_provider()
        .name("platform-ec2")
        .auto_scaling_group_provider(
            aws_sdk_ecs::types::AutoScalingGroupProvider::builder()
                .auto_scaling_group_arn(group_arn)
                .build()
                .expect("provider"),
        )
        .send()
        .await
        .expect("CreateCapacityProvider");

    let stack = iac_stack::load_str(
        "lookup.yaml",
        "stack: capacity-lookup\nregion: us-east-1\nresources:\n  profile:\n    type: aws.instance_profile\n    existing: true\n    name: platform-instances\n  platform:\n    type: aws.capacity_provider\n    existing: true\n    name: platform-ec2\n  cluster:\n    type: aws.ecs_cluster\n    capacity_providers:\n      - ${platform.name}\n",
        &iac_stack::LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d:?}"))
    .stack;
    let mut d = Deployment::new(&aws, &stack);
    let plan = d.plan(&stack).await;
    let found = |name: &str| {
        plan.changes
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no change for `{name}`"))
    };
    assert_eq!(
        found("profile").physical_id.as_deref(),
        Some("platform-instances")
    );
    assert_eq!(
        found("profile")
            .live_attrs
            .as_ref()
            .map(|a| a["arn"].clone()),
        Some(serde_json::json!(profile_arn))
    );
    assert_eq!(
        found("platform").physical_id.as_deref(),
        Some("platform-ec2")
    );
    assert_eq!(plan.summary.add, 1, "{}", render_plan(&plan, false));
    d.apply(&plan).await;
    assert_eq!(
        cluster_capacity(&c, &format!("{}-cluster", stack.name))
            .await
            .0,
        vec!["platform-ec2".to_owned()]
    );
}
