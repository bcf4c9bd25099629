//! What is live in the emulator's account: objects made as their owner would make them,
//! and the look-ups that find what a stack left behind.

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use aws_sdk_ecs::types::{Cluster, Service};
use aws_sdk_elasticloadbalancingv2::types::{Listener, TargetGroup};
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

/// Every network resource tagged with stack `stack`, as `kind id` strings (deleted NAT
/// gateways, which AWS keeps showing for an hour, excluded).
pub async fn tagged_network_leftovers(clients: &Clients, stack: &str) -> Vec<String> {
    let ec2 = &clients.ec2;
    let by_tag = || {
        Filter::builder()
            .name("tag:iac:stack")
            .values(stack)
            .build()
    };
    let mut left = Vec::new();
    let out = ec2
        .describe_vpcs()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeVpcs");
    left.extend(out.vpcs().iter().map(|v| format!("vpc {:?}", v.vpc_id())));
    let out = ec2
        .describe_subnets()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeSubnets");
    left.extend(
        out.subnets()
            .iter()
            .map(|v| format!("subnet {:?}", v.subnet_id())),
    );
    let out = ec2
        .describe_internet_gateways()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeInternetGateways");
    left.extend(
        out.internet_gateways()
            .iter()
            .map(|v| format!("igw {:?}", v.internet_gateway_id())),
    );
    let out = ec2
        .describe_addresses()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeAddresses");
    left.extend(
        out.addresses()
            .iter()
            .map(|v| format!("eip {:?}", v.allocation_id())),
    );
    let out = ec2
        .describe_nat_gateways()
        .filter(by_tag())
        .send()
        .await
        .expect("DescribeNatGateways");
    left.extend(
        out.nat_gateways()
            .iter()
            .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
            .map(|v| format!("nat {:?} {:?}", v.nat_gateway_id(), v.state())),
    );
    let out = ec2
        .describe_route_tables()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeRouteTables");
    left.extend(
        out.route_tables()
            .iter()
            .map(|v| format!("rtb {:?}", v.route_table_id())),
    );
    let out = ec2
        .describe_security_groups()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeSecurityGroups");
    left.extend(
        out.security_groups()
            .iter()
            .map(|v| format!("sg {:?}", v.group_id())),
    );
    left
}

/// Every load balancer, target group and certificate in the account (these tests start
/// from an empty emulator, so all of them are the stack's).
pub async fn edge_leftovers(clients: &Clients) -> Vec<String> {
    let mut left = Vec::new();
    let lbs = clients
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    left.extend(
        lbs.load_balancers()
            .iter()
            .map(|l| format!("load balancer {:?}", l.load_balancer_name())),
    );
    let tgs = clients
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    left.extend(
        tgs.target_groups()
            .iter()
            .map(|t| format!("target group {:?}", t.target_group_name())),
    );
    let certs = clients
        .acm
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates");
    left.extend(
        certs
            .certificate_summary_list()
            .iter()
            .map(|c| format!("certificate {:?}", c.domain_name())),
    );
    left
}

/// Everything of the app kinds of stack `stack` still live, as `kind name` strings: ACTIVE
/// ECS clusters and the active services in them, task definition revisions of the stack's
/// families (active, and deregistered ones never deleted), its log groups (`/iac/<stack>/`), IAM roles named after it, every ECR
/// repository, and the records of `zones` other than their own NS and SOA (these tests
/// start from an empty emulator, so all of those are the stack's).
pub async fn app_leftovers(clients: &Clients, stack: &str, zones: &[String]) -> Vec<String> {
    use aws_sdk_ecs::types::TaskDefinitionStatus;

    let c = clients;
    let mut left = Vec::new();
    for cluster in clusters(c).await {
        if cluster.status() == Some("INACTIVE") {
            continue;
        }
        let arn = cluster.cluster_arn().unwrap_or_default();
        left.push(format!("cluster {:?}", cluster.cluster_name()));
        let services = c
            .ecs
            .list_services()
            .cluster(arn)
            .send()
            .await
            .expect("ListServices");
        left.extend(
            services
                .service_arns()
                .iter()
                .map(|s| format!("service {s}")),
        );
    }
    // Active revisions, and deregistered ones that were never deleted (AWS keeps listing
    // and counting those until DeleteTaskDefinitions).
    for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
        let tds = c
            .ecs
            .list_task_definitions()
            .family_prefix(stack)
            .status(status.clone())
            .send()
            .await
            .expect("ListTaskDefinitions");
        left.extend(
            tds.task_definition_arns()
                .iter()
                .map(|a| format!("task definition {a} ({})", status.as_str())),
        );
    }
    let logs = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/iac/{stack}/"))
        .send()
        .await
        .expect("DescribeLogGroups");
    left.extend(
        logs.log_groups()
            .iter()
            .map(|g| format!("log group {:?}", g.log_group_name())),
    );
    let roles = c.iam.list_roles().send().await.expect("ListRoles");
    left.extend(
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with(stack))
            .map(|r| format!("role {}", r.role_name())),
    );
    let repos = c
        .ecr
        .describe_repositories()
        .send()
        .await
        .expect("DescribeRepositories");
    left.extend(
        repos
            .repositories()
            .iter()
            .map(|r| format!("repository {:?}", r.repository_name())),
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
