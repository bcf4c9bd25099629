//! The app types (`aws.ecs_cluster`, `aws.log_group`, `aws.iam_role`, `aws.ecr_repository`,
//! `aws.task_definition`, `aws.ecs_service`) through [`AwsProvider`] against the local
//! emulator (moto): create, read back without drift, update (a new image registers the
//! next revision and the service rolls to it), batched reads, delete, and nothing left.
//!
//! The provider is driven the way the engine drives it: resolved inputs in the stack
//! format's shape, with the engine's tags and top-level defaults filled in. The network the
//! service runs in (VPC, subnets, security group, target group) is made with the SDK
//! directly: it is the fixture here, and the network and edge types have their own tests.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::TaskDefinitionStatus;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
use common::{assert_reads_back, create, op, read_all, update, AppliedMap};
use iac_aws::AwsProvider;
use iac_engine::provider::{ErrorKind, OpContext, Provider};
use iac_engine::report::RecordingReporter;
use iac_testkit::{Emulator, EmulatorOptions};
use serde_json::{json, Value as Json};

const STACK: &str = "shop";
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const ECR_READ_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// The network a service needs: two subnets in two zones, a security group and a target
/// group of type `ip` for the load balancer block.
struct Network {
    subnets: Vec<String>,
    security_group: String,
    target_group: String,
}

async fn network(p: &AwsProvider) -> Network {
    let ec2 = &p.aws().clients().ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.9.1.0/24", "us-east-1a"), ("10.9.2.0/24", "us-east-1b")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .expect("CreateSubnet");
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_owned(),
        );
    }
    let security_group = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("shop-app")
        .description("the app's tasks")
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .expect("group id")
        .to_owned();
    let target_group = p
        .aws()
        .clients()
        .elbv2
        .create_target_group()
        .name("shop-app")
        .vpc_id(&vpc)
        .port(80)
        .protocol(ProtocolEnum::Http)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .expect("target group arn")
        .to_owned();
    Network {
        subnets,
        security_group,
        target_group,
    }
}

/// The engine's tags for `name` of this stack on top of the user's.
fn with_tags(name: &str, inputs: Json, user: &[(&str, &str)]) -> Json {
    common::with_tags(STACK, name, inputs, user)
}

fn attr(stack: &AppliedMap, name: &str, attr: &str) -> Json {
    stack[name].attrs[attr].clone()
}

/// The app part of the lemon-mart stack, created in dependency order.
async fn create_app(p: &AwsProvider, net: &Network) -> AppliedMap {
    let mut stack = AppliedMap::new();
    create(
        p,
        &mut stack,
        "logs",
        "aws.log_group",
        &json!({"name": "/iac/shop/logs", "retention_days": 7}),
    )
    .await;
    create(
        p,
        &mut stack,
        "exec_role",
        "aws.iam_role",
        &json!({"name": "shop-exec_role", "assumed_by": "ecs-tasks.amazonaws.com", "managed_policies": [EXEC_POLICY]}),
    )
    .await;
    create(
        p,
        &mut stack,
        "repo",
        "aws.ecr_repository",
        &json!({"name": "shop-repo", "scan_on_push": false, "immutable_tags": false, "force_delete": false}),
    )
    .await;
    create(
        p,
        &mut stack,
        "cluster",
        "aws.ecs_cluster",
        &json!({"name": "shop-cluster", "container_insights": false}),
    )
    .await;
    let image = format!(
        "{}:v1",
        attr(&stack, "repo", "url").as_str().expect("repo url")
    );
    create(
        p,
        &mut stack,
        "task",
        "aws.task_definition",
        &json!({
            "family": "shop-task",
            "cpu": 256,
            "memory": 512,
            "execution_role": "${exec_role.arn}",
            "architecture": "X86_64",
            "containers": [{
                "name": "web",
                "image": image,
                "port": 80,
                "command": ["nginx", "-g", "daemon off;"],
                "environment": {"Z_LAST": "z", "A_FIRST": "a", "MODE": "production"},
                "secrets": {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/shop/db"},
                "log_group": "${logs.name}",
            }],
        }),
    )
    .await;
    create(
        p,
        &mut stack,
        "service",
        "aws.ecs_service",
        &json!({
            "name": "shop-service",
            "cluster": "${cluster.arn}",
            "task_definition": "${task.arn}",
            "desired_count": 2,
            "subnets": [net.subnets[1], net.subnets[0]],
            "security_groups": [net.security_group],
            "assign_public_ip": false,
            "load_balancer": {"target_group": net.target_group, "container": "web", "port": 80},
            "deployment": {"min_healthy_percent": 50, "max_percent": 200, "circuit_breaker": "rollback"},
            "health_check_grace_period": 30,
            "enable_execute_command": false,
            "propagate_tags": "SERVICE",
            "enable_ecs_managed_tags": false,
            "wait": true,
            "wait_timeout": 120,
        }),
    )
    .await;
    stack
}

/// Creates the cluster `shop-cluster` and the task definition `shop-task` (256 CPU, 512 MiB)
/// of the one container `container`.
async fn shop_cluster_and_task(p: &AwsProvider, stack: &mut AppliedMap, container: Json) {
    create(
        p,
        stack,
        "cluster",
        "aws.ecs_cluster",
        &json!({"name": "shop-cluster", "container_insights": false}),
    )
    .await;
    create(
        p,
        stack,
        "task",
        "aws.task_definition",
        &json!({"family": "shop-task", "cpu": 256, "memory": 512, "containers": [container]}),
    )
    .await;
}

async fn td_status(p: &AwsProvider, arn: &str) -> Option<TaskDefinitionStatus> {
    p.aws()
        .clients()
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .ok()
        .and_then(|r| r.task_definition().and_then(|t| t.status().cloned()))
}

async fn service_status(p: &AwsProvider, cluster: &str, service: &str) -> Option<String> {
    common::find_ecs_service(p.aws().clients(), cluster, service)
        .await
        .and_then(|s| s.status().map(str::to_owned))
}

async fn cluster_status(p: &AwsProvider, cluster: &str) -> Option<String> {
    common::cluster_status(p.aws().clients(), cluster).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_resources_are_created_read_back_updated_and_deleted() {
    let emulator = Emulator::start();
    let p = provider(&emulator).await;
    let net = network(&p).await;
    let mut stack = create_app(&p, &net).await;

    // The first revision, the attributes the service and others read.
    let td1 = attr(&stack, "task", "arn")
        .as_str()
        .expect("arn")
        .to_owned();
    assert!(td1.ends_with("task-definition/shop-task:1"), "{td1}");
    assert_eq!(attr(&stack, "task", "revision"), json!(1));
    // The physical id is the family: it stays the same while revisions come and go.
    assert_eq!(stack["task"].id, "shop-task");
    assert!(attr(&stack, "repo", "url")
        .as_str()
        .unwrap()
        .ends_with("/shop-repo"));
    assert!(attr(&stack, "exec_role", "arn")
        .as_str()
        .unwrap()
        .ends_with(":role/shop-exec_role"));

    // Read back: nothing drifted, in one call per type (and per cluster for services).
    let requests = p.aws().requests();
    requests.reset();
    assert_reads_back(&p, &stack).await;
    for (service, operation) in [
        ("ecs", "DescribeClusters"),
        ("ecs", "DescribeServices"),
        ("ecs", "DescribeTaskDefinition"),
        ("logs", "DescribeLogGroups"),
        ("ecr", "DescribeRepositories"),
        ("iam", "GetRole"),
        ("iam", "ListAttachedRolePolicies"),
    ] {
        assert_eq!(
            requests.count(service, operation),
            1,
            "{service}:{operation}"
        );
    }
    // ECS returns tags with the describes; no per-resource tag calls for them.
    assert_eq!(requests.count("ecs", "ListTagsForResource"), 0);

    // A new image: the next revision of the family, and the service rolls to it.
    let mut task = stack["task"].inputs.clone();
    let image2 = format!("{}:v2", attr(&stack, "repo", "url").as_str().unwrap());
    task["containers"][0]["image"] = json!(image2);
    let td_attrs = update(&p, &mut stack, "task", task, &["containers[0].image"]).await;
    let td2 = td_attrs["arn"].as_str().expect("arn").to_owned();
    assert!(td2.ends_with("task-definition/shop-task:2"), "{td2}");
    assert_eq!(td_attrs["revision"], json!(2));
    assert_eq!(
        td_status(&p, &td1).await,
        Some(TaskDefinitionStatus::Active)
    );

    let mut service = stack["service"].inputs.clone();
    service["task_definition"] = json!(td2);
    service["desired_count"] = json!(3);
    let reporter = Arc::new(RecordingReporter::default());
    let svc = stack["service"].clone();
    let svc_attrs = p
        .update(
            &OpContext::new("service", reporter.clone()),
            svc.rtype,
            "service",
            &svc.id,
            &svc.inputs,
            &service,
            &["task_definition".to_owned(), "desired_count".to_owned()],
        )
        .await
        .expect("updating the service");
    // `live_desired_count` is now 3.
    stack.get_mut("service").unwrap().attrs = svc_attrs;
    stack.get_mut("service").unwrap().inputs = service;
    // The service moved off revision 1, so it is deregistered; revision 2 stays.
    assert_eq!(
        td_status(&p, &td1).await,
        Some(TaskDefinitionStatus::Inactive)
    );
    assert_eq!(
        td_status(&p, &td2).await,
        Some(TaskDefinitionStatus::Active)
    );

    // Retention, policies, scanning, insights and tags change in place.
    let mut logs = stack["logs"].inputs.clone();
    logs["retention_days"] = json!(30);
    update(&p, &mut stack, "logs", logs, &["retention_days"]).await;
    let mut role = stack["exec_role"].inputs.clone();
    role["managed_policies"] = json!([EXEC_POLICY, ECR_READ_POLICY]);
    role["tags"]["team"] = json!("web");
    update(
        &p,
        &mut stack,
        "exec_role",
        role,
        &["managed_policies[1]", "tags.team"],
    )
    .await;
    let mut repo = stack["repo"].inputs.clone();
    // From off to on: the SDK leaves `scanOnPush: false` out of the request (it is the
    // model's default), which moto then ignores, so the other direction is not testable.
    repo["scan_on_push"] = json!(true);
    repo["immutable_tags"] = json!(true);
    update(
        &p,
        &mut stack,
        "repo",
        repo,
        &["scan_on_push", "immutable_tags"],
    )
    .await;
    let mut cluster = stack["cluster"].inputs.clone();
    cluster["container_insights"] = json!(true);
    cluster["tags"]["team"] = json!("web");
    update(
        &p,
        &mut stack,
        "cluster",
        cluster,
        &["container_insights", "tags.team"],
    )
    .await;

    assert_reads_back(&p, &stack).await;

    // Retention removed: events are kept forever, and the property reads back omitted.
    let mut logs = stack["logs"].inputs.clone();
    logs.as_object_mut().unwrap().remove("retention_days");
    update(&p, &mut stack, "logs", logs, &["retention_days"]).await;
    // A policy detached again: the list is exact.
    let mut role = stack["exec_role"].inputs.clone();
    role["managed_policies"] = json!([EXEC_POLICY]);
    role["tags"].as_object_mut().unwrap().remove("team");
    update(
        &p,
        &mut stack,
        "exec_role",
        role,
        &["managed_policies[1]", "tags.team"],
    )
    .await;
    assert_reads_back(&p, &stack).await;

    // Delete in the engine's reverse dependency order.
    let cluster_arn = attr(&stack, "cluster", "arn").as_str().unwrap().to_owned();
    let service_arn = stack["service"].id.clone();
    for name in ["service", "task", "cluster", "repo", "exec_role", "logs"] {
        if name == "cluster" {
            // The service's delete returned only once it was INACTIVE: the cluster delete
            // never meets an active service.
            assert_eq!(
                service_status(&p, &cluster_arn, &service_arn)
                    .await
                    .as_deref(),
                Some("INACTIVE")
            );
        }
        common::delete(&p, &stack, name).await;
    }

    // Nothing is left: every read misses, and the services' own lists agree.
    let live = read_all(&p, &stack).await;
    for (name, found) in &live {
        assert!(found.is_none(), "`{name}` is still there: {found:?}");
    }
    let clients = p.aws().clients();
    assert_eq!(
        cluster_status(&p, &cluster_arn).await.as_deref(),
        Some("INACTIVE")
    );
    let active = clients
        .ecs
        .list_task_definitions()
        .family_prefix("shop-task")
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("ListTaskDefinitions");
    assert!(
        active.task_definition_arns().is_empty(),
        "{:?}",
        active.task_definition_arns()
    );
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/iac/shop")
        .send()
        .await
        .expect("DescribeLogGroups");
    assert!(groups.log_groups().is_empty(), "{:?}", groups.log_groups());
    let roles = clients.iam.list_roles().send().await.expect("ListRoles");
    assert!(
        roles
            .roles()
            .iter()
            .all(|r| !r.role_name().starts_with("shop-")),
        "{:?}",
        roles.roles()
    );
    let repos = clients
        .ecr
        .describe_repositories()
        .send()
        .await
        .expect("DescribeRepositories");
    assert!(
        repos.repositories().is_empty(),
        "{:?}",
        repos.repositories()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_is_not_deleted_while_a_service_in_it_is_active() {
    let emulator = Emulator::start();
    let p = provider(&emulator).await;
    let net = network(&p).await;
    let mut stack = AppliedMap::new();
    shop_cluster_and_task(
        &p,
        &mut stack,
        json!({"name": "web", "image": "nginx:1.27", "port": 80}),
    )
    .await;
    create(
        &p,
        &mut stack,
        "service",
        "aws.ecs_service",
        &json!({
            "name": "shop-service",
            "cluster": "${cluster.arn}",
            "task_definition": "${task.arn}",
            "desired_count": 2,
            "subnets": net.subnets,
            // moto fails CreateService without security groups (AWS would use the VPC's
            // default group), so they are given.
            "security_groups": [net.security_group],
            "assign_public_ip": false,
            "enable_execute_command": false,
            "propagate_tags": "SERVICE",
            "enable_ecs_managed_tags": false,
            "wait": true,
            "wait_timeout": 60,
        }),
    )
    .await;
    // Omitted optional blocks read back omitted.
    assert_reads_back(&p, &stack).await;

    // The cluster's delete starts first (the emulator would accept it and orphan the
    // service; AWS would refuse it). It must wait for the service, not call DeleteCluster.
    let requests = p.aws().requests().clone();
    requests.reset();
    let cluster = stack["cluster"].clone();
    let deleting = {
        let p = p.clone();
        tokio::spawn(async move {
            p.delete(
                &op("cluster"),
                cluster.rtype,
                "cluster",
                &cluster.id,
                &cluster.inputs,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        requests.count("ecs", "DeleteCluster"),
        0,
        "DeleteCluster sent while the service is active"
    );
    let cluster_arn = stack["cluster"].id.clone();
    assert_eq!(
        cluster_status(&p, &cluster_arn).await.as_deref(),
        Some("ACTIVE")
    );

    let service = &stack["service"];
    p.delete(
        &op("service"),
        service.rtype,
        "service",
        &service.id,
        &service.inputs,
    )
    .await
    .expect("deleting the service");
    tokio::time::timeout(Duration::from_secs(60), deleting)
        .await
        .expect("the cluster delete finishes once the service is gone")
        .expect("the task did not panic")
        .expect("deleting the cluster");
    assert_eq!(requests.count("ecs", "DeleteCluster"), 1);
    assert_eq!(
        cluster_status(&p, &cluster_arn).await.as_deref(),
        Some("INACTIVE")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_never_becomes_steady_fails_after_wait_timeout_with_its_state() {
    // moto reports 0 running tasks: the deployment stays IN_PROGRESS.
    let emulator = Emulator::start_with(EmulatorOptions {
        ecs_service_running: 0,
        ..EmulatorOptions::default()
    });
    let p = provider(&emulator).await;
    let net = network(&p).await;
    let mut stack = AppliedMap::new();
    shop_cluster_and_task(
        &p,
        &mut stack,
        json!({"name": "web", "image": "nginx:1.27"}),
    )
    .await;
    let inputs = with_tags(
        "service",
        json!({
            "name": "shop-service",
            "cluster": attr(&stack, "cluster", "arn"),
            "task_definition": attr(&stack, "task", "arn"),
            "desired_count": 2,
            "subnets": net.subnets,
            "security_groups": [net.security_group],
            "wait": true,
            "wait_timeout": 3,
        }),
        &[],
    );
    let reporter = Arc::new(RecordingReporter::default());
    let started = std::time::Instant::now();
    let err = p
        .create(
            &OpContext::new("service", reporter.clone()),
            "aws.ecs_service",
            "service",
            &inputs,
        )
        .await
        .expect_err("the service never becomes steady");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind, ErrorKind::Fatal);
    assert!(
        err.message
            .contains("was not steady after `wait_timeout` (3s)"),
        "{err}"
    );
    assert!(
        err.message.contains("running 0/2, deployment IN_PROGRESS"),
        "{err}"
    );
    assert!(err.message.contains("last events"), "{err}");
    // The progress line was reported while waiting.
    let events = format!("{:?}", reporter.events());
    assert!(
        events.contains("running 0/2, deployment IN_PROGRESS"),
        "{events}"
    );
}

// ---------------------------------------------------------------------------------------
// Through the engine: apply, plan clean, deploy a new image, scale, destroy.
// ---------------------------------------------------------------------------------------

mod engine {

    use aws_sdk_ecs::types::TaskDefinitionStatus;

    use iac_engine::{plan_destroy, render_plan, PlanOptions};
    use iac_stack::Stack;
    use iac_testkit::Emulator;

    use crate::common::{self, changes, updated, Deployment};

    fn load(vars: &[(&str, &str)]) -> Stack {
        common::load("tests/fixtures/aws/app_stack.yaml", vars, &[])
    }

    /// Everything of stack `name` still live, as `kind id` strings, looked up by tag and by
    /// name across every service the stacks use. Deleted clusters (INACTIVE) and the zone's
    /// own NS and SOA records do not count; deregistered revisions not deleted do.
    async fn leftovers(
        aws: &iac_aws::AwsContext,
        name: &str,
        zone_id: Option<&str>,
    ) -> Vec<String> {
        let zones: Vec<String> = zone_id.map(str::to_owned).into_iter().collect();
        common::stack_leftovers(aws.clients(), name, &zones).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_app_stack_deploys_a_new_image_scales_and_is_destroyed() {
        let emulator = Emulator::start();
        let aws = common::context(&emulator).await;
        let stack = load(&[]);
        let mut d = Deployment::new(&aws, &stack);

        d.create(&stack).await;

        // Nothing changed: no new revision, and every read is one call.
        aws.requests().reset();
        d.assert_clean(&stack).await;
        for (op, n) in aws.requests().snapshot() {
            assert_eq!(n, 1, "{op} was called {n} times");
        }

        // CI deploys a new image: a new revision of the task definition and the service
        // moving to it, nothing else.
        let image2 = [("image", "public.ecr.aws/nginx/nginx:1.28")];
        let deploy = d.plan(&load(&image2)).await;
        assert_eq!(
            changes(&deploy),
            vec![
                updated("task", &["containers[0].image"]),
                updated("web", &["task_definition"]),
            ],
            "{}",
            render_plan(&deploy, false)
        );
        // The container definition's diff is the image line and nothing else: what AWS
        // reordered or filled in does not show.
        let rendered = render_plan(&deploy, false);
        let diff_lines: Vec<&str> = rendered
            .lines()
            .map(str::trim_start)
            .filter(|l| (l.starts_with("- ") || l.starts_with("+ ")) && l.contains('"'))
            .collect();
        assert_eq!(
            diff_lines,
            [
                "-     \"image\": \"public.ecr.aws/nginx/nginx:1.27\",",
                "+     \"image\": \"public.ecr.aws/nginx/nginx:1.28\","
            ],
            "{rendered}"
        );
        let rev1 = d.attr("task", "arn");
        d.apply(&deploy).await;
        let rev2 = d.attr("task", "arn");
        assert!(rev2.ends_with(":2"), "{rev2}");
        assert_eq!(d.state.resources["task"].physical_id, "app-engine-task");
        let ecs = aws.clients().ecs.clone();
        let service = ecs
            .describe_services()
            .cluster(d.id("cluster"))
            .services(d.id("web"))
            .send()
            .await
            .expect("DescribeServices");
        assert_eq!(service.services()[0].task_definition(), Some(rev2.as_str()));
        let old = ecs
            .describe_task_definition()
            .task_definition(&rev1)
            .send()
            .await
            .expect("DescribeTaskDefinition");
        assert_eq!(
            old.task_definition().and_then(|t| t.status()),
            Some(&TaskDefinitionStatus::Inactive),
            "the revision the service moved off is deregistered"
        );
        d.assert_clean(&load(&image2)).await;

        // Scale: only the desired count.
        let scaled = [("image", "public.ecr.aws/nginx/nginx:1.28"), ("tasks", "3")];
        d.change(&load(&scaled), vec![updated("web", &["desired_count"])])
            .await;
        d.assert_clean(&load(&scaled)).await;

        // Destroy: the service is gone (INACTIVE) before the cluster delete starts.
        let destroy =
            plan_destroy(&load(&scaled), &d.state, &PlanOptions::default()).expect("plan destroy");
        assert_eq!(destroy.summary.destroy, stack.resources.len());
        let cluster_arn = d.id("cluster");
        let events = d.apply(&destroy).await;
        // The service is gone before the cluster's delete starts; the role outlives its
        // task definitions.
        common::assert_deleted_before(&events, &[("web", "cluster"), ("task", "execution_role")]);
        assert!(
            d.state.resources.is_empty(),
            "{:?}",
            d.state.resources.keys()
        );

        // Nothing of the stack is left, by name and by tag.
        assert_eq!(
            common::cluster_status(aws.clients(), &cluster_arn)
                .await
                .as_deref(),
            Some("INACTIVE")
        );
        assert_eq!(
            leftovers(&aws, &stack.name, None).await,
            Vec::<String>::new()
        );
    }

    /// The whole example stack, as `just demo` runs it: apply from nothing, plan clean,
    /// deploy a new image (a new revision and the service update, nothing else), scale,
    /// destroy, and nothing of the stack left.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lemon_mart_deploys_a_new_image_and_is_destroyed() {
        let emulator = Emulator::start();
        let aws = common::context(&emulator).await;
        // The hosted zone is `existing: true`: it must be there before.
        let zone_id = common::create_zone(aws.clients(), "example.com", "lemon-mart-test").await;
        let load = |vars: &[(&str, &str)]| common::load("stacks/lemon-mart.yaml", vars, &[]);
        let stack = load(&[]);
        let mut d = Deployment::new(&aws, &stack);

        let first = d.plan(&stack).await;
        d.apply(&first).await;
        d.assert_clean(&stack).await;

        let image2 = [("image", "public.ecr.aws/nginx/nginx:1.28")];
        d.change(
            &load(&image2),
            vec![
                updated("task", &["containers[0].image"]),
                updated("web", &["task_definition"]),
            ],
        )
        .await;
        d.assert_clean(&load(&image2)).await;

        let scaled = [("image", "public.ecr.aws/nginx/nginx:1.28"), ("tasks", "3")];
        d.change(&load(&scaled), vec![updated("web", &["desired_count"])])
            .await;
        d.assert_clean(&load(&scaled)).await;

        let destroy =
            plan_destroy(&load(&scaled), &d.state, &PlanOptions::default()).expect("plan destroy");
        let events = d.apply(&destroy).await;
        common::assert_deleted_before(&events, &[("web", "cluster")]);
        assert!(
            d.state.resources.is_empty(),
            "{:?}",
            d.state.resources.keys()
        );
        assert_eq!(
            leftovers(&aws, &stack.name, Some(&zone_id)).await,
            Vec::<String>::new()
        );
        // The zone was only looked up: it stays.
        aws.clients()
            .route53
            .get_hosted_zone()
            .id(&zone_id)
            .send()
            .await
            .expect("the existing zone is kept");
    }
}
