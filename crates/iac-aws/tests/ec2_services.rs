//! ECS services on EC2 and service discovery, through the engine on the local emulator
//! (moto), with tests/fixtures/aws/ec2_services_stack.yaml: a private DNS namespace, a
//! bridge-mode service on EC2 behind an `instance` target group registering SRV records, and
//! an awsvpc service placed by a capacity provider strategy and a placement strategy
//! registering A records. They apply, re-plan clean, change their strategy, launch type and
//! TTL in place, and are destroyed to nothing (Cloud Map services and namespace included).
//!
//! Where the emulator is not AWS, and how that shapes these tests:
//! - No EC2 instance ever joins the cluster and no task is placed; `MOTO_ECS_SERVICE_RUNNING=2`
//!   (iac-testkit's default) makes every service report two running tasks, so both services
//!   ask for 2 and iac's wait for a steady service ends. A daemon reports a desired count of
//!   0 and no task: the fixture's daemon has `wait: false`.
//! - moto's CreateService drops `capacityProviderStrategy`, `placementStrategy` and
//!   `placementConstraints` (and answers `launchType: EC2` for a service created with a
//!   strategy); its UpdateService keeps them. The read reports the applied values where the
//!   answer has none (see `ecs/service/read.rs`), so the first re-plan is clean; what iac sent
//!   on create is checked through the update that follows, which moto keeps, and the
//!   `forceNewDeployment` of a strategy change by the unit test of the request
//!   (`ecs/service/tests.rs`), since no answer shows it.
//! - moto does not check that a capacity provider named in a strategy exists or is
//!   attached to the cluster: the provider names here are made up (the cluster lists them,
//!   as iac requires at plan time).
//! - moto's Cloud Map operations are `SUCCESS` at once, so the wait on `GetOperation` returns
//!   on its first poll; ECS registers no instance in it (no task runs).
//! - moto answers the namespace's hosted zone as `/hostedzone/Z...`; iac records `Z...`.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use aws_sdk_servicediscovery::types::{
    FilterCondition, RecordType, RoutingPolicy, ServiceFilter, ServiceFilterName,
};
use common::{changes, updated, Deployment};
use iac_aws::Clients;
use iac_engine::{render_plan, Action};
use iac_stack::Stack;
use iac_testkit::Emulator;

const FIXTURE: &str = "tests/fixtures/aws/ec2_services_stack.yaml";

fn load(vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
    common::load(FIXTURE, vars, edits)
}

/// The Cloud Map services of `namespace`: name -> (ARN, record type, TTL, routing).
async fn cloud_map(c: &Clients, namespace: &str) -> Vec<(String, String, RecordType, i64)> {
    let filter = ServiceFilter::builder()
        .name(ServiceFilterName::NamespaceId)
        .values(namespace)
        .condition(FilterCondition::Eq)
        .build()
        .unwrap();
    let listed = c
        .servicediscovery
        .list_services()
        .filters(filter)
        .send()
        .await
        .expect("ListServices");
    let mut out = Vec::new();
    for s in listed.services() {
        let got = c
            .servicediscovery
            .get_service()
            .id(s.id().unwrap())
            .send()
            .await
            .expect("GetService");
        let svc = got.service().unwrap();
        let dns = svc.dns_config().expect("a DNS config");
        assert_eq!(dns.routing_policy(), Some(&RoutingPolicy::Multivalue));
        assert_eq!(dns.dns_records().len(), 1);
        let r = &dns.dns_records()[0];
        // Custom health checks: ECS reports the tasks' health (the threshold is always 1).
        assert!(svc.health_check_custom_config().is_some(), "{svc:?}");
        out.push((
            svc.name().unwrap().to_owned(),
            svc.arn().unwrap().to_owned(),
            r.r#type().clone(),
            r.ttl(),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_services_with_discovery_apply_change_in_place_and_are_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let stack = load(&[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    d.apply(&d.plan(&stack).await).await;

    // The namespace: made through its asynchronous operation, waited on, read back.
    let ns = d.id("internal");
    assert!(ns.starts_with("ns-"), "{ns}");
    let got = c
        .servicediscovery
        .get_namespace()
        .id(&ns)
        .send()
        .await
        .expect("GetNamespace");
    let namespace = got.namespace().unwrap();
    assert_eq!(namespace.name(), Some("internal"));
    assert_eq!(d.attr("internal", "arn"), namespace.arn().unwrap());
    let zone = d.attr("internal", "hosted_zone");
    assert!(!zone.is_empty() && !zone.starts_with('/'), "{zone}");
    let tags = c
        .servicediscovery
        .list_tags_for_resource()
        .resource_arn(namespace.arn().unwrap())
        .send()
        .await
        .expect("ListTagsForResource");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "iac:stack" && t.value() == "ec2-services"),
        "{tags:?}"
    );

    // The Cloud Map services: one per service, with the DNS config `discovery` asked for.
    let registered = cloud_map(&c, &ns).await;
    let names: Vec<(&str, &RecordType, i64)> = registered
        .iter()
        .map(|(n, _, t, ttl)| (n.as_str(), t, *ttl))
        .collect();
    assert_eq!(
        names,
        [
            ("web", &RecordType::Srv, 10),
            ("worker", &RecordType::A, 10)
        ]
    );

    // `web`: bridge mode on EC2, in the instance target group by container and port, no
    // network configuration, its registry the `web` Cloud Map service with its container.
    let cluster = d.attr("cluster", "arn");
    let web = common::ecs_service(&c, &cluster, &d.state.resources["web"].physical_id).await;
    assert_eq!(web.launch_type().map(|l| l.as_str()), Some("EC2"));
    assert!(
        web.network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .is_none(),
        "{:?}",
        web.network_configuration()
    );
    let lb = &web.load_balancers()[0];
    assert_eq!(
        lb.target_group_arn(),
        Some(d.attr("web_tg", "arn").as_str())
    );
    assert_eq!(
        (lb.container_name(), lb.container_port()),
        (Some("app"), Some(80))
    );
    let reg = &web.service_registries()[0];
    assert_eq!(reg.registry_arn(), Some(registered[0].1.as_str()));
    assert_eq!(
        (reg.container_name(), reg.container_port()),
        (Some("app"), Some(80))
    );
    assert_eq!(d.attr("web", "discovery_arn"), registered[0].1);
    // The bridge task definition: dynamic host port, EC2 only, no task-level size.
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(d.attr("web_task", "arn"))
        .send()
        .await
        .expect("DescribeTaskDefinition");
    let td = td.task_definition().unwrap();
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("bridge"));
    assert_eq!(
        td.requires_compatibilities()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["EC2"]
    );
    assert_eq!((td.cpu(), td.memory()), (None, None));
    let placed = &td.placement_constraints()[0];
    assert_eq!(
        (placed.r#type().map(|t| t.as_str()), placed.expression()),
        (Some("memberOf"), Some("attribute:ecs.os-type == linux"))
    );
    assert_eq!(
        td.container_definitions()[0].port_mappings()[0].host_port(),
        Some(0)
    );

    // `worker`: awsvpc, A records, its registry without a container.
    let worker_arn = d.id("worker");
    let worker = common::ecs_service(&c, &cluster, &worker_arn).await;
    assert!(worker.network_configuration().is_some());
    assert_eq!(
        worker.service_registries()[0].registry_arn(),
        Some(registered[1].1.as_str())
    );
    assert_eq!(worker.service_registries()[0].container_name(), None);

    // `agent`: a daemon, created without a desired count.
    let agent_arn = d.id("agent");
    let agent = common::ecs_service(&c, &cluster, &agent_arn).await;
    assert_eq!(
        agent.scheduling_strategy().map(|s| s.as_str()),
        Some("DAEMON")
    );
    assert!(agent.service_registries().is_empty());

    // Re-planned clean; the Cloud Map services of both read with one listing.
    aws.requests().reset();
    d.assert_clean(&stack).await;
    assert_eq!(
        aws.requests().count("servicediscovery", "ListServices"),
        1,
        "{:?}",
        aws.requests().snapshot()
    );
    assert_eq!(
        aws.requests().count("servicediscovery", "ListNamespaces"),
        1
    );

    // A new strategy is an in-place update: UpdateService with the strategy (which moto
    // keeps, so it shows here) and a new deployment; never a replacement.
    let spot = [("provider", "ec2-ondemand")];
    let change = d.plan(&load(&spot, &[])).await;
    assert_eq!(
        changes(&change),
        vec![updated(
            "worker",
            &["capacity_provider_strategy[0].capacity_provider"]
        )],
        "{}",
        render_plan(&change, false)
    );
    aws.requests().reset();
    d.apply(&change).await;
    assert_eq!(aws.requests().count("ecs", "CreateService"), 0);
    assert_eq!(aws.requests().count("ecs", "DeleteService"), 0);
    assert_eq!(aws.requests().count("ecs", "UpdateService"), 1);
    assert_eq!(d.state.resources["worker"].physical_id, worker_arn);
    let worker = common::ecs_service(&c, &cluster, &worker_arn).await;
    let sent: Vec<(&str, i32)> = worker
        .capacity_provider_strategy()
        .iter()
        .map(|i| (i.capacity_provider(), i.weight()))
        .collect();
    assert_eq!(sent, [("ec2-ondemand", 1)]);
    d.assert_clean(&load(&spot, &[])).await;

    // The TTL changes in place, on the Cloud Map service.
    let ttl = [("provider", "ec2-ondemand"), ("ttl", "30")];
    d.change(
        &load(&ttl, &[]),
        vec![updated("worker", &["discovery.ttl"])],
    )
    .await;
    let after: Vec<(String, i64)> = cloud_map(&c, &ns)
        .await
        .into_iter()
        .map(|(n, _, _, ttl)| (n, ttl))
        .collect();
    assert_eq!(after, [("web".to_owned(), 10), ("worker".to_owned(), 30)]);
    d.assert_clean(&load(&ttl, &[])).await;

    // `discovery` removed, then added again: both in place. The registry goes from the ECS
    // service and its Cloud Map service is deleted; then a new one is made and named.
    let no_discovery = [(
        "    discovery:\n      namespace: ${internal.id}\n      name: worker\n      ttl: ${var.ttl}\n",
        "",
    )];
    d.change(
        &load(&ttl, &no_discovery),
        vec![updated("worker", &["discovery"])],
    )
    .await;
    assert!(common::ecs_service(&c, &cluster, &worker_arn)
        .await
        .service_registries()
        .is_empty());
    let names: Vec<String> = cloud_map(&c, &ns).await.into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["web"]);
    d.assert_clean(&load(&ttl, &no_discovery)).await;
    let again = d.plan(&load(&ttl, &[])).await;
    assert_eq!(changes(&again), vec![updated("worker", &["discovery"])]);
    d.apply(&again).await;
    let registered = cloud_map(&c, &ns).await;
    assert_eq!(registered.len(), 2);
    assert_eq!((registered[1].0.as_str(), registered[1].3), ("worker", 30));
    assert_eq!(
        common::ecs_service(&c, &cluster, &worker_arn)
            .await
            .service_registries()[0]
            .registry_arn(),
        Some(registered[1].1.as_str())
    );
    d.assert_clean(&load(&ttl, &[])).await;

    // From a launch type to a strategy, and back: in place (an empty strategy goes back).
    let to_strategy = [(
        "    launch_type: EC2\n",
        "    capacity_provider_strategy:\n      - capacity_provider: ec2-ondemand\n",
    )];
    let web_arn = d.id("web");
    for edits in [&to_strategy[..], &[]] {
        let moved = d.plan(&load(&ttl, edits)).await;
        let got = changes(&moved);
        assert_eq!(got.len(), 1, "{}", render_plan(&moved, false));
        assert_eq!((got[0].0.as_str(), got[0].1), ("web", Action::Update));
        d.apply(&moved).await;
        assert_eq!(d.state.resources["web"].physical_id, web_arn);
        let web = common::ecs_service(&c, &cluster, &web_arn).await;
        assert_eq!(web.capacity_provider_strategy().len(), edits.len());
        d.assert_clean(&load(&ttl, edits)).await;
    }

    // `worker` from its strategy to `launch_type: EC2`: in place. From one launch type to
    // the other: a replacement (UpdateService cannot change it), planned, not applied.
    const STRATEGY: &str =
        "    capacity_provider_strategy:\n      - capacity_provider: ${var.provider}\n        weight: 1\n";
    let ec2 = [(STRATEGY, "    launch_type: EC2\n")];
    let to_ec2 = d.plan(&load(&ttl, &ec2)).await;
    let got = changes(&to_ec2);
    assert_eq!(got.len(), 1, "{}", render_plan(&to_ec2, false));
    assert_eq!((got[0].0.as_str(), got[0].1), ("worker", Action::Update));
    d.apply(&to_ec2).await;
    d.assert_clean(&load(&ttl, &ec2)).await;
    // Fargate places its tasks itself: the placement strategy goes too
    // (iac::service::placement_on_fargate).
    let fargate = [
        (STRATEGY, "    launch_type: FARGATE\n"),
        (
            "    placement_strategy:\n      - { type: binpack, field: memory }\n",
            "",
        ),
    ];
    let replace = d.plan(&load(&ttl, &fargate)).await;
    let worker_change = replace
        .changes
        .iter()
        .find(|c| c.name == "worker")
        .expect("a change of worker");
    assert_eq!(
        worker_change.action,
        Action::Replace,
        "{}",
        render_plan(&replace, false)
    );
    assert_eq!(
        worker_change.replace.as_ref().map(|r| r.forced_by.clone()),
        Some(vec!["launch_type".to_owned()])
    );

    // Destroyed to nothing: the ECS services, then their Cloud Map services, then the
    // namespace (which Cloud Map refuses to delete while it has services).
    d.destroy(&load(&ttl, &ec2)).await;
    let left = c
        .servicediscovery
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces");
    assert!(left.namespaces().is_empty(), "{:?}", left.namespaces());
    let services = c
        .servicediscovery
        .list_services()
        .send()
        .await
        .expect("ListServices");
    assert!(services.services().is_empty(), "{:?}", services.services());
    for arn in [&web_arn, &worker_arn, &agent_arn] {
        let s = c
            .ecs
            .describe_services()
            .cluster(&cluster)
            .services(arn)
            .send()
            .await;
        let gone = match s {
            Ok(s) => s.services().iter().all(|s| s.status() == Some("INACTIVE")),
            Err(_) => true,
        };
        assert!(gone, "{arn}");
    }
}
