//! What is live in the emulator's account: objects made as their owner would make them,
//! and the look-ups that find what a stack left behind.

use std::collections::HashMap;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_ec2::types::{Filter, NatGatewayState, Tag};
use aws_sdk_ecs::types::{Cluster, Service, TaskDefinitionStatus};
use aws_sdk_elasticloadbalancingv2::types::{Listener, Rule, TargetGroup};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet};
use iac_aws::Clients;

/// Creates the hosted zone `name`, as its owner would before a stack looks it up; returns
/// its id without the `/hostedzone/` prefix, as the provider records it.
pub async fn create_zone(clients: &Clients, name: &str, caller_reference: &str) -> String {
    let zone = clients
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(caller_reference)
        .send()
        .await
        .expect("CreateHostedZone");
    zone.hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// `(name, id)` of each of `items`, `?` for a part AWS left out.
pub fn named<T>(
    items: &[T],
    name: impl Fn(&T) -> Option<&str>,
    id: impl Fn(&T) -> Option<&str>,
) -> Vec<(String, String)> {
    items
        .iter()
        .map(|t| {
            (
                name(t).unwrap_or("?").to_owned(),
                id(t).unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// The `iac:name` tag of an EC2 object (a placeholder when it has the stack tag but no
/// name).
fn iac_name(tags: &[Tag]) -> String {
    tags.iter()
        .find(|t| t.key() == Some("iac:name"))
        .and_then(|t| t.value())
        .unwrap_or("<no iac:name tag>")
        .to_owned()
}

/// Every EC2 network object tagged with stack `stack`, by stack type, as `(iac:name, id)`
/// (deleted NAT gateways, which AWS keeps showing for an hour, excluded): one describe per
/// type, by the stack tag.
pub async fn ec2_tagged(c: &Clients, stack: &str) -> Vec<(&'static str, Vec<(String, String)>)> {
    let by_tag = || {
        Filter::builder()
            .name("tag:iac:stack")
            .values(stack)
            .build()
    };
    let tagged = |tags: &[Tag], id: Option<&str>| (iac_name(tags), id.unwrap_or("?").to_owned());
    let ec2 = &c.ec2;
    let vpcs = ec2.describe_vpcs().filters(by_tag()).send().await;
    let vpcs = vpcs.expect("DescribeVpcs");
    let subnets = ec2.describe_subnets().filters(by_tag()).send().await;
    let subnets = subnets.expect("DescribeSubnets");
    let igws = ec2.describe_internet_gateways().filters(by_tag()).send();
    let igws = igws.await.expect("DescribeInternetGateways");
    let eips = ec2.describe_addresses().filters(by_tag()).send().await;
    let eips = eips.expect("DescribeAddresses");
    let nats = ec2.describe_nat_gateways().filter(by_tag()).send().await;
    let nats = nats.expect("DescribeNatGateways");
    let rtbs = ec2.describe_route_tables().filters(by_tag()).send().await;
    let rtbs = rtbs.expect("DescribeRouteTables");
    let sgs = ec2.describe_security_groups().filters(by_tag()).send();
    let sgs = sgs.await.expect("DescribeSecurityGroups");
    vec![
        (
            "aws.vpc",
            vpcs.vpcs()
                .iter()
                .map(|v| tagged(v.tags(), v.vpc_id()))
                .collect(),
        ),
        (
            "aws.subnet",
            subnets
                .subnets()
                .iter()
                .map(|v| tagged(v.tags(), v.subnet_id()))
                .collect(),
        ),
        (
            "aws.internet_gateway",
            igws.internet_gateways()
                .iter()
                .map(|v| tagged(v.tags(), v.internet_gateway_id()))
                .collect(),
        ),
        (
            "aws.eip",
            eips.addresses()
                .iter()
                .map(|v| tagged(v.tags(), v.allocation_id()))
                .collect(),
        ),
        (
            "aws.nat_gateway",
            nats.nat_gateways()
                .iter()
                .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
                .map(|v| tagged(v.tags(), v.nat_gateway_id()))
                .collect(),
        ),
        (
            "aws.route_table",
            rtbs.route_tables()
                .iter()
                .map(|v| tagged(v.tags(), v.route_table_id()))
                .collect(),
        ),
        (
            "aws.security_group",
            sgs.security_groups()
                .iter()
                .map(|v| tagged(v.tags(), v.group_id()))
                .collect(),
        ),
    ]
}

/// Every network object tagged with stack `stack` ([`ec2_tagged`]), as `type name id`
/// strings.
pub async fn tagged_network_leftovers(clients: &Clients, stack: &str) -> Vec<String> {
    let mut left = Vec::new();
    for (rtype, found) in ec2_tagged(clients, stack).await {
        left.extend(
            found
                .into_iter()
                .map(|(name, id)| format!("{rtype} `{name}` {id}")),
        );
    }
    left
}

/// Every load balancer of the account as `(name, arn)`.
pub async fn load_balancers(c: &Clients) -> Vec<(String, String)> {
    let out = c.elbv2.describe_load_balancers().send().await;
    let out = out.expect("DescribeLoadBalancers");
    named(
        out.load_balancers(),
        |l| l.load_balancer_name(),
        |l| l.load_balancer_arn(),
    )
}

/// Every target group of the account as `(name, arn)`.
pub async fn target_groups(c: &Clients) -> Vec<(String, String)> {
    let out = c.elbv2.describe_target_groups().send().await;
    let out = out.expect("DescribeTargetGroups");
    named(
        out.target_groups(),
        |t| t.target_group_name(),
        |t| t.target_group_arn(),
    )
}

/// Every certificate of the account as `(domain, arn)`.
pub async fn certificates(c: &Clients) -> Vec<(String, String)> {
    let out = c.acm.list_certificates().send().await;
    let out = out.expect("ListCertificates");
    named(
        out.certificate_summary_list(),
        |s| s.domain_name(),
        |s| s.certificate_arn(),
    )
}

/// Every ECR repository of the account as `(name, arn)`.
pub async fn repositories(c: &Clients) -> Vec<(String, String)> {
    let out = c.ecr.describe_repositories().send().await;
    let out = out.expect("DescribeRepositories");
    named(
        out.repositories(),
        |r| r.repository_name(),
        |r| r.repository_arn(),
    )
}

/// The IAM roles whose name starts with `prefix`, as `(name, arn)`.
pub async fn roles_named(c: &Clients, prefix: &str) -> Vec<(String, String)> {
    let out = c.iam.list_roles().send().await.expect("ListRoles");
    out.roles()
        .iter()
        .filter(|r| r.role_name().starts_with(prefix))
        .map(|r| (r.role_name().to_owned(), r.arn().to_owned()))
        .collect()
}

/// The tags of the log group `arn` (without its `:*`).
pub async fn log_group_tags(c: &Clients, arn: &str) -> HashMap<String, String> {
    let out = c
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    out.expect("ListTagsForResource")
        .tags()
        .cloned()
        .unwrap_or_default()
}

/// The log groups of stack `stack` (named `/iac/<stack>/...`).
pub async fn log_groups(c: &Clients, stack: &str) -> Vec<String> {
    let out = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/iac/{stack}/"))
        .send()
        .await
        .expect("DescribeLogGroups");
    out.log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap_or("?").to_owned())
        .collect()
}

/// The ARNs of the task definition revisions of the families starting with `prefix`
/// whose status is `status`.
pub async fn task_definitions(
    c: &Clients,
    prefix: &str,
    status: TaskDefinitionStatus,
) -> Vec<String> {
    let out = c
        .ecs
        .list_task_definitions()
        .family_prefix(prefix)
        .status(status)
        .send()
        .await
        .expect("ListTaskDefinitions");
    out.task_definition_arns().to_vec()
}

/// Every load balancer, target group and certificate in the account (these tests start
/// from an empty emulator, so all of them are the stack's).
pub async fn edge_leftovers(clients: &Clients) -> Vec<String> {
    let mut left = Vec::new();
    for (kind, found) in [
        ("load balancer", load_balancers(clients).await),
        ("target group", target_groups(clients).await),
        ("certificate", certificates(clients).await),
    ] {
        left.extend(
            found
                .into_iter()
                .map(|(name, _)| format!("{kind} `{name}`")),
        );
    }
    left
}

/// Everything of the app kinds of stack `stack` still live, as `kind name` strings: ACTIVE
/// ECS clusters and the active services in them, task definition revisions of the stack's
/// families (active, and deregistered ones never deleted), its log groups
/// (`/iac/<stack>/`), IAM roles named after it, every ECR repository, and the records of
/// `zones` other than their own NS and SOA (these tests start from an empty emulator, so
/// all of those are the stack's).
pub async fn app_leftovers(clients: &Clients, stack: &str, zones: &[String]) -> Vec<String> {
    let c = clients;
    let mut left = Vec::new();
    for cluster in clusters(c).await {
        if cluster.status() == Some("INACTIVE") {
            continue;
        }
        let arn = cluster.cluster_arn().unwrap_or_default();
        left.push(format!("cluster {:?}", cluster.cluster_name()));
        left.extend(
            service_arns(c, arn)
                .await
                .iter()
                .map(|s| format!("service {s}")),
        );
    }
    // Active revisions, and deregistered ones that were never deleted (AWS keeps listing
    // and counting those until DeleteTaskDefinitions).
    for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
        let label = status.as_str().to_owned();
        left.extend(
            task_definitions(c, stack, status)
                .await
                .iter()
                .map(|a| format!("task definition {a} ({label})")),
        );
    }
    left.extend(
        log_groups(c, stack)
            .await
            .iter()
            .map(|g| format!("log group {g}")),
    );
    left.extend(
        roles_named(c, stack)
            .await
            .iter()
            .map(|(name, _)| format!("role {name}")),
    );
    left.extend(
        repositories(c)
            .await
            .iter()
            .map(|(name, _)| format!("repository {name}")),
    );
    for zone in zones {
        left.extend(
            record_sets(c, zone)
                .await
                .iter()
                .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
                .map(|r| format!("record {} {} in zone {zone}", r.name(), r.r#type().as_str())),
        );
    }
    left
}

/// Everything of `stack` still live after a destroy, as `kind id` strings: its tagged
/// network, every load balancer and target group, and its app objects and the records of
/// `zones` (see [`app_leftovers`]).
pub async fn stack_leftovers(clients: &Clients, stack: &str, zones: &[String]) -> Vec<String> {
    let mut left = tagged_network_leftovers(clients, stack).await;
    left.extend(edge_leftovers(clients).await);
    left.extend(app_leftovers(clients, stack, zones).await);
    left
}

/// Every ECS cluster of the account as ECS describes it, whatever its status.
pub async fn clusters(c: &Clients) -> Vec<Cluster> {
    let arns = c.ecs.list_clusters().send().await.expect("ListClusters");
    let arns = arns.cluster_arns().to_vec();
    if arns.is_empty() {
        return Vec::new();
    }
    c.ecs
        .describe_clusters()
        .set_clusters(Some(arns))
        .send()
        .await
        .expect("DescribeClusters")
        .clusters()
        .to_vec()
}

/// The ARNs of the services of the ECS cluster `cluster`.
pub async fn service_arns(c: &Clients, cluster: &str) -> Vec<String> {
    c.ecs
        .list_services()
        .cluster(cluster)
        .send()
        .await
        .expect("ListServices")
        .service_arns()
        .to_vec()
}

/// The status of the ECS cluster `cluster` (name or ARN), `None` when ECS describes none.
pub async fn cluster_status(c: &Clients, cluster: &str) -> Option<String> {
    let out = c.ecs.describe_clusters().clusters(cluster).send().await;
    out.expect("DescribeClusters")
        .clusters()
        .first()
        .and_then(|c| c.status().map(str::to_owned))
}

/// The ECS service `service` (name or ARN) of `cluster` as ECS describes it, `None` when
/// ECS describes none.
pub async fn find_ecs_service(c: &Clients, cluster: &str, service: &str) -> Option<Service> {
    c.ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("DescribeServices")
        .services()
        .first()
        .cloned()
}

/// The ECS service `service` (name or ARN) of `cluster` as ECS describes it.
pub async fn ecs_service(c: &Clients, cluster: &str, service: &str) -> Service {
    find_ecs_service(c, cluster, service)
        .await
        .unwrap_or_else(|| panic!("ECS describes no service `{service}` in `{cluster}`"))
}

/// The desired count ECS records for `service` of `cluster`.
pub async fn desired_count(c: &Clients, cluster: &str, service: &str) -> i32 {
    ecs_service(c, cluster, service).await.desired_count()
}

/// The target group `arn` as Elastic Load Balancing describes it.
pub async fn target_group(c: &Clients, arn: &str) -> TargetGroup {
    c.elbv2
        .describe_target_groups()
        .target_group_arns(arn)
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()[0]
        .clone()
}

/// The listener `arn` as Elastic Load Balancing describes it.
pub async fn listener(c: &Clients, arn: &str) -> Listener {
    c.elbv2
        .describe_listeners()
        .listener_arns(arn)
        .send()
        .await
        .expect("DescribeListeners")
        .listeners()[0]
        .clone()
}

/// Every listener of the load balancer `lb`.
pub async fn listeners_of(c: &Clients, lb: &str) -> Vec<Listener> {
    c.elbv2
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("DescribeListeners")
        .listeners()
        .to_vec()
}

/// Every record set of the hosted zone `zone` (NS and SOA included), one listing.
pub async fn record_sets(c: &Clients, zone: &str) -> Vec<ResourceRecordSet> {
    c.route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("ListResourceRecordSets")
        .resource_record_sets()
        .to_vec()
}

/// Sends one change (`action` of `set`) to the hosted zone `zone` with the SDK, as another
/// team would.
pub async fn change_records(c: &Clients, zone: &str, action: ChangeAction, set: ResourceRecordSet) {
    c.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(action)
                        .resource_record_set(set)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets");
}

/// The listener on `port` among `listeners`; a test failure when there is none.
pub fn listener_on(listeners: &[Listener], port: i32) -> &Listener {
    listeners
        .iter()
        .find(|l| l.port() == Some(port))
        .unwrap_or_else(|| panic!("no listener on {port}"))
}

/// The rules of the listener `arn` other than its default one.
pub async fn listener_rules(c: &Clients, arn: &str) -> Vec<Rule> {
    c.elbv2
        .describe_rules()
        .listener_arn(arn)
        .send()
        .await
        .expect("DescribeRules")
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .cloned()
        .collect()
}

/// The host names a listener rule's conditions match.
pub fn rule_hosts(rule: &Rule) -> Vec<&str> {
    rule.conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect()
}

/// Asserts that nothing of `stack` is live after its destroy ([`stack_leftovers`]), the
/// records of `zones` included.
pub async fn assert_nothing_left(clients: &Clients, stack: &str, zones: &[String]) {
    let left = stack_leftovers(clients, stack, zones).await;
    assert_eq!(left, Vec::<String>::new());
}

/// Every scalable target of an ECS service, as `(resource id, min, max)`.
pub async fn ecs_scalable_targets(c: &Clients) -> Vec<(String, i32, i32)> {
    let out = c
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .expect("DescribeScalableTargets");
    out.scalable_targets()
        .iter()
        .map(|t| {
            (
                t.resource_id().to_owned(),
                t.min_capacity(),
                t.max_capacity(),
            )
        })
        .collect()
}
