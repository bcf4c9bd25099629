//! What the find tests build on: the provider of stack `find`, a stack like lemon-mart's in
//! the engine's input shape, the type's own read and find of one object, the check that an
//! object is someone else's, and the record sets of a name.

use iac_aws::AwsProvider;
use iac_engine::provider::{ErrorKind, Existing, Provider, ReadRequest};
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

use crate::common::{self, op, EXEC_POLICY};

pub const STACK: &str = "find";
pub const ZONE: &str = "find-test.example.com";
pub const DOMAIN: &str = "app.find-test.example.com";
pub const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

pub async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// A stack like lemon-mart with one resource of every type, in dependency order; `${A.B}`
/// strings are resolved from the attributes of resources created before.
pub fn lemon_mart_like() -> Vec<common::Resource> {
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
pub async fn read_one(
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

pub async fn find(p: &AwsProvider, rtype: &str, name: &str, inputs: &Json) -> Option<Existing> {
    p.find(rtype, name, inputs)
        .await
        .unwrap_or_else(|e| panic!("finding `{name}`: {e}"))
}

/// The inputs the engine gives a create of `name` (its tags added unless a DNS record).
pub fn inputs(rtype: &str, name: &str, props: Json) -> Json {
    common::with_engine_tags(STACK, name, rtype, props)
}

/// A create of `name` that must fail with `Conflict` naming `what`, and a find that must
/// say the object is someone else's, naming `owner`.
pub async fn assert_foreign(
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

/// Every record set of `zone` named `name` (with the final dot), as `(type, ttl, values)`.
pub async fn records_named(
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
