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

#[path = "../common/mod.rs"]
mod common;

mod fixture;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_iam::types::Tag as IamTag;
use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use common::{change_records, create_inputs, create_with, keep, op, AppliedMap, EXEC_POLICY};
use iac_engine::provider::{ErrorKind, Provider};
use iac_testkit::Emulator;
use serde_json::json;

use fixture::{
    assert_foreign, find, inputs, lemon_mart_like, provider, read_one, records_named, ADMIN_POLICY,
    DOMAIN, STACK, ZONE,
};

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
