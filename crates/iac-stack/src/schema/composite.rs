//! Composite types: one resource in the stack file that the loader expands into ordinary
//! resources (its children), named `PARENT.CHILD`. `aws.web_service` is the one composite.
//!
//! The expansion is data: each child is a YAML body in which `$FIELD` stands for a value
//! of the parent (or one derived from it, listed in [`Derived`]) and `PARENT` for the
//! parent's name. A map entry whose `$FIELD` has no value is left out. The loader
//! (`load/expand.rs`) substitutes the parent's own YAML nodes, spans included, so every
//! diagnostic about a child's value points at the parent field that produced it;
//! docs/stack-reference.md prints these bodies as the list of what the composite creates.

use super::{Kind, Prop};

/// A type that expands into other resources.
#[derive(Debug)]
pub struct Composite {
    pub name: &'static str,
    pub doc: &'static str,
    /// The fields written under the parent.
    pub props: &'static [Prop],
    /// Values computed from the fields, usable as `$NAME` in the bodies.
    pub derived: &'static [Derived],
    pub children: &'static [Child],
}

/// A value the loader computes from the parent's fields.
#[derive(Debug)]
pub struct Derived {
    pub name: &'static str,
    pub doc: &'static str,
}

/// One resource a composite creates.
#[derive(Debug)]
pub struct Child {
    /// The name after the dot: `alb` in `web.alb`.
    pub name: &'static str,
    pub rtype: &'static str,
    pub when: When,
    /// YAML: the child's body without `type:`.
    pub body: &'static str,
}

/// When a child is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// No `vpc:` given: the composite builds its own network.
    OwnNetwork,
    /// Its own network with `subnets: private`.
    OwnPrivateNetwork,
    /// No `cluster:` given.
    OwnCluster,
    /// No `load_balancer:` given: its own load balancer, listeners and certificate.
    OwnLoadBalancer,
    /// `load_balancer:` names another web service: a listener rule on its HTTPS listener.
    SharedLoadBalancer,
    /// Unless it shares a load balancer by `path` alone (served on the other's name).
    OwnName,
}

impl When {
    pub fn describe(self) -> &'static str {
        match self {
            When::Always => "always",
            When::OwnNetwork => "without `vpc:`",
            When::OwnPrivateNetwork => "without `vpc:`, with `subnets: private`",
            When::OwnCluster => "without `cluster:`",
            When::OwnLoadBalancer => "without `load_balancer:`",
            When::SharedLoadBalancer => "with `load_balancer:`",
            When::OwnName => "unless `load_balancer:` with `path:` and no `host:`",
        }
    }
}

const fn field(name: &'static str, kind: Kind, required: bool, doc: &'static str) -> Prop {
    Prop {
        name,
        kind,
        required,
        default: None,
        replace: false,
        doc,
    }
}

const COUNT_RANGE: &[Prop] = &[
    field("min", Kind::Int, true, "Fewest tasks"),
    field("max", Kind::Int, true, "Most tasks"),
    field(
        "cpu",
        Kind::Int,
        true,
        "Average CPU use (percent) the scaler keeps the service at",
    ),
];

/// Look a composite up by its `type:` value.
pub fn composite(name: &str) -> Option<&'static Composite> {
    COMPOSITES.iter().find(|c| c.name == name)
}

pub const COMPOSITES: &[Composite] = &[WEB_SERVICE];

const WEB_SERVICE: Composite = Composite {
    name: "aws.web_service",
    doc: "Addition: a containerised HTTPS web app on ECS Fargate behind its own load balancer (or a shared one), expanded into the ordinary resources below, each named `NAME.CHILD`",
    props: &[
        field("image", Kind::Str, true, "Container image, e.g. `${var.image}`"),
        field("port", Kind::Port, true, "Port the container listens on"),
        field("domain", Kind::Str, true, "Name the app is served on (certificate and alias record)"),
        field("zone", Kind::Str, true, "Existing Route 53 public hosted zone holding `domain` (looked up, never managed)"),
        field("health_check", Kind::Str, false, "Path the load balancer checks on each task; must answer 200 without a redirect. Default `/`"),
        field("cpu", Kind::Int, false, "Task CPU units (256 = 0.25 vCPU). Default 256"),
        field("memory", Kind::Int, false, "Task memory in MiB, a size Fargate allows with `cpu`. Default 512"),
        field("count", Kind::OneOf(&[Kind::Int, Kind::Object(COUNT_RANGE)]), false, "Number of tasks, or `{ min, max, cpu }` to scale on CPU (starting at `min`). Default 1"),
        field("allowed_cidrs", Kind::ListOf(&Kind::Cidr), false, "Who may reach the load balancer on 80 and 443. Default `[0.0.0.0/0, ::/0]`"),
        field("environment", Kind::MapOf(&Kind::Str), false, "Environment variables of the container"),
        field("secrets", Kind::MapOf(&Kind::Str), false, "Secrets of the container: variable name to SSM parameter or Secrets Manager ARN"),
        field("subnets", Kind::Enum(&["public", "private"]), false, "`public` (tasks get public IPs, no NAT gateway) or `private` (tasks behind a NAT gateway per zone). Default `public`"),
        field("vpc", Kind::Id { rtype: "aws.vpc", attr: "id" }, false, "An existing VPC instead of a new network; needs `public_subnets`"),
        field("public_subnets", Kind::ListOf(&Kind::Id { rtype: "aws.subnet", attr: "id" }), false, "With `vpc`: the subnets of the load balancer (and of the tasks unless `private_subnets`)"),
        field("private_subnets", Kind::ListOf(&Kind::Id { rtype: "aws.subnet", attr: "id" }), false, "With `vpc`: subnets for the tasks, behind a NAT gateway"),
        field("cluster", Kind::Id { rtype: "aws.ecs_cluster", attr: "arn" }, false, "An existing cluster instead of a new one"),
        field("load_balancer", Kind::Str, false, "Another `aws.web_service` of the stack whose load balancer this one shares, with a `host` or `path` rule: its name (`shop`) or its load balancer (`${shop.alb}`)"),
        field("host", Kind::Str, false, "With `load_balancer`: the host name the rule forwards (defaults to `domain`)"),
        field("path", Kind::Str, false, "With `load_balancer`: the path pattern the rule forwards, e.g. `/api/*`"),
        field("overrides", Kind::MapOf(&Kind::Any), false, "`CHILD: { FIELD: VALUE }`: set any field of a child, e.g. `alb: { idle_timeout: 120 }`"),
    ],
    derived: &[
        Derived { name: "desired_count", doc: "`count`, or its `min`" },
        Derived { name: "scaling", doc: "`count` when it is a range" },
        Derived { name: "alb_ingress", doc: "ports 80 and 443 from each of `allowed_cidrs`" },
        Derived { name: "alb_sg_description", doc: "says who may connect" },
        Derived { name: "vpc", doc: "`vpc`, or `${PARENT.vpc.id}` (the shared one's, `${FRONT.vpc.id}`, with `load_balancer`)" },
        Derived { name: "lb_subnets", doc: "`public_subnets`, or the two public subnets (the shared one's with `load_balancer`)" },
        Derived { name: "task_subnets", doc: "`private_subnets`, the two private subnets with `subnets: private`, or `$lb_subnets`" },
        Derived { name: "assign_public_ip", doc: "true when the tasks are in public subnets" },
        Derived { name: "cluster", doc: "`cluster`, or `${PARENT.cluster.arn}`" },
        Derived { name: "front", doc: "`load_balancer`, or this web service" },
        Derived { name: "conditions", doc: "`host_header` (`host`, or `domain` without `path`) and `path_pattern` (`path`)" },
        Derived { name: "alternative_names", doc: "the names of the web services sharing this one's load balancer" },
    ],
    children: &[
        Child {
            name: "vpc",
            rtype: "aws.vpc",
            when: When::OwnNetwork,
            body: "cidr: 10.0.0.0/16\n",
        },
        Child {
            name: "public_a",
            rtype: "aws.subnet",
            when: When::OwnNetwork,
            body: "vpc: ${PARENT.vpc.id}\ncidr: 10.0.1.0/24\naz: ${region}a\npublic: true\n",
        },
        Child {
            name: "public_b",
            rtype: "aws.subnet",
            when: When::OwnNetwork,
            body: "vpc: ${PARENT.vpc.id}\ncidr: 10.0.2.0/24\naz: ${region}b\npublic: true\n",
        },
        Child {
            name: "igw",
            rtype: "aws.internet_gateway",
            when: When::OwnNetwork,
            body: "vpc: ${PARENT.vpc.id}\n",
        },
        Child {
            name: "public_routes",
            rtype: "aws.route_table",
            when: When::OwnNetwork,
            body: "vpc: ${PARENT.vpc.id}
routes:
  - destination: 0.0.0.0/0
    gateway: ${PARENT.igw.id}
subnets:
  - ${PARENT.public_a.id}
  - ${PARENT.public_b.id}
",
        },
        Child {
            name: "private_a",
            rtype: "aws.subnet",
            when: When::OwnPrivateNetwork,
            body: "vpc: ${PARENT.vpc.id}\ncidr: 10.0.11.0/24\naz: ${region}a\n",
        },
        Child {
            name: "private_b",
            rtype: "aws.subnet",
            when: When::OwnPrivateNetwork,
            body: "vpc: ${PARENT.vpc.id}\ncidr: 10.0.12.0/24\naz: ${region}b\n",
        },
        Child {
            name: "nat_ip_a",
            rtype: "aws.eip",
            when: When::OwnPrivateNetwork,
            body: "{}\n",
        },
        Child {
            name: "nat_ip_b",
            rtype: "aws.eip",
            when: When::OwnPrivateNetwork,
            body: "{}\n",
        },
        Child {
            name: "nat_a",
            rtype: "aws.nat_gateway",
            when: When::OwnPrivateNetwork,
            body: "subnet: ${PARENT.public_a.id}\neip: ${PARENT.nat_ip_a.id}\n",
        },
        Child {
            name: "nat_b",
            rtype: "aws.nat_gateway",
            when: When::OwnPrivateNetwork,
            body: "subnet: ${PARENT.public_b.id}\neip: ${PARENT.nat_ip_b.id}\n",
        },
        Child {
            name: "private_routes_a",
            rtype: "aws.route_table",
            when: When::OwnPrivateNetwork,
            body: "vpc: ${PARENT.vpc.id}
routes:
  - destination: 0.0.0.0/0
    nat_gateway: ${PARENT.nat_a.id}
subnets:
  - ${PARENT.private_a.id}
",
        },
        Child {
            name: "private_routes_b",
            rtype: "aws.route_table",
            when: When::OwnPrivateNetwork,
            body: "vpc: ${PARENT.vpc.id}
routes:
  - destination: 0.0.0.0/0
    nat_gateway: ${PARENT.nat_b.id}
subnets:
  - ${PARENT.private_b.id}
",
        },
        Child {
            name: "alb_sg",
            rtype: "aws.security_group",
            when: When::OwnLoadBalancer,
            body: "vpc: $vpc\ndescription: $alb_sg_description\ningress: $alb_ingress\n",
        },
        Child {
            name: "tasks_sg",
            rtype: "aws.security_group",
            when: When::Always,
            body: "vpc: $vpc
description: ${stack} tasks - only the load balancer may connect
ingress:
  - protocol: tcp
    port: $port
    source: ${$front.alb_sg.id}
    description: from the load balancer only
",
        },
        Child {
            name: "zone",
            rtype: "aws.hosted_zone",
            when: When::Always,
            body: "existing: true\nname: $zone\n",
        },
        Child {
            name: "cert",
            rtype: "aws.certificate",
            when: When::OwnLoadBalancer,
            body: "domain: $domain\nalternative_names: $alternative_names\nvalidation_zone: ${PARENT.zone.id}\n",
        },
        Child {
            name: "alb",
            rtype: "aws.load_balancer",
            when: When::OwnLoadBalancer,
            body: "subnets: $lb_subnets\nsecurity_groups:\n  - ${PARENT.alb_sg.id}\n",
        },
        Child {
            name: "tg",
            rtype: "aws.target_group",
            when: When::Always,
            body: "vpc: $vpc
port: $port
protocol: HTTP
target_type: ip
health_check:
  path: $health_check
  matcher: \"200\"
  interval: 15
  healthy_threshold: 2
deregistration_delay: 30
",
        },
        Child {
            name: "https",
            rtype: "aws.listener",
            when: When::OwnLoadBalancer,
            body: "load_balancer: ${PARENT.alb.arn}
port: 443
protocol: HTTPS
certificate: ${PARENT.cert.arn}
forward: ${PARENT.tg.arn}
",
        },
        Child {
            name: "http",
            rtype: "aws.listener",
            when: When::OwnLoadBalancer,
            body: "load_balancer: ${PARENT.alb.arn}
port: 80
protocol: HTTP
redirect:
  protocol: HTTPS
  port: 443
  status: 301
",
        },
        Child {
            name: "rule",
            rtype: "aws.listener_rule",
            when: When::SharedLoadBalancer,
            body: "listener: ${$front.https.arn}\nconditions: $conditions\nforward: ${PARENT.tg.arn}\n",
        },
        Child {
            name: "cluster",
            rtype: "aws.ecs_cluster",
            when: When::OwnCluster,
            body: "{}\n",
        },
        Child {
            name: "logs",
            rtype: "aws.log_group",
            when: When::Always,
            body: "retention_days: 30\n",
        },
        Child {
            name: "execution_role",
            rtype: "aws.iam_role",
            when: When::Always,
            body: "assumed_by: ecs-tasks.amazonaws.com
managed_policies:
  - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
",
        },
        Child {
            name: "task",
            rtype: "aws.task_definition",
            when: When::Always,
            body: "cpu: $cpu
memory: $memory
execution_role: ${PARENT.execution_role.arn}
containers:
  - name: PARENT
    image: $image
    port: $port
    log_group: ${PARENT.logs.name}
    environment: $environment
    secrets: $secrets
",
        },
        Child {
            name: "service",
            rtype: "aws.ecs_service",
            when: When::Always,
            body: "cluster: $cluster
task_definition: ${PARENT.task.arn}
desired_count: $desired_count
subnets: $task_subnets
security_groups:
  - ${PARENT.tasks_sg.id}
assign_public_ip: $assign_public_ip
load_balancer:
  target_group: ${PARENT.tg.arn}
  container: PARENT
  port: $port
deployment:
  min_healthy_percent: 100
  max_percent: 200
  circuit_breaker: rollback
health_check_grace_period: 30
scaling: $scaling
",
        },
        Child {
            name: "dns",
            rtype: "aws.dns_record",
            when: When::OwnName,
            body: "zone: ${PARENT.zone.id}
name: $domain
record_type: A
alias:
  dns_name: ${$front.alb.dns_name}
  zone_id: ${$front.alb.zone_id}
",
        },
    ],
};
