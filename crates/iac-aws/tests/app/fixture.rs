//! What the app tests build on: the provider of stack `shop`, the network a service runs in
//! (made with the SDK directly), the app part of the lemon-mart stack created in order, and
//! the SDK look-ups of a revision's, a service's and a cluster's status.

use aws_sdk_ecs::types::TaskDefinitionStatus;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
use iac_aws::AwsProvider;
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

use crate::common::{self, create, AppliedMap, EXEC_POLICY};

pub const STACK: &str = "shop";
pub const ECR_READ_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

pub async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// The network a service needs: two subnets in two zones, a security group and a target
/// group of type `ip` for the load balancer block.
pub struct Network {
    pub subnets: Vec<String>,
    pub security_group: String,
    pub target_group: String,
}

pub async fn network(p: &AwsProvider) -> Network {
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
pub fn with_tags(name: &str, inputs: Json, user: &[(&str, &str)]) -> Json {
    common::with_tags(STACK, name, inputs, user)
}

pub fn attr(stack: &AppliedMap, name: &str, attr: &str) -> Json {
    stack[name].attrs[attr].clone()
}

/// The app part of the lemon-mart stack, created in dependency order.
pub async fn create_app(p: &AwsProvider, net: &Network) -> AppliedMap {
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
pub async fn shop_cluster_and_task(p: &AwsProvider, stack: &mut AppliedMap, container: Json) {
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

pub async fn td_status(p: &AwsProvider, arn: &str) -> Option<TaskDefinitionStatus> {
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

pub async fn service_status(p: &AwsProvider, cluster: &str, service: &str) -> Option<String> {
    common::find_ecs_service(p.aws().clients(), cluster, service)
        .await
        .and_then(|s| s.status().map(str::to_owned))
}

pub async fn cluster_status(p: &AwsProvider, cluster: &str) -> Option<String> {
    common::cluster_status(p.aws().clients(), cluster).await
}
