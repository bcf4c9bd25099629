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

#[path = "../common/mod.rs"]
mod common;

mod engine;
mod fixture;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::TaskDefinitionStatus;
use common::{assert_reads_back, create, op, read_all, update, AppliedMap, EXEC_POLICY};
use iac_engine::provider::{ErrorKind, OpContext, Provider};
use iac_engine::report::RecordingReporter;
use iac_testkit::{Emulator, EmulatorOptions};
use serde_json::json;

use fixture::{
    attr, cluster_status, create_app, network, provider, service_status, shop_cluster_and_task,
    td_status, with_tags, ECR_READ_POLICY,
};

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
