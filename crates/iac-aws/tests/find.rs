//! `Provider::find` of every type against the local emulator (moto): nothing is found before
//! a create, the created object is found after it (this stack's, read exactly as `read`
//! reads it), and objects of someone else that hold the stack's names are found as
//! foreign, make the create fail with `Conflict`, and are left exactly as they were.
//!
//! The provider is driven the way the engine drives it: resolved inputs in the stack
//! format's shape, with the engine's tags and the schema's defaults filled in.
//!
//! Moto gaps (5.2.5) that shape these tests and the provider:
//! - A Route 53 `CREATE` of a name and type that exist with another value is accepted and
//!   keeps both record sets (moto refuses only a change identical to one in its journal;
//!   AWS answers `InvalidChangeBatch`). The provider looks the record up before its
//!   CREATE, which the foreign record below relies on.
//! - `CreateCluster` and `CreateService` with a name in use replace the existing object
//!   (AWS answers with the existing cluster, and refuses the service), and
//!   `CreateLoadBalancer` with a name in use makes a second balancer (AWS answers with the
//!   existing one when the settings match). The provider looks these up before creating.
//! - `CreateHostedZone` never answers `HostedZoneAlreadyExists` for a caller reference used
//!   before, so the `Conflict` of a reused reference is not exercised here.
//! - `CreateService` ignores `clientToken`, and Route 53 stores caller references without
//!   checking them: a create retried with the same token is not idempotent in moto, so no
//!   test retries one.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_iam::types::Tag as IamTag;
use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use common::{change_records, create_inputs, create_with, keep, op, AppliedMap};
use iac_aws::AwsProvider;
use iac_engine::provider::{ErrorKind, Existing, Provider, ReadRequest};
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

const STACK: &str = "find";
const ZONE: &str = "find-test.example.com";
const DOMAIN: &str = "app.find-test.example.com";
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// A stack like lemon-mart with one resource of every type, in dependency order; `${A.B}`
/// strings are resolved from the attributes of resources created before.
fn lemon_mart_like() -> Vec<common::Resource> {
    let mut stack = common::nat_network(false);
    stack.extend([
        (
            "alb_sg",
            "aws.security_group",
            json!({
                "vpc": "${vpc.id}",
                "description": "the load balancer",
                "ingress": [
                    {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"},
                    {"protocol": "tcp", "port": 80, "cidr": "0.0.0.0/0"},
                ],
            }),
        ),
        (
            "app_sg",
            "aws.security_group",
            json!({
                "vpc": "${vpc.id}",
                "description": "the app's tasks",
                "ingress": [{"protocol": "tcp", "port": 80, "source": "${alb_sg.id}"}],
            }),
        ),
    ]);
    stack.extend(common::web_edge(ZONE, DOMAIN, "find-alb"));
    stack.push(common::web_target_group("find-web-tg"));
    stack.extend(common::web_listeners());
    stack.extend(common::site_records(ZONE, DOMAIN));
    stack.extend([
        (
            "logs",
            "aws.log_group",
            json!({"name": "/iac/find/logs", "retention_days": 7}),
        ),
        (
            "exec_role",
            "aws.iam_role",
            json!({"name": "find-exec_role", "assumed_by": "ecs-tasks.amazonaws.com", "managed_policies": [EXEC_POLICY]}),
        ),
        (
            "repo",
            "aws.ecr_repository",
            json!({"name": "find-repo", "scan_on_push": false, "immutable_tags": false, "force_delete": false}),
        ),
        (
            "cluster",
            "aws.ecs_cluster",
            json!({"name": "find-cluster", "container_insights": false}),
        ),
        (
            "task",
            "aws.task_definition",
            json!({
                "family": "find-task",
                "cpu": 256,
                "memory": 512,
                "execution_role": "${exec_role.arn}",
                "architecture": "X86_64",
                "containers": [{
                    "name": "web",
                    "image": "public.ecr.aws/nginx/nginx:1.27",
                    "port": 80,
                    "environment": {"MODE": "production"},
                    "log_group": "${logs.name}",
                }],
            }),
        ),
        (
            "service",
            "aws.ecs_service",
            json!({
                "name": "find-service",
                "cluster": "${cluster.arn}",
                "task_definition": "${task.arn}",
                "desired_count": 1,
                "subnets": ["${private_a.id}"],
                "security_groups": ["${app_sg.id}"],
                "assign_public_ip": false,
                "load_balancer": {"target_group": "${web_tg.arn}", "container": "web", "port": 80},
                "deployment": {"min_healthy_percent": 50, "max_percent": 200, "circuit_breaker": "rollback"},
                "health_check_grace_period": 30,
                "enable_execute_command": false,
                "propagate_tags": "SERVICE",
                "enable_ecs_managed_tags": false,
                "wait": false,
                "wait_timeout": 120,
            }),
        ),
    ]);
    stack
}

/// What the type's own read returns for the object `id` created with `inputs`.
async fn read_one(
    p: &AwsProvider,
    rtype: &str,
    name: &str,
    id: &str,
    inputs: &Json,
    attrs: &Json,
) -> Option<iac_engine::provider::Live> {
    let request = ReadRequest {
        name: name.to_owned(),
        physical_id: id.to_owned(),
        last_inputs: inputs.clone(),
        last_attrs: attrs.clone(),
    };
    p.read(rtype, &[request])
        .await
        .unwrap_or_else(|e| panic!("reading `{name}`: {e}"))
        .pop()
        .and_then(|r| r.live)
}

async fn find(p: &AwsProvider, rtype: &str, name: &str, inputs: &Json) -> Option<Existing> {
    p.find(rtype, name, inputs)
        .await
        .unwrap_or_else(|e| panic!("finding `{name}`: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_is_not_found_before_its_create_and_found_as_ours_after_it() {
    let emulator = Emulator::start();
    let p = provider(&emulator).await;
    let mut applied = AppliedMap::new();
    for (name, rtype, props) in lemon_mart_like() {
        let inputs = create_inputs(STACK, name, rtype, &props, &applied);
        assert_eq!(
            find(&p, rtype, name, &inputs).await,
            None,
            "`{name}` ({rtype}) was found before its create"
        );
        let created = create_with(&p, name, rtype, &inputs).await;
        let found = find(&p, rtype, name, &inputs)
            .await
            .unwrap_or_else(|| panic!("`{name}` ({rtype}) was not found after its create"));
        assert_eq!(found.physical_id, created.physical_id, "`{name}` ({rtype})");
        assert_eq!(found.foreign, None, "`{name}` ({rtype}) found as foreign");
        let read = read_one(
            &p,
            rtype,
            name,
            &created.physical_id,
            &inputs,
            &created.attrs,
        )
        .await
        .unwrap_or_else(|| panic!("`{name}` ({rtype}) does not read back"));
        assert_eq!(found.live, read, "`{name}` ({rtype}): find and read differ");
        assert_eq!(
            found.live.attrs, created.attrs,
            "`{name}` ({rtype}): attributes"
        );
        keep(&mut applied, name, rtype, inputs, created);
    }
    let types: BTreeSet<&str> = applied.values().map(|a| a.rtype).collect();
    assert_eq!(types.len(), 19, "every type is covered: {types:?}");

    // With everything created, each is still found as itself (another resource of the same
    // type, or of the same tags' stack, is never taken for it).
    for (name, a) in &applied {
        let found = find(&p, a.rtype, name, &a.inputs)
            .await
            .unwrap_or_else(|| panic!("`{name}` is no longer found"));
        assert_eq!(
            (found.physical_id.as_str(), found.foreign),
            (a.id.as_str(), None),
            "`{name}`"
        );
    }

    // A second create of a named object fails with `Conflict` and changes nothing (the
    // engine then finds the object and adopts it as this stack's). Not here: the EC2 types
    // without a name (a second create makes a second object; `find` is what prevents it),
    // the certificate (its idempotency token answers with the same certificate), the task
    // definition (a register makes the next revision) and the hosted zone (see
    // `moto gaps` below).
    for name in [
        "alb_sg",
        "alb",
        "web_tg",
        "https",
        "http",
        "site",
        "verification",
        "logs",
        "exec_role",
        "repo",
        "cluster",
        "service",
    ] {
        let a = &applied[name];
        let before = read_one(&p, a.rtype, name, &a.id, &a.inputs, &a.attrs).await;
        let err = p
            .create(&op(name), a.rtype, name, &a.inputs)
            .await
            .expect_err("a second create of a named object");
        assert_eq!(err.kind, ErrorKind::Conflict, "`{name}`: {err}");
        let after = read_one(&p, a.rtype, name, &a.id, &a.inputs, &a.attrs).await;
        assert_eq!(after, before, "`{name}` changed");
    }
}

/// The inputs the engine gives a create of `name` (its tags added unless a DNS record).
fn inputs(rtype: &str, name: &str, props: Json) -> Json {
    common::with_engine_tags(STACK, name, rtype, props)
}

/// A create of `name` that must fail with `Conflict` naming `what`, and a find that must
/// say the object is someone else's, naming `owner`.
async fn assert_foreign(
    p: &AwsProvider,
    rtype: &str,
    name: &str,
    inputs: &Json,
    what: &str,
    owner: &str,
) {
    let err = p
        .create(&op(name), rtype, name, inputs)
        .await
        .expect_err("a create over someone else's object must fail");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    assert!(err.message.contains(what), "{err}");
    let found = find(p, rtype, name, inputs)
        .await
        .unwrap_or_else(|| panic!("`{name}` ({rtype}) is not found"));
    let foreign = found
        .foreign
        .unwrap_or_else(|| panic!("`{name}` ({rtype}) found as this stack's"));
    assert!(foreign.contains(owner), "{foreign}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_another_team_with_the_stacks_names_are_foreign_and_left_unchanged() {
    let emulator = Emulator::start();
    let p = provider(&emulator).await;
    let clients = p.aws().clients();

    // An IAM role with the stack's role name: another trust policy, administrator access,
    // the payments team's tag, no iac tags.
    let other_trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    clients
        .iam
        .create_role()
        .role_name("find-exec_role")
        .assume_role_policy_document(&other_trust)
        .tags(
            IamTag::builder()
                .key("team")
                .value("payments")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateRole");
    clients
        .iam
        .attach_role_policy()
        .role_name("find-exec_role")
        .policy_arn(ADMIN_POLICY)
        .send()
        .await
        .expect("AttachRolePolicy");
    let get_role = || async {
        clients
            .iam
            .get_role()
            .role_name("find-exec_role")
            .send()
            .await
            .expect("GetRole")
            .role()
            .cloned()
            .expect("role")
    };
    let role_before = get_role().await;
    let role = inputs(
        "aws.iam_role",
        "exec_role",
        json!({"name": "find-exec_role", "assumed_by": "ecs-tasks.amazonaws.com", "managed_policies": [EXEC_POLICY]}),
    );
    assert_foreign(
        &p,
        "aws.iam_role",
        "exec_role",
        &role,
        "IAM role `find-exec_role`",
        "no iac tags (tags: `team=payments`)",
    )
    .await;
    let role_after = get_role().await;
    assert_eq!(
        role_after.assume_role_policy_document(),
        role_before.assume_role_policy_document(),
        "trust policy"
    );
    assert_eq!(role_after.tags(), role_before.tags(), "role tags");
    assert_eq!(role_after.description(), role_before.description());
    let attached: Vec<String> = clients
        .iam
        .list_attached_role_policies()
        .role_name("find-exec_role")
        .send()
        .await
        .expect("ListAttachedRolePolicies")
        .attached_policies()
        .iter()
        .filter_map(|a| a.policy_arn().map(str::to_owned))
        .collect();
    assert_eq!(attached, [ADMIN_POLICY], "policies attached to the role");

    // A log group with the stack's name and another retention.
    clients
        .logs
        .create_log_group()
        .log_group_name("/iac/find/logs")
        .tags("team", "payments")
        .send()
        .await
        .expect("CreateLogGroup");
    clients
        .logs
        .put_retention_policy()
        .log_group_name("/iac/find/logs")
        .retention_in_days(30)
        .send()
        .await
        .expect("PutRetentionPolicy");
    let logs = inputs(
        "aws.log_group",
        "logs",
        json!({"name": "/iac/find/logs", "retention_days": 7}),
    );
    assert_foreign(
        &p,
        "aws.log_group",
        "logs",
        &logs,
        "log group `/iac/find/logs`",
        "`team=payments`",
    )
    .await;
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/iac/find/logs")
        .send()
        .await
        .expect("DescribeLogGroups");
    let group = groups.log_groups().first().expect("the group").clone();
    assert_eq!(group.retention_in_days(), Some(30), "retention");
    let arn = group
        .log_group_arn()
        .map(str::to_owned)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_owned()))
        .expect("group arn");
    assert_eq!(
        common::log_group_tags(clients, &arn).await,
        HashMap::from([("team".to_owned(), "payments".to_owned())]),
        "log group tags"
    );

    // An ECR repository with the stack's name.
    let repo_before = clients
        .ecr
        .create_repository()
        .repository_name("find-repo")
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
        .tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("team")
                .value("payments")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateRepository")
        .repository()
        .cloned()
        .expect("repository");
    let repo = inputs(
        "aws.ecr_repository",
        "repo",
        json!({"name": "find-repo", "scan_on_push": false, "immutable_tags": false, "force_delete": false}),
    );
    assert_foreign(
        &p,
        "aws.ecr_repository",
        "repo",
        &repo,
        "ECR repository `find-repo`",
        "`team=payments`",
    )
    .await;
    let repo_after = clients
        .ecr
        .describe_repositories()
        .repository_names("find-repo")
        .send()
        .await
        .expect("DescribeRepositories")
        .repositories()
        .first()
        .cloned()
        .expect("repository");
    assert_eq!(repo_after.repository_arn(), repo_before.repository_arn());
    assert_eq!(
        repo_after.image_tag_mutability(),
        Some(&aws_sdk_ecr::types::ImageTagMutability::Immutable),
        "tag mutability"
    );
    assert_eq!(
        repo_after
            .image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        repo_before
            .image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        "scan on push"
    );
    let repo_tags = clients
        .ecr
        .list_tags_for_resource()
        .resource_arn(repo_before.repository_arn().expect("arn"))
        .send()
        .await
        .expect("ListTagsForResource");
    let repo_tags: Vec<(&str, &str)> = repo_tags
        .tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(repo_tags, [("team", "payments")], "repository tags");

    // An ECS cluster with the stack's cluster name: the emulator would replace it on a
    // second CreateCluster, so the provider must not send one.
    let cluster_before = clients
        .ecs
        .create_cluster()
        .cluster_name("find-cluster")
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value("payments")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster")
        .cluster()
        .cloned()
        .expect("cluster");
    let cluster = inputs(
        "aws.ecs_cluster",
        "cluster",
        json!({"name": "find-cluster", "container_insights": false}),
    );
    assert_foreign(
        &p,
        "aws.ecs_cluster",
        "cluster",
        &cluster,
        "ECS cluster `find-cluster`",
        "no iac tags (tags: `team=payments`)",
    )
    .await;
    let cluster_after = clients
        .ecs
        .describe_clusters()
        .clusters("find-cluster")
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .expect("DescribeClusters")
        .clusters()
        .first()
        .cloned()
        .expect("cluster");
    assert_eq!(cluster_after.cluster_arn(), cluster_before.cluster_arn());
    let cluster_tags: Vec<(Option<&str>, Option<&str>)> = cluster_after
        .tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(
        cluster_tags,
        [(Some("team"), Some("payments"))],
        "cluster tags"
    );

    // A Route 53 record with the stack's name and another value.
    let zone = common::create_zone(clients, ZONE, "the-zone-owner").await;
    let theirs = ResourceRecordSet::builder()
        .name(format!("api.{ZONE}"))
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.10")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    change_records(p.aws().clients(), &zone, ChangeAction::Create, theirs).await;
    let record = inputs(
        "aws.dns_record",
        "api",
        json!({"zone": zone, "name": format!("api.{ZONE}"), "record_type": "A", "ttl": 300, "values": ["198.51.100.7"]}),
    );
    assert_foreign(
        &p,
        "aws.dns_record",
        "api",
        &record,
        &format!("DNS record `api.{ZONE}` A"),
        "the value `192.0.2.10` (TTL 60)",
    )
    .await;
    assert_eq!(
        records_named(&p, &zone, &format!("api.{ZONE}.")).await,
        [("A".to_owned(), Some(60), vec!["192.0.2.10".to_owned()])],
        "the record"
    );
}

/// Every record set of `zone` named `name` (with the final dot), as `(type, ttl, values)`.
async fn records_named(
    p: &AwsProvider,
    zone: &str,
    name: &str,
) -> Vec<(String, Option<i64>, Vec<String>)> {
    common::record_sets(p.aws().clients(), zone)
        .await
        .iter()
        .filter(|s| s.name() == name)
        .map(|s| {
            (
                s.r#type().as_str().to_owned(),
                s.ttl(),
                s.resource_records()
                    .iter()
                    .map(|r| r.value().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_record_that_already_has_exactly_the_desired_value_is_ours() {
    let emulator = Emulator::start();
    let p = provider(&emulator).await;
    let zone = common::create_zone(p.aws().clients(), ZONE, "the-zone-owner").await;
    // Left by a create whose answer was lost: the record as iac would have made it.
    let set = ResourceRecordSet::builder()
        .name(format!("www.{ZONE}"))
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(DOMAIN).build().unwrap())
        .build()
        .unwrap();
    change_records(p.aws().clients(), &zone, ChangeAction::Create, set).await;
    let record = json!({
        "zone": zone, "name": format!("www.{ZONE}"), "record_type": "CNAME", "values": [DOMAIN],
    });

    let found = find(&p, "aws.dns_record", "www", &record)
        .await
        .expect("the record is found");
    assert_eq!(
        found.foreign, None,
        "a record with the desired value is ours"
    );
    assert_eq!(found.physical_id, format!("{zone}_www.{ZONE}_CNAME"));
    assert_eq!(found.live.inputs, record, "read back as the stack wrote it");
    let read = read_one(
        &p,
        "aws.dns_record",
        "www",
        &found.physical_id,
        &record,
        &json!({}),
    )
    .await
    .expect("the record reads back");
    assert_eq!(found.live, read);

    // The create itself still refuses (CREATE, never UPSERT): the engine adopts the record
    // through `find`. Nothing changed.
    let err = p
        .create(&op("www"), "aws.dns_record", "www", &record)
        .await
        .expect_err("the record exists");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    assert_eq!(
        records_named(&p, &zone, &format!("www.{ZONE}.")).await,
        [("CNAME".to_owned(), Some(300), vec![DOMAIN.to_owned()])]
    );

    // Another TTL is another value: someone else's record.
    let other_ttl = json!({
        "zone": zone, "name": format!("www.{ZONE}"), "record_type": "CNAME", "ttl": 60, "values": [DOMAIN],
    });
    let found = find(&p, "aws.dns_record", "www", &other_ttl)
        .await
        .expect("the record is found");
    assert_eq!(
        found.foreign.as_deref(),
        Some(format!("the value `{DOMAIN}` (TTL 300)").as_str())
    );
}
