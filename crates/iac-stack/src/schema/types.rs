//! The v1 resource types: the single source of the stack format's vocabulary.
//!
//! Every type of /work/shared/stack-format.md is here with the contract's names, required
//! marks, defaults and replace marks. Conventions the loader, the engine and the generators
//! rely on:
//!
//! - A taggable type (`taggable: true`) lists `tags` as an ordinary property of kind
//!   `MapOf(Str)`; a non-taggable type has no `tags` property. The engine adds the `iac:stack`,
//!   `iac:name` and `Name` tags itself; `tags` holds only the user's.
//! - Properties that take another resource's id or arn are `Kind::Id`, naming the type and the
//!   attribute a reference would normally read (`${vpc.id}`, `${cert.arn}`).
//! - Names AWS requires default to `<stack>-<NAME>` (`DefaultValue::AwsName`), shortened to the
//!   service's limit given in `aws_name`.
//! - Status codes of redirects are a `Kind::Enum` of digit strings (`"301"`, `"302"`); an integer
//!   literal is accepted for them (see `Kind::Enum`).
//!
//! Over 600 lines on purpose: this is a table of data, one entry per type, read top to
//! bottom like docs/stack-reference.md (which is generated from it). The containers' nested
//! properties, the largest part, are in `types/container.rs`; the common shape of an entry
//! is [`PLAIN`], so an entry writes only what is its own.
//!
//! Additions beyond the contract are marked "Addition:" in their doc, which the reference page
//! shows. Nothing of the contract is renamed or removed.

use super::*;

mod capacity;
mod container;
mod listener_rule;

pub use capacity::{ECS_AMI_FAMILY, ECS_AMI_PARAMETER};

use container::{CONTAINER, VOLUME};

/// A property with no default that may be omitted.
const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
    Prop {
        name,
        kind,
        required: false,
        default: None,
        replace: false,
        doc,
    }
}

/// A property that must be written.
const fn req(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
    Prop {
        required: true,
        ..opt(name, kind, doc)
    }
}

/// An optional property with a default filled in when it is omitted.
const fn def(name: &'static str, kind: Kind, default: DefaultValue, doc: &'static str) -> Prop {
    Prop {
        default: Some(default),
        ..opt(name, kind, doc)
    }
}

/// The same property, but a change to it forces a new resource.
const fn rep(p: Prop) -> Prop {
    Prop { replace: true, ..p }
}

const fn attr(name: &'static str, kind: AttrKind, doc: &'static str) -> Attr {
    Attr { name, kind, doc }
}

/// `tags:` on every taggable type.
const TAGS: Prop = opt(
    "tags",
    Kind::MapOf(&Kind::Str),
    "Your tags, over the stack-wide `tags` (yours win on a key both have), added to `iac:stack`, `iac:name` and `Name`, which iac sets itself",
);

const fn id(rtype: &'static str, attr: &'static str) -> Kind {
    Kind::Id { rtype, attr }
}

/// `HTTP` or `HTTPS`, as the load balancer spells them.
const HTTP_PROTOCOLS: &[&str] = &["HTTP", "HTTPS"];

/// A security group rule: `ingress` and `egress` entries.
const SG_RULE: &[Prop] = &[
    req(
        "protocol",
        Kind::Enum(&["tcp", "udp", "icmp", "all"]),
        "IP protocol; `all` also means all ports",
    ),
    opt(
        "port",
        Kind::Port,
        "A single port (for `icmp`: the ICMP type); give `port` or `ports` for `tcp` and `udp`",
    ),
    opt(
        "ports",
        Kind::Str,
        "A port range written `FROM-TO`, e.g. `\"8000-8099\"`",
    ),
    opt(
        "cidr",
        Kind::Cidr,
        "The peer as an IPv4 or IPv6 CIDR block, e.g. `0.0.0.0/0` or `::/0`; exactly one of `cidr` and `source`",
    ),
    opt(
        "source",
        id("aws.security_group", "id"),
        "The peer as another security group (`${alb_sg.id}`), or `self`: the group itself, so its members may reach each other (addition; no dependency on itself). Exactly one of `cidr` and `source`",
    ),
    opt(
        "description",
        Kind::Str,
        "Why the rule exists, shown in the console",
    ),
];

/// An entry of a route table's `routes`.
const ROUTE: &[Prop] = &[
    req(
        "destination",
        Kind::Cidr,
        "The destination CIDR block, e.g. `0.0.0.0/0` for the default route",
    ),
    opt(
        "gateway",
        id("aws.internet_gateway", "id"),
        "Send the traffic to this internet gateway; exactly one of `gateway` and `nat_gateway`",
    ),
    opt(
        "nat_gateway",
        id("aws.nat_gateway", "id"),
        "Send the traffic to this NAT gateway; exactly one of `gateway` and `nat_gateway`",
    ),
];

const HEALTH_CHECK: &[Prop] = &[
    def(
        "path",
        Kind::Str,
        DefaultValue::Str("/"),
        "The path the load balancer requests; it must answer without a redirect",
    ),
    def(
        "interval",
        Kind::Int,
        DefaultValue::Int(30),
        "Seconds between checks of one target (5-300)",
    ),
    def(
        "timeout",
        Kind::Int,
        DefaultValue::Int(5),
        "Seconds without an answer that count as a failed check (2-120, less than `interval`)",
    ),
    def(
        "healthy_threshold",
        Kind::Int,
        DefaultValue::Int(5),
        "Consecutive successes before a target counts as healthy (2-10)",
    ),
    def(
        "unhealthy_threshold",
        Kind::Int,
        DefaultValue::Int(2),
        "Consecutive failures before a target counts as unhealthy (2-10)",
    ),
    def(
        "matcher",
        Kind::Str,
        DefaultValue::Str("200"),
        "HTTP codes that mean healthy: `200`, a list `200,204` or a range `200-299`",
    ),
];

const REDIRECT: &[Prop] = &[
    opt(
        "protocol",
        Kind::Enum(HTTP_PROTOCOLS),
        "Protocol to redirect to; omitted keeps the request's",
    ),
    opt(
        "port",
        Kind::Port,
        "Port to redirect to; omitted keeps the request's",
    ),
    req(
        "status",
        Kind::Enum(&["301", "302"]),
        "`301` (permanent) or `302` (temporary); written as a number or a string",
    ),
    opt(
        "host",
        Kind::Str,
        "Addition: host to redirect to; omitted keeps the request's (`#{host}`)",
    ),
    opt(
        "path",
        Kind::Str,
        "Addition: path to redirect to, starting with `/`; omitted keeps the request's (`/#{path}`)",
    ),
    opt(
        "query",
        Kind::Str,
        "Addition: query string to redirect to, without `?`; omitted keeps the request's (`#{query}`)",
    ),
];

const FIXED_RESPONSE: &[Prop] = &[
    req(
        "status",
        Kind::Int,
        "HTTP status code to answer with: 2XX, 4XX or 5XX",
    ),
    opt("body", Kind::Str, "Response body, at most 1024 characters"),
    def(
        "content_type",
        Kind::Enum(&[
            "text/plain",
            "text/css",
            "text/html",
            "application/javascript",
            "application/json",
        ]),
        DefaultValue::Str("text/plain"),
        "Content type of the body",
    ),
];

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

/// A statement of a role's `policies`.
const POLICY_STATEMENT: &[Prop] = &[
    opt(
        "sid",
        Kind::Str,
        "Statement id (letters and digits); the statements iac adds are named `Iac...`",
    ),
    def(
        "effect",
        Kind::Enum(&["Allow", "Deny"]),
        DefaultValue::Str("Allow"),
        "Whether the statement allows or denies the actions",
    ),
    req(
        "actions",
        Kind::ListOf(&Kind::Str),
        "IAM actions, e.g. `s3:GetObject` or `sqs:*`",
    ),
    req(
        "resources",
        Kind::ListOf(&Kind::Str),
        "ARNs the actions apply to, e.g. `${bucket.arn}/*`; `*` means every resource",
    ),
    opt(
        "conditions",
        Kind::MapOf(&Kind::MapOf(&Kind::Any)),
        "IAM conditions as the policy language writes them: operator -> key -> value(s), e.g. `StringEquals: { aws:SourceVpc: vpc-0abc }`",
    ),
];

const ALIAS: &[Prop] = &[
    req(
        "dns_name",
        Kind::Str,
        "DNS name of the target, e.g. `${alb.dns_name}`",
    ),
    req(
        "zone_id",
        Kind::Str,
        "Hosted zone id of the target (not of your zone), e.g. `${alb.zone_id}`",
    ),
    def(
        "evaluate_target_health",
        Kind::Bool,
        DefaultValue::Bool(true),
        "Answer only while the target is healthy",
    ),
];

/// What most types are: taggable, no name AWS requires, no data held, no versions. Each entry
/// of [`TYPES`] writes what differs and takes the rest from here (`..PLAIN`).
const PLAIN: TypeSchema = TypeSchema {
    name: "",
    doc: "",
    props: &[],
    attrs: &[],
    taggable: true,
    aws_name: None,
    holds: None,
    renews: None,
    shows_live: &[],
};

/// A name AWS requires, written in property `prop`, at most `max_len` characters.
const fn named(prop: &'static str, max_len: usize) -> Option<AwsName> {
    Some(AwsName {
        prop: Some(prop),
        max_len,
    })
}

pub static TYPES: &[TypeSchema] = &[
    TypeSchema {
        name: "aws.vpc",
        doc: "A virtual private network: the address space every other network resource lives in",
        props: &[
            rep(req(
                "cidr",
                Kind::Cidr,
                "IPv4 address range of the VPC, e.g. `10.0.0.0/16` (a /16 to /28 block)",
            )),
            def(
                "dns_hostnames",
                Kind::Bool,
                DefaultValue::Bool(true),
                "Give instances with public IPs public DNS names",
            ),
            def(
                "dns_support",
                Kind::Bool,
                DefaultValue::Bool(true),
                "Resolve DNS through the Amazon resolver; needed for ECR pulls and private zones",
            ),
            TAGS,
        ],
        attrs: &[
            attr("id", AttrKind::Str, "VPC id, e.g. `vpc-0abc...`"),
            attr("cidr", AttrKind::Str, "The VPC's CIDR block"),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.subnet",
        doc: "A range of the VPC's addresses in one availability zone",
        props: &[
            rep(req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC the subnet belongs to",
            )),
            rep(req(
                "cidr",
                Kind::Cidr,
                "IPv4 range inside the VPC's, e.g. `10.0.1.0/24`",
            )),
            rep(req(
                "az",
                Kind::Str,
                "Availability zone, e.g. `${region}a`",
            )),
            def(
                "public",
                Kind::Bool,
                DefaultValue::Bool(false),
                "Map a public IP to instances launched here (a public subnet still needs a route to an internet gateway)",
            ),
            TAGS,
        ],
        attrs: &[
            attr("id", AttrKind::Str, "Subnet id, e.g. `subnet-0abc...`"),
            attr("az", AttrKind::Str, "The subnet's availability zone"),
            attr("cidr", AttrKind::Str, "The subnet's CIDR block"),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.internet_gateway",
        doc: "The VPC's door to the internet, for public subnets",
        props: &[
            req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC the gateway is attached to; a change detaches it and attaches it to the new one",
            ),
            TAGS,
        ],
        attrs: &[attr("id", AttrKind::Str, "Internet gateway id, e.g. `igw-0abc...`")],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.eip",
        doc: "An elastic (static public) IPv4 address, e.g. for a NAT gateway; billed while it exists",
        props: &[TAGS],
        attrs: &[
            attr("id", AttrKind::Str, "Allocation id, e.g. `eipalloc-0abc...`"),
            attr("public_ip", AttrKind::Str, "The public IPv4 address"),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.nat_gateway",
        doc: "Outbound internet access for private subnets; billed per hour and per GB",
        props: &[
            rep(req(
                "subnet",
                id("aws.subnet", "id"),
                "Public subnet the gateway lives in",
            )),
            rep(req(
                "eip",
                id("aws.eip", "id"),
                "Elastic IP allocation the gateway sends traffic from",
            )),
            TAGS,
        ],
        attrs: &[attr("id", AttrKind::Str, "NAT gateway id, e.g. `nat-0abc...`")],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.route_table",
        doc: "Routes for the subnets associated with it",
        props: &[
            rep(req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC the route table belongs to",
            )),
            opt(
                "routes",
                Kind::ListOf(&Kind::Object(ROUTE)),
                "Routes besides the VPC's local one; the list is exact",
            ),
            opt(
                "subnets",
                Kind::ListOf(&id("aws.subnet", "id")),
                "Subnets that use this table (associations)",
            ),
            TAGS,
        ],
        attrs: &[attr("id", AttrKind::Str, "Route table id, e.g. `rtb-0abc...`")],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.security_group",
        doc: "A stateful firewall around network interfaces (load balancers, tasks)",
        props: &[
            rep(req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC the group belongs to",
            )),
            rep(def(
                "description",
                Kind::Str,
                DefaultValue::Str("Managed by iac"),
                "What the group is for (AWS requires one; it cannot change without a new group)",
            )),
            opt(
                "ingress",
                Kind::ListOf(&Kind::Object(SG_RULE)),
                "Inbound rules; omitted or empty admits nothing",
            ),
            opt(
                "egress",
                Kind::ListOf(&Kind::Object(SG_RULE)),
                "Outbound rules; omitted allows all outbound traffic, a given list is exact",
            ),
            TAGS,
        ],
        attrs: &[attr("id", AttrKind::Str, "Security group id, e.g. `sg-0abc...`")],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.hosted_zone",
        doc: "A Route 53 DNS zone; usually `existing: true` to look up the zone you already own by `name`",
        props: &[
            rep(req(
                "name",
                Kind::Str,
                "Domain of the zone, e.g. `example.com`; identifies an existing zone",
            )),
            rep(opt(
                "private_vpc",
                id("aws.vpc", "id"),
                "Make the zone private to this VPC; omitted means a public zone",
            )),
            TAGS,
        ],
        attrs: &[
            attr("id", AttrKind::Str, "Zone id, e.g. `Z0123456789ABC`"),
            attr("name", AttrKind::Str, "The zone's domain"),
            attr(
                "name_servers",
                AttrKind::List,
                "Name servers to delegate the domain to",
            ),
        ],
        holds: Some(Holds {
            what: "records",
            forced_by: None,
        }),
        ..PLAIN
    },
    TypeSchema {
        name: "aws.certificate",
        doc: "An ACM TLS certificate, validated through DNS records the engine creates in `validation_zone`",
        props: &[
            rep(req(
                "domain",
                Kind::Str,
                "Domain the certificate is for, e.g. `${var.domain}` or `*.example.com`",
            )),
            rep(opt(
                "alternative_names",
                Kind::ListOf(&Kind::Str),
                "More domains the certificate covers",
            )),
            req(
                "validation_zone",
                id("aws.hosted_zone", "id"),
                "Zone the DNS validation records go in; apply waits until the certificate is issued and destroy removes them",
            ),
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Certificate ARN"),
            attr(
                "status",
                AttrKind::Str,
                "`ISSUED` once validated (apply waits for it)",
            ),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.load_balancer",
        doc: "An application load balancer (ALB) spread over subnets in at least two zones",
        props: &[
            rep(def(
                "name",
                Kind::Str,
                DefaultValue::AwsName,
                "Addition: load balancer name (at most 32 characters)",
            )),
            req(
                "subnets",
                Kind::ListOf(&id("aws.subnet", "id")),
                "Subnets to serve from: at least 2, in distinct availability zones",
            ),
            opt(
                "security_groups",
                Kind::ListOf(&id("aws.security_group", "id")),
                "Security groups of the load balancer; omitted uses the VPC's default group",
            ),
            rep(def(
                "internal",
                Kind::Bool,
                DefaultValue::Bool(false),
                "Reachable only from inside the VPC",
            )),
            def(
                "idle_timeout",
                Kind::Int,
                DefaultValue::Int(60),
                "Seconds an idle connection stays open (1-4000)",
            ),
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Load balancer ARN"),
            attr(
                "dns_name",
                AttrKind::Str,
                "Public DNS name, the target of an alias record",
            ),
            attr(
                "zone_id",
                AttrKind::Str,
                "Route 53 zone id of the load balancer, for alias records",
            ),
        ],
        aws_name: named("name", 32),
        ..PLAIN
    },
    TypeSchema {
        name: "aws.target_group",
        doc: "Where a listener sends requests: the tasks of a service, health-checked",
        props: &[
            rep(def(
                "name",
                Kind::Str,
                DefaultValue::AwsName,
                "Addition: target group name (at most 32 characters)",
            )),
            rep(req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC of the targets",
            )),
            rep(req(
                "port",
                Kind::Port,
                "Port the targets receive traffic on",
            )),
            rep(req(
                "protocol",
                Kind::Enum(HTTP_PROTOCOLS),
                "Protocol to the targets",
            )),
            rep(def(
                "target_type",
                Kind::Enum(&["ip", "instance"]),
                DefaultValue::Str("ip"),
                "`ip` for Fargate tasks (awsvpc networking), `instance` for EC2 instances",
            )),
            opt(
                "health_check",
                Kind::Object(HEALTH_CHECK),
                "How the load balancer checks a target; the path must not redirect",
            ),
            def(
                "deregistration_delay",
                Kind::Int,
                DefaultValue::Int(300),
                "Seconds a leaving target keeps serving its open requests (0-3600)",
            ),
            TAGS,
        ],
        attrs: &[attr("arn", AttrKind::Str, "Target group ARN")],
        aws_name: named("name", 32),
        ..PLAIN
    },
    TypeSchema {
        name: "aws.listener",
        doc: "A port of a load balancer and what it does with requests: exactly one of `forward`, `redirect`, `fixed_response`",
        props: &[
            rep(req(
                "load_balancer",
                id("aws.load_balancer", "arn"),
                "Load balancer the listener belongs to",
            )),
            req("port", Kind::Port, "Port to listen on, e.g. 443"),
            req(
                "protocol",
                Kind::Enum(HTTP_PROTOCOLS),
                "`HTTPS` needs `certificate`; `HTTP` forbids it",
            ),
            opt(
                "certificate",
                id("aws.certificate", "arn"),
                "Certificate for `HTTPS`: required with `HTTPS`, forbidden with `HTTP`",
            ),
            def(
                "ssl_policy",
                Kind::Str,
                DefaultValue::Str("ELBSecurityPolicy-TLS13-1-2-2021-06"),
                "TLS versions and ciphers offered; used with `HTTPS` only",
            ),
            opt(
                "forward",
                id("aws.target_group", "arn"),
                "Action: send requests to this target group",
            ),
            opt(
                "redirect",
                Kind::Object(REDIRECT),
                "Action: answer with a redirect, e.g. HTTP to HTTPS",
            ),
            opt(
                "fixed_response",
                Kind::Object(FIXED_RESPONSE),
                "Action: answer with a fixed status and body",
            ),
            opt(
                "certificates",
                Kind::ListOf(&id("aws.certificate", "arn")),
                "Addition: more certificates for `HTTPS`, chosen by the name the client asks for (SNI), besides the default `certificate`; the list is exact",
            ),
            TAGS,
        ],
        attrs: &[attr("arn", AttrKind::Str, "Listener ARN")],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.listener_rule",
        doc: "Addition: a rule of a listener: requests that match its `conditions` (host, path, header, client address) get its action instead of the listener's: exactly one of `forward`, `redirect`, `fixed_response`",
        props: listener_rule::LISTENER_RULE,
        attrs: &[
            attr("arn", AttrKind::Str, "Rule ARN"),
            attr("priority", AttrKind::Int, "The rule's priority, written or assigned by iac"),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.ecs_cluster",
        doc: "An ECS cluster that Fargate services (and, with `capacity_providers`, EC2 capacity) run in",
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
    },
    capacity::INSTANCE_PROFILE,
    capacity::LAUNCH_TEMPLATE,
    capacity::AUTOSCALING_GROUP,
    capacity::CAPACITY_PROVIDER,
    TypeSchema {
        name: "aws.log_group",
        doc: "A CloudWatch Logs group, e.g. for container output",
        props: &[
            rep(def(
                "name",
                Kind::Str,
                DefaultValue::Pattern("/iac/{stack}/{name}"),
                "Log group name (at most 512 characters)",
            )),
            opt(
                "retention_days",
                Kind::Int,
                "Days to keep events, one of the values CloudWatch allows (1, 3, 5, 7, 14, 30, 60, 90, ...); omitted keeps them forever",
            ),
            TAGS,
        ],
        attrs: &[
            attr("name", AttrKind::Str, "Log group name"),
            attr("arn", AttrKind::Str, "Log group ARN"),
        ],
        aws_name: named("name", 512),
        holds: Some(Holds {
            what: "log events",
            forced_by: None,
        }),
        ..PLAIN
    },
    TypeSchema {
        name: "aws.iam_role",
        doc: "An IAM role a service assumes, e.g. the ECS task execution role",
        props: &[
            rep(def(
                "name",
                Kind::Str,
                DefaultValue::AwsName,
                "Addition: role name (at most 64 characters)",
            )),
            rep(req(
                "assumed_by",
                Kind::Str,
                "Service principal allowed to assume the role, e.g. `ecs-tasks.amazonaws.com`",
            )),
            opt(
                "managed_policies",
                Kind::ListOf(&Kind::Str),
                "ARNs of managed policies attached to the role; the list is exact",
            ),
            opt(
                "policies",
                Kind::ListOf(&Kind::Object(POLICY_STATEMENT)),
                "Addition: statements of the role's own policy, sent as one inline policy named `iac` (PutRolePolicy); the list is exact, and iac adds the statements the stack implies (reading `secrets`, ECS Exec)",
            ),
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Role ARN"),
            attr("name", AttrKind::Str, "Role name"),
        ],
        aws_name: named("name", 64),
        ..PLAIN
    },
    TypeSchema {
        name: "aws.ecr_repository",
        doc: "A private container image repository (ECR)",
        props: &[
            rep(def(
                "name",
                Kind::Str,
                DefaultValue::AwsName,
                "Repository name (at most 256 characters, lower case)",
            )),
            def(
                "scan_on_push",
                Kind::Bool,
                DefaultValue::Bool(true),
                "Scan every pushed image for known vulnerabilities",
            ),
            def(
                "immutable_tags",
                Kind::Bool,
                DefaultValue::Bool(false),
                "Refuse to push an image tag that already exists",
            ),
            def(
                "force_delete",
                Kind::Bool,
                DefaultValue::Bool(false),
                "Addition: destroy deletes the repository even if it still holds images",
            ),
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Repository ARN"),
            attr(
                "url",
                AttrKind::Str,
                "Repository URL to push and pull, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/lemon-mart-app`",
            ),
            attr("name", AttrKind::Str, "Addition: repository name"),
        ],
        aws_name: named("name", 256),
        holds: Some(Holds {
            what: "images",
            forced_by: Some("force_delete"),
        }),
        ..PLAIN
    },
    TypeSchema {
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
    },
    TypeSchema {
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
    },
    TypeSchema {
        name: "aws.service_discovery_namespace",
        doc: "Addition: a Cloud Map private DNS namespace in a VPC (e.g. `internal`): services with `discovery` register their tasks in it, and other tasks in the VPC resolve them by name",
        props: &[
            rep(req(
                "name",
                Kind::Str,
                "Domain of the namespace, e.g. `internal` (services answer as `NAME.internal`)",
            )),
            rep(req(
                "vpc",
                id("aws.vpc", "id"),
                "VPC whose resolver answers for the namespace",
            )),
            TAGS,
        ],
        attrs: &[
            attr("id", AttrKind::Str, "Namespace id, e.g. `ns-abc...`"),
            attr("arn", AttrKind::Str, "Namespace ARN"),
            attr(
                "hosted_zone",
                AttrKind::Str,
                "Id of the Route 53 private hosted zone Cloud Map made for it",
            ),
        ],
        ..PLAIN
    },
    TypeSchema {
        name: "aws.dns_record",
        doc: "A Route 53 record set: `ttl` and `values`, or an `alias` to an AWS resource such as a load balancer",
        props: &[
            rep(req(
                "zone",
                id("aws.hosted_zone", "id"),
                "Hosted zone the record goes in",
            )),
            rep(req(
                "name",
                Kind::Str,
                "Full name of the record, inside the zone, e.g. `${var.domain}`",
            )),
            rep(req(
                "record_type",
                Kind::Enum(&["A", "AAAA", "CNAME", "TXT", "MX"]),
                "Record type (`type` is the meta key)",
            )),
            opt(
                "ttl",
                Kind::Int,
                "Seconds resolvers may cache the answer; with `values`, not with `alias`",
            ),
            opt(
                "values",
                Kind::ListOf(&Kind::Str),
                "The record's values; with `ttl`, not with `alias`",
            ),
            opt(
                "alias",
                Kind::Object(ALIAS),
                "Point the name at an AWS resource instead of `ttl` + `values`",
            ),
        ],
        attrs: &[attr(
            "fqdn",
            AttrKind::Str,
            "Fully qualified name of the record",
        )],
        taggable: false,
        ..PLAIN
    },
    TypeSchema {
        name: "aws.ssm_parameter",
        doc: "A parameter of SSM Parameter Store, only ever looked up (`existing: true`): a value kept there, such as an image tag in a public parameter",
        props: &[req(
            "name",
            Kind::Str,
            "The parameter's full name, e.g. `/aws/service/aws-for-fluent-bit/stable`",
        )],
        attrs: &[
            attr("value", AttrKind::Str, "The parameter's value (a `StringList` as written, commas included)"),
            attr("version", AttrKind::Int, "The version the value is of"),
            attr("arn", AttrKind::Str, "Parameter ARN"),
            attr("name", AttrKind::Str, "The parameter's full name"),
        ],
        taggable: false,
        ..PLAIN
    },
    TypeSchema {
        name: super::STACK_REF,
        doc: "The outputs of another stack, read from its state at plan time: `${NAME.OUTPUT}` reads one. Never created, changed or destroyed",
        props: &[
            req(
                "stack",
                Kind::Str,
                "The other stack's name (its `stack:`); its state is found where this stack's is, unless `state` says otherwise",
            ),
            opt(
                "state",
                Kind::Str,
                "Where the other stack's state is, when not beside this one's: a path (relative to this file) or `s3://BUCKET/KEY`",
            ),
        ],
        // Any output name may be read: they are checked against the other stack's state
        // before any AWS call.
        attrs: &[],
        taggable: false,
        ..PLAIN
    },
];
