//! ECS: the cluster, task definitions (whose containers are in [`super::container`]) and
//! services. The cluster's EC2 capacity is in [`super::capacity`].

use super::container::{CONTAINER, VOLUME};
use super::*;

const SERVICE_LOAD_BALANCER: &[Prop] = &[
    req(
        "target_group",
        id("aws.target_group", "arn"),
        "Target group the service registers its tasks in",
    ),
    req(
        "container",
        Kind::Str,
        "Name of the container (in the task definition) that receives the traffic",
    ),
    req(
        "port",
        Kind::Port,
        "Container port that receives the traffic",
    ),
];

const DEPLOYMENT: &[Prop] = &[
    def(
        "min_healthy_percent",
        Kind::Int,
        DefaultValue::Int(100),
        "Tasks that must stay running during a deploy, in percent of `desired_count`; 100 means no downtime",
    ),
    def(
        "max_percent",
        Kind::Int,
        DefaultValue::Int(200),
        "Tasks that may run during a deploy, in percent of `desired_count`",
    ),
    def(
        "circuit_breaker",
        Kind::Enum(&["off", "on", "rollback"]),
        DefaultValue::Str("rollback"),
        "Stop a deploy whose tasks keep failing (`on`) and also roll back to the last good one (`rollback`)",
    ),
];

/// `scaling:` of a service: target tracking through Application Auto Scaling.
const SCALING: &[Prop] = &[
    req(
        "min",
        Kind::Int,
        "Fewest tasks the scaler may leave running (Application Auto Scaling `MinCapacity`)",
    ),
    req(
        "max",
        Kind::Int,
        "Most tasks the scaler may start (`MaxCapacity`); at least `min`",
    ),
    opt(
        "cpu",
        Kind::Int,
        "Keep the service's average CPU use at this percent (1-100); at least one of `cpu`, `memory`, `requests_per_target`",
    ),
    opt(
        "memory",
        Kind::Int,
        "Keep the service's average memory use at this percent (1-100)",
    ),
    opt(
        "requests_per_target",
        Kind::Int,
        "Keep the load balancer's requests per task (per target, per minute) at this number; needs the service's `load_balancer`",
    ),
    def(
        "scale_in_cooldown",
        Kind::Int,
        DefaultValue::Int(300),
        "Seconds after a scale-in before the next scale-in",
    ),
    def(
        "scale_out_cooldown",
        Kind::Int,
        DefaultValue::Int(300),
        "Seconds after a scale-out before the next scale-out",
    ),
];

/// An entry of a service's `placement_strategy`.
const PLACEMENT_STRATEGY: &[Prop] = &[
    req(
        "type",
        Kind::Enum(&["spread", "binpack", "random"]),
        "`spread` tasks evenly over `field`, `binpack` them on the fewest instances by `field` (`cpu` or `memory`), or place them at `random`",
    ),
    opt(
        "field",
        Kind::Str,
        "What `spread` spreads over (`attribute:ecs.availability-zone`, `instanceId`) or what `binpack` packs by (`cpu`, `memory`); not with `random`",
    ),
];

/// An entry of a service's `placement_constraints`.
const PLACEMENT_CONSTRAINT: &[Prop] = &[
    req(
        "type",
        Kind::Enum(&["distinctInstance", "memberOf"]),
        "`distinctInstance`: each task on a different instance; `memberOf`: only instances that match `expression`",
    ),
    opt(
        "expression",
        Kind::Str,
        "Cluster query language expression of `memberOf`, e.g. `attribute:ecs.instance-type =~ t3.*`",
    ),
];

/// An entry of a task definition's `placement_constraints`.
const TASK_PLACEMENT_CONSTRAINT: &[Prop] = &[
    req(
        "type",
        Kind::Enum(&["memberOf"]),
        "`memberOf`: the only kind a task definition takes",
    ),
    req(
        "expression",
        Kind::Str,
        "Cluster query language expression the instance must match, e.g. `attribute:ecs.instance-type =~ g5.*`",
    ),
];

/// `discovery:` of a service: a Cloud Map service the tasks register in.
const DISCOVERY: &[Prop] = &[
    rep(req(
        "namespace",
        id("aws.service_discovery_namespace", "id"),
        "Private DNS namespace the tasks register in, e.g. `${internal.id}`",
    )),
    rep(opt(
        "name",
        Kind::Str,
        "Name under the namespace (`api` answers as `api.internal`); omitted, the ECS service's `name`",
    )),
    rep(def(
        "dns_type",
        Kind::Enum(&["A", "SRV"]),
        DefaultValue::Str("A"),
        "`A`: one address record per task (awsvpc networking only); `SRV`: address and port per task (the only choice with `bridge` or `host` networking, which needs the service's `load_balancer` container and port or `discovery.container`/`discovery.port`)",
    )),
    def(
        "ttl",
        Kind::Int,
        DefaultValue::Int(10),
        "Seconds resolvers may cache the records; changed in place",
    ),
    rep(opt(
        "container",
        Kind::Str,
        "Container whose port SRV records give (bridge and host networking); omitted, the `load_balancer` container",
    )),
    rep(opt(
        "port",
        Kind::Port,
        "Container port SRV records give (bridge and host networking); omitted, the `load_balancer` port",
    )),
];

pub(super) const ECS_CLUSTER: TypeSchema = TypeSchema {
    name: "aws.ecs_cluster",
    doc:
        "An ECS cluster that Fargate services (and, with `capacity_providers`, EC2 capacity) run in",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Addition: cluster name (at most 255 characters)",
        )),
        def(
            "container_insights",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Collect CloudWatch Container Insights metrics (billed)",
        ),
        capacity::CAPACITY_PROVIDERS,
        capacity::DEFAULT_STRATEGY,
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str, "Cluster ARN"),
        attr("name", AttrKind::Str, "Cluster name"),
    ],
    aws_name: named("name", 255),
    ..PLAIN
};

pub(super) const TASK_DEFINITION: TypeSchema = TypeSchema {
    name: "aws.task_definition",
    doc: "What a task (Fargate or EC2) runs; immutable, so every change registers a new revision and the old one is deregistered once unused",
    props: &[
        def(
            "family",
            Kind::Str,
            DefaultValue::AwsName,
            "Family the revisions are registered under (at most 255 characters)",
        ),
        opt(
            "cpu",
            Kind::Int,
            "CPU units of the task: 256 (0.25 vCPU), 512, 1024, 2048, 4096, 8192 or 16384. Required for Fargate; on EC2 it may be left to the containers",
        ),
        opt(
            "memory",
            Kind::Int,
            "Memory of the task in MiB; must pair with `cpu` as Fargate allows (256 CPU: 512, 1024 or 2048). Required for Fargate; on EC2 it may be left to the containers (each then needs its own `memory` or `memory_reservation`)",
        ),
        def(
            "network_mode",
            Kind::Enum(&["awsvpc", "bridge", "host"]),
            DefaultValue::Str("awsvpc"),
            "Addition: how the containers are networked: `awsvpc` (an interface per task, the only mode Fargate has), `bridge` (Docker's bridge on an EC2 instance; `host_port: 0` or omitted means a dynamic host port) or `host` (the instance's own network; host port = container port)",
        ),
        opt(
            "requires_compatibilities",
            Kind::ListOf(&Kind::Enum(&["FARGATE", "EC2"])),
            "Addition: where the task may run, checked by ECS when it registers the task definition; omitted, `[FARGATE]`",
        ),
        opt(
            "execution_role",
            id("aws.iam_role", "arn"),
            "Role ECS uses to pull the image, write logs and read `secrets`",
        ),
        opt(
            "task_role",
            id("aws.iam_role", "arn"),
            "Role the application's code runs as",
        ),
        def(
            "architecture",
            Kind::Enum(&["X86_64", "ARM64"]),
            DefaultValue::Str("X86_64"),
            "Addition: CPU architecture the image is built for (`ARM64` is Graviton, cheaper)",
        ),
        req(
            "containers",
            Kind::ListOf(&Kind::Object(CONTAINER)),
            "The containers of the task",
        ),
        opt(
            "volumes",
            Kind::ListOf(&Kind::Object(VOLUME)),
            "Addition: volumes the containers mount (`mount_points`): EFS file systems, or bind mounts on the task's ephemeral storage",
        ),
        opt(
            "ephemeral_storage",
            Kind::Int,
            "Addition: GiB of ephemeral storage of the task (21-200); omitted, Fargate's 20",
        ),
        opt(
            "pid_mode",
            Kind::Enum(&["task", "host"]),
            "Addition: `task`: the containers of the task see each other's processes (e.g. for a profiler sidecar); omitted, each container has its own. Fargate refuses `host`",
        ),
        opt(
            "placement_constraints",
            Kind::ListOf(&Kind::Object(TASK_PLACEMENT_CONSTRAINT)),
            "Addition: EC2 instances the task may run on, e.g. only GPU instance types; Fargate refuses them",
        ),
        TAGS,
    ],
    attrs: &[
        attr(
            "arn",
            AttrKind::Str,
            "ARN of the current revision (ends in `:REVISION`)",
        ),
        attr("family", AttrKind::Str, "Family name"),
        attr("revision", AttrKind::Int, "Revision number"),
    ],
    aws_name: named("family", 255),
    renews: Some(Renews {
        noun: "revision",
        counter: "revision",
        old: "the old one is deregistered once no service uses it",
    }),
    ..PLAIN
};

pub(super) const ECS_SERVICE: TypeSchema = TypeSchema {
    name: "aws.ecs_service",
    doc: "Keeps `desired_count` tasks running on Fargate or EC2 (or one per instance: `DAEMON`) and rolls deploys",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Addition: service name (at most 255 characters)",
        )),
        rep(req(
            "cluster",
            id("aws.ecs_cluster", "arn"),
            "Cluster the service runs in",
        )),
        req(
            "task_definition",
            id("aws.task_definition", "arn"),
            "Task definition revision to run; a new revision rolls a deploy",
        ),
        opt(
            "desired_count",
            Kind::Int,
            "Number of tasks to keep running; 0 stops all of them. With `scaling`, the count the service starts with: the scaler owns the live count. Required with `scheduling_strategy: REPLICA`, not with `DAEMON`",
        ),
        opt(
            "subnets",
            Kind::ListOf(&id("aws.subnet", "id")),
            "Subnets the tasks are placed in, spread over their zones. Required with `awsvpc` networking (the task definition's `network_mode`), not allowed with `bridge` or `host`",
        ),
        opt(
            "security_groups",
            Kind::ListOf(&id("aws.security_group", "id")),
            "Security groups of the tasks; omitted uses the VPC's default group",
        ),
        def(
            "assign_public_ip",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Give each task a public IP: needed to pull images from a public subnet without a NAT gateway",
        ),
        opt(
            "load_balancer",
            Kind::Object(SERVICE_LOAD_BALANCER),
            "Register the tasks in a target group",
        ),
        opt(
            "launch_type",
            Kind::Enum(&["FARGATE", "EC2"]),
            "Addition: run the tasks on Fargate or on the cluster's EC2 instances; not with `capacity_provider_strategy`. Omitted with no strategy, `FARGATE`. Moving to or from a strategy is an update; from one launch type to the other, a replacement",
        ),
        opt(
            "capacity_provider_strategy",
            Kind::ListOf(&Kind::Object(capacity::STRATEGY_ITEM)),
            "Addition: spread the tasks over capacity providers by `base` and `weight`; not with `launch_type`. A change is an update (a new deployment), never a replacement",
        ),
        opt(
            "placement_strategy",
            Kind::ListOf(&Kind::Object(PLACEMENT_STRATEGY)),
            "Addition: how tasks are placed on EC2 instances, in order (e.g. spread over zones, then binpack on memory); a change is an update",
        ),
        opt(
            "placement_constraints",
            Kind::ListOf(&Kind::Object(PLACEMENT_CONSTRAINT)),
            "Addition: rules every EC2 instance a task is placed on must meet; a change is an update",
        ),
        rep(def(
            "scheduling_strategy",
            Kind::Enum(&["REPLICA", "DAEMON"]),
            DefaultValue::Str("REPLICA"),
            "Addition: `REPLICA` keeps `desired_count` tasks; `DAEMON` one task on every EC2 instance of the cluster (no `desired_count`, no `scaling`, EC2 only)",
        )),
        opt(
            "discovery",
            Kind::Object(DISCOVERY),
            "Addition: register the tasks in a Cloud Map private DNS namespace so other tasks find them by name (`http://api.internal:8080`); iac creates and deletes the Cloud Map service with the ECS service",
        ),
        opt(
            "deployment",
            Kind::Object(DEPLOYMENT),
            "How deploys replace tasks",
        ),
        opt(
            "health_check_grace_period",
            Kind::Int,
            "Seconds after a task starts during which failed load balancer health checks are ignored",
        ),
        def(
            "enable_execute_command",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Addition: allow `aws ecs execute-command` into running tasks (the task role needs SSM permissions)",
        ),
        opt(
            "scaling",
            Kind::Object(SCALING),
            "Addition: target tracking autoscaling (Application Auto Scaling) between `min` and `max` tasks; `desired_count` is then only the starting count and plans never reset what the scaler chose",
        ),
        def(
            "propagate_tags",
            Kind::Enum(&["SERVICE", "TASK_DEFINITION", "NONE"]),
            DefaultValue::Str("SERVICE"),
            "Addition: where the tags of the service's tasks come from: the service's tags (`SERVICE`, stack-wide tags included), the task definition's (`TASK_DEFINITION`), or none (`NONE`); applies to tasks started after a change",
        ),
        def(
            "enable_ecs_managed_tags",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Addition: ECS also tags the tasks with `aws:ecs:clusterName` and `aws:ecs:serviceName`",
        ),
        def(
            "wait",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Apply waits until the service is steady (new tasks healthy, old ones drained)",
        ),
        def(
            "wait_timeout",
            Kind::Int,
            DefaultValue::Int(900),
            "Seconds apply waits for a steady state before failing",
        ),
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str, "Service ARN"),
        attr("name", AttrKind::Str, "Service name"),
        attr(
            "live_desired_count",
            AttrKind::Int,
            "Addition: the desired count ECS has now (the scaler's choice while `scaling` is on)",
        ),
        attr(
            "discovery_arn",
            AttrKind::Str,
            "Addition: ARN of the Cloud Map service of `discovery` (empty without it)",
        ),
    ],
    aws_name: named("name", 255),
    shows_live: &[ShowsLive {
        attr: "live_desired_count",
        when: "scaling",
        says: "tasks the scaler wants now; `desired_count` is only the starting count",
    }],
    ..PLAIN
};
