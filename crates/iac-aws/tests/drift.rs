//! Drift made outside iac, through the engine on the local emulator (moto): a stack is
//! applied, one live resource is changed with the SDK behind iac's back, the next plan
//! shows exactly that resource updated at the drifted path, the apply puts the value back
//! and the plan after it is clean.
//!
//! The engine hands the provider the plan's refreshed live inputs as the old inputs of an
//! update, so this holds only if each type's read reports the live value (not the one last
//! applied) and its update reconciles from old to new. The EC2 network types are covered
//! in network.rs; this file covers the edge and app types of stacks/lemon-mart.yaml, and
//! the repository and a TTL record through the small tests/fixtures/aws/drift_stack.yaml.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as LbAction, ActionTypeEnum, LoadBalancerAttribute, RedirectActionConfig,
    RedirectActionStatusCodeEnum, TargetGroupAttribute,
};
use aws_sdk_route53::types::{
    AliasTarget, ChangeAction, ResourceRecord, ResourceRecordSet, RrType,
};
use common::{changes, updated, Deployment};
use iac_aws::Clients;
use iac_engine::{render_plan, Plan};
use iac_stack::Stack;
use iac_testkit::Emulator;

/// A stack applied on the emulator, with what it takes to plan and apply it again.
struct Applied {
    stack: Stack,
    d: Deployment,
    clients: Clients,
}

impl Applied {
    /// Applies `stack` from an empty state; the plan after it is clean.
    async fn new(emulator: &Emulator, stack: Stack) -> Self {
        let aws = common::context(emulator).await;
        let mut d = Deployment::new(&aws, &stack);
        let first = d.plan(&stack).await;
        d.apply(&first).await;
        d.assert_clean(&stack).await;
        Self {
            stack,
            d,
            clients: aws.clients().clone(),
        }
    }

    /// The physical id of `name`.
    fn id(&self, name: &str) -> String {
        self.d.id(name)
    }

    /// Attribute `attr` of `name`, a string.
    fn attr(&self, name: &str, attr: &str) -> String {
        self.d.attr(name, attr)
    }

    async fn plan(&self) -> Plan {
        self.d.plan(&self.stack).await
    }

    /// After a change made behind iac's back: the plan updates exactly `name` at `paths`
    /// and reports the drift there; the apply puts it back; the plan after it is clean.
    async fn put_back(&mut self, name: &str, paths: &[&str]) {
        let plan = self.plan().await;
        assert_eq!(
            changes(&plan),
            vec![updated(name, paths)],
            "{}",
            render_plan(&plan, false)
        );
        let drifted = common::drift_of(&plan);
        assert_eq!(drifted.len(), 1, "{:?}", plan.drift);
        assert_eq!(drifted[0].0, name, "{:?}", plan.drift);
        assert_eq!(drifted[0].1, paths, "{:?}", plan.drift);
        self.d.apply(&plan).await;
        self.d.assert_clean(&self.stack).await;
    }
}

// ---------------------------------------------------------------------------------------
// Live values, read with the SDK.
// ---------------------------------------------------------------------------------------

async fn log_retention(clients: &Clients, name: &str) -> Option<i32> {
    let out = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .expect("DescribeLogGroups");
    out.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .expect("the log group")
        .retention_in_days()
}

async fn log_tag_keys(clients: &Clients, arn: &str) -> Vec<String> {
    let mut keys: Vec<String> = common::log_group_tags(clients, arn)
        .await
        .into_keys()
        .collect();
    keys.sort();
    keys
}

async fn health_check_path(clients: &Clients, arn: &str) -> Option<String> {
    common::target_group(clients, arn)
        .await
        .health_check_path()
        .map(str::to_owned)
}

async fn redirect_status(clients: &Clients, arn: &str) -> Option<RedirectActionStatusCodeEnum> {
    common::listener(clients, arn).await.default_actions()[0]
        .redirect_config()
        .and_then(|r| r.status_code().cloned())
}

async fn idle_timeout(clients: &Clients, arn: &str) -> String {
    let out = clients
        .elbv2
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .expect("DescribeLoadBalancerAttributes");
    // moto lists the attribute only once it was set; absent is AWS's default, 60.
    out.attributes()
        .iter()
        .find(|a| a.key() == Some("idle_timeout.timeout_seconds"))
        .and_then(|a| a.value())
        .unwrap_or("60")
        .to_owned()
}

async fn lb_tag_keys(clients: &Clients, arn: &str) -> Vec<String> {
    let out = clients
        .elbv2
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("DescribeTags");
    let mut keys: Vec<String> = out.tag_descriptions()[0]
        .tags()
        .iter()
        .filter_map(|t| t.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

async fn attached_policies(clients: &Clients, role: &str) -> Vec<String> {
    let out = clients
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    out.attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

async fn immutable_tags(clients: &Clients, name: &str) -> bool {
    let out = clients
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .expect("DescribeRepositories");
    out.repositories()[0].image_tag_mutability() == Some(&ImageTagMutability::Immutable)
}

async fn scan_on_push(clients: &Clients, name: &str) -> bool {
    let out = clients
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .expect("DescribeRepositories");
    out.repositories()[0]
        .image_scanning_configuration()
        .map(|c| c.scan_on_push())
        .expect("a scanning configuration")
}

/// The record `fqdn` of type `rtype` in zone `zone`.
async fn record(clients: &Clients, zone: &str, fqdn: &str, rtype: RrType) -> ResourceRecordSet {
    let wanted = fqdn.trim_end_matches('.');
    common::record_sets(clients, zone)
        .await
        .into_iter()
        .find(|r| r.name().trim_end_matches('.') == wanted && *r.r#type() == rtype)
        .unwrap_or_else(|| panic!("no {rtype:?} record {fqdn}"))
}

/// Replaces record `set` in zone `zone` with an UPSERT.
async fn upsert(clients: &Clients, zone: &str, set: ResourceRecordSet) {
    common::change_records(clients, zone, ChangeAction::Upsert, set).await;
}

// ---------------------------------------------------------------------------------------
// stacks/lemon-mart.yaml: the edge and app types.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_lemon_mart_edge_and_app_is_shown_and_put_back() {
    let emulator = Emulator::start();
    // The hosted zone is `existing: true`: it must be there before.
    let owner = common::context(&emulator).await;
    let zone_id = common::create_zone(owner.clients(), "example.com", "drift-test").await;
    let stack = common::load("stacks/lemon-mart.yaml", &[], &[]);
    let mut s = Applied::new(&emulator, stack).await;
    let c = s.clients.clone();

    // aws.log_group: the retention changed.
    let log_name = s.attr("logs", "name");
    assert_eq!(log_retention(&c, &log_name).await, Some(30));
    c.logs
        .put_retention_policy()
        .log_group_name(&log_name)
        .retention_in_days(7)
        .send()
        .await
        .expect("PutRetentionPolicy");
    s.put_back("logs", &["retention_days"]).await;
    assert_eq!(log_retention(&c, &log_name).await, Some(30));

    // aws.log_group: a tag removed.
    let log_arn = s.attr("logs", "arn");
    let log_tags = log_tag_keys(&c, &log_arn).await;
    assert!(log_tags.contains(&"Name".to_owned()), "{log_tags:?}");
    c.logs
        .untag_resource()
        .resource_arn(&log_arn)
        .tag_keys("Name")
        .send()
        .await
        .expect("UntagResource");
    assert!(!log_tag_keys(&c, &log_arn)
        .await
        .contains(&"Name".to_owned()));
    s.put_back("logs", &["tags.Name"]).await;
    assert_eq!(log_tag_keys(&c, &log_arn).await, log_tags);

    // aws.target_group: the health check path changed.
    let tg = s.id("web_tg");
    c.elbv2
        .modify_target_group()
        .target_group_arn(&tg)
        .health_check_path("/drifted")
        .send()
        .await
        .expect("ModifyTargetGroup");
    s.put_back("web_tg", &["health_check.path"]).await;
    assert_eq!(health_check_path(&c, &tg).await.as_deref(), Some("/"));

    // aws.target_group: connections drain for longer.
    c.elbv2
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(
            TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value("120")
                .build(),
        )
        .send()
        .await
        .expect("ModifyTargetGroupAttributes");
    s.put_back("web_tg", &["deregistration_delay"]).await;

    // aws.listener: the HTTP:80 redirect made temporary.
    let http = s.id("http");
    c.elbv2
        .modify_listener()
        .listener_arn(&http)
        .default_actions(
            LbAction::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port("443")
                        .status_code(RedirectActionStatusCodeEnum::Http302)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("ModifyListener");
    assert_eq!(
        redirect_status(&c, &http).await,
        Some(RedirectActionStatusCodeEnum::Http302)
    );
    s.put_back("http", &["redirect.status"]).await;
    assert_eq!(
        redirect_status(&c, &http).await,
        Some(RedirectActionStatusCodeEnum::Http301)
    );

    // aws.load_balancer: the idle timeout changed.
    let alb = s.id("alb");
    assert_eq!(idle_timeout(&c, &alb).await, "60");
    c.elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(&alb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("idle_timeout.timeout_seconds")
                .value("300")
                .build(),
        )
        .send()
        .await
        .expect("ModifyLoadBalancerAttributes");
    s.put_back("alb", &["idle_timeout"]).await;
    assert_eq!(idle_timeout(&c, &alb).await, "60");

    // aws.load_balancer: a tag removed.
    let alb_tags = lb_tag_keys(&c, &alb).await;
    assert!(alb_tags.contains(&"Name".to_owned()), "{alb_tags:?}");
    c.elbv2
        .remove_tags()
        .resource_arns(&alb)
        .tag_keys("Name")
        .send()
        .await
        .expect("RemoveTags");
    s.put_back("alb", &["tags.Name"]).await;
    assert_eq!(lb_tag_keys(&c, &alb).await, alb_tags);

    // aws.ecs_service: scaled by hand.
    let cluster = s.attr("cluster", "arn");
    let service = s.id("web");
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 2);
    c.ecs
        .update_service()
        .cluster(&cluster)
        .service(&service)
        .desired_count(5)
        .send()
        .await
        .expect("UpdateService");
    s.put_back("web", &["desired_count"]).await;
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 2);

    // aws.ecs_service: a longer health check grace period.
    c.ecs
        .update_service()
        .cluster(&cluster)
        .service(&service)
        .health_check_grace_period_seconds(90)
        .send()
        .await
        .expect("UpdateService");
    s.put_back("web", &["health_check_grace_period"]).await;

    // aws.iam_role: the managed policy detached.
    let role = s.attr("execution_role", "name");
    let policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
    assert_eq!(attached_policies(&c, &role).await, [policy]);
    c.iam
        .detach_role_policy()
        .role_name(&role)
        .policy_arn(policy)
        .send()
        .await
        .expect("DetachRolePolicy");
    s.put_back("execution_role", &["managed_policies"]).await;
    assert_eq!(attached_policies(&c, &role).await, [policy]);

    // aws.dns_record: the alias pointed somewhere else.
    let site = record(&c, &zone_id, "lemonmart.example.com", RrType::A).await;
    let alias = site.alias_target().expect("an alias").clone();
    upsert(
        &c,
        &zone_id,
        ResourceRecordSet::builder()
            .name("lemonmart.example.com")
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .dns_name("elsewhere.us-east-1.elb.amazonaws.com")
                    .hosted_zone_id(alias.hosted_zone_id())
                    .evaluate_target_health(alias.evaluate_target_health())
                    .build()
                    .expect("an alias"),
            )
            .build()
            .expect("a record"),
    )
    .await;
    s.put_back("site", &["alias.dns_name"]).await;
    let site = record(&c, &zone_id, "lemonmart.example.com", RrType::A).await;
    assert_eq!(
        site.alias_target().map(|a| a.dns_name()),
        Some(alias.dns_name())
    );
}

// ---------------------------------------------------------------------------------------
// tests/fixtures/aws/drift_stack.yaml: a repository and a TTL record, which lemon-mart has
// not.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_a_repository_and_a_ttl_record_is_shown_and_put_back() {
    let emulator = Emulator::start();
    let stack = common::load("tests/fixtures/aws/drift_stack.yaml", &[], &[]);
    let mut s = Applied::new(&emulator, stack).await;
    let c = s.clients.clone();

    // aws.ecr_repository: tags made immutable.
    let repo = s.id("repo");
    assert!(!immutable_tags(&c, &repo).await);
    c.ecr
        .put_image_tag_mutability()
        .repository_name(&repo)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .send()
        .await
        .expect("PutImageTagMutability");
    assert!(immutable_tags(&c, &repo).await);
    s.put_back("repo", &["immutable_tags"]).await;
    assert!(!immutable_tags(&c, &repo).await);

    // aws.dns_record: the value of a TTL record changed.
    let zone = s.attr("zone", "id");
    let fqdn = "www.drift-test.example.com";
    let before = record(&c, &zone, fqdn, RrType::Cname).await;
    let values = |r: &ResourceRecordSet| -> Vec<String> {
        r.resource_records()
            .iter()
            .map(|v| v.value().to_owned())
            .collect()
    };
    assert_eq!(values(&before), ["app.drift-test.example.com"]);
    upsert(
        &c,
        &zone,
        ResourceRecordSet::builder()
            .name(fqdn)
            .r#type(RrType::Cname)
            .ttl(before.ttl().expect("a TTL"))
            .resource_records(
                ResourceRecord::builder()
                    .value("elsewhere.example.net")
                    .build()
                    .expect("a value"),
            )
            .build()
            .expect("a record"),
    )
    .await;
    s.put_back("www", &["values[0]"]).await;
    let after = record(&c, &zone, fqdn, RrType::Cname).await;
    assert_eq!(values(&after), values(&before));

    // aws.dns_record: the TTL shortened.
    let mut shorter = after.clone();
    shorter.ttl = Some(60);
    upsert(&c, &zone, shorter).await;
    s.put_back("www", &["ttl"]).await;
    let after = record(&c, &zone, fqdn, RrType::Cname).await;
    assert_eq!(after.ttl(), Some(300));

    // aws.ecr_repository: scan on push turned on. The plan shows it; putting it back is
    // not testable here: the SDK leaves `scanOnPush: false` out of the request (it is the
    // model's default) and moto then ignores the whole configuration, so the apply would
    // leave it on in moto although AWS would turn it off. The user adopting the live
    // value instead (the stack edited to match) gives a clean plan.
    assert!(!scan_on_push(&c, &repo).await);
    c.ecr
        .put_image_scanning_configuration()
        .repository_name(&repo)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .expect("PutImageScanningConfiguration");
    assert!(scan_on_push(&c, &repo).await);
    let plan = s.plan().await;
    assert_eq!(
        changes(&plan),
        vec![updated("repo", &["scan_on_push"])],
        "{}",
        render_plan(&plan, false)
    );
    s.stack = common::load(
        "tests/fixtures/aws/drift_stack.yaml",
        &[],
        &[("scan_on_push: false", "scan_on_push: true")],
    );
    let adopted = s.plan().await;
    assert_eq!(
        changes(&adopted),
        vec![],
        "{}",
        render_plan(&adopted, false)
    );
}
