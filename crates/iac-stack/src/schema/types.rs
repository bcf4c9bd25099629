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
//! Additions beyond the contract are marked "Addition:" in their doc, which the reference page
//! shows. Nothing of the contract is renamed or removed.

use super::*;

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

/// A container's `health_check` (ECS `healthCheck`): Docker's health check, run by the agent.
const CONTAINER_HEALTH_CHECK: &[Prop] = &[
    req(
        "command",
        Kind::ListOf(&Kind::Str),
        "The check, as Docker takes it: `[CMD-SHELL, \"curl -f http://localhost/ || exit 1\"]` runs it in the container's shell, `[CMD, ...]` runs it directly; exit 0 means healthy",
    ),
    def(
        "interval",
        Kind::Int,
        DefaultValue::Int(30),
        "Seconds between two checks (5-300)",
    ),
    def(
        "timeout",
        Kind::Int,
        DefaultValue::Int(5),
        "Seconds a check may take before it counts as failed (2-120)",
    ),
    def(
        "retries",
        Kind::Int,
        DefaultValue::Int(3),
        "Consecutive failed checks before the container is unhealthy (1-10)",
    ),
    def(
        "start_period",
        Kind::Int,
        DefaultValue::Int(0),
        "Seconds after start during which failed checks do not count (0-300)",
    ),
];

/// An entry of a container's `depends_on` (ECS `dependsOn`).
const CONTAINER_DEPENDENCY: &[Prop] = &[
    req(
        "container",
        Kind::Str,
        "Name of another container of the task",
    ),
    req(
        "condition",
        Kind::Enum(&["START", "COMPLETE", "SUCCESS", "HEALTHY"]),
        "What that container must do first: have started (`START`), have exited (`COMPLETE`), have exited with 0 (`SUCCESS`; these two not on an essential container), or pass its `health_check` (`HEALTHY`)",
    ),
];

const KERNEL_CAPABILITIES: &[Prop] = &[
    opt(
        "add",
        Kind::ListOf(&Kind::Str),
        "Capabilities added to Docker's default set; Fargate allows only `SYS_PTRACE`",
    ),
    opt(
        "drop",
        Kind::ListOf(&Kind::Str),
        "Capabilities removed from Docker's default set, e.g. `NET_RAW`, or `ALL`",
    ),
];

/// A container's `linux_parameters`: what Fargate allows of ECS `linuxParameters`.
const LINUX_PARAMETERS: &[Prop] = &[
    opt(
        "capabilities",
        Kind::Object(KERNEL_CAPABILITIES),
        "Linux capabilities to add and drop",
    ),
    opt(
        "init_process_enabled",
        Kind::Bool,
        "Run an init process (PID 1) in the container that forwards signals and reaps zombies; omitted means no init",
    ),
];

/// A container's `restart_policy` (ECS `restartPolicy`).
const RESTART_POLICY: &[Prop] = &[
    def(
        "enabled",
        Kind::Bool,
        DefaultValue::Bool(true),
        "Restart the container in place when it exits, instead of stopping the task (if essential)",
    ),
    opt(
        "ignored_exit_codes",
        Kind::ListOf(&Kind::Int),
        "Exit codes that do not restart the container (at most 50)",
    ),
    opt(
        "restart_attempt_period",
        Kind::Int,
        "Seconds the container must run before a restart is allowed again (60-1800; ECS's default is 300)",
    ),
];

/// An entry of a container's `mount_points` (ECS `mountPoints`).
const MOUNT_POINT: &[Prop] = &[
    req(
        "volume",
        Kind::Str,
        "Name of a volume of the task (`volumes[].name`)",
    ),
    req(
        "path",
        Kind::Str,
        "Where the volume appears in the container, e.g. `/var/cache/app`",
    ),
    opt(
        "read_only",
        Kind::Bool,
        "Mount it read-only; omitted means read-write",
    ),
];

/// An entry of a container's `volumes_from` (ECS `volumesFrom`).
const VOLUMES_FROM: &[Prop] = &[
    req(
        "container",
        Kind::Str,
        "Name of another container of the task whose mount points this one gets too",
    ),
    opt(
        "read_only",
        Kind::Bool,
        "Mount them read-only; omitted means read-write",
    ),
];

/// A container's `firelens_configuration`: it is the task's log router.
const FIRELENS: &[Prop] = &[
    req(
        "type",
        Kind::Enum(&["fluentbit", "fluentd"]),
        "The log router in the container's image: Fluent Bit (e.g. `public.ecr.aws/aws-observability/aws-for-fluent-bit`) or Fluentd",
    ),
    opt(
        "options",
        Kind::MapOf(&Kind::Str),
        "Options of the router, e.g. `enable-ecs-log-metadata: \"true\"`, or `config-file-type: file` with `config-file-value: /fluent-bit/etc/extra.conf`",
    ),
];

/// A container's `log_configuration` (ECS `logConfiguration`): the long form of `log_group`.
const LOG_CONFIGURATION: &[Prop] = &[
    req(
        "driver",
        Kind::Enum(&["awslogs", "awsfirelens", "splunk"]),
        "Log driver, of those Fargate offers: `awsfirelens` sends the output to the task's log router (the container with `firelens_configuration`)",
    ),
    opt(
        "options",
        Kind::MapOf(&Kind::Str),
        "Options of the driver, sent as written (for `awsfirelens`: the router's output, e.g. `Name: cloudwatch_logs`, `region`, `log_group_name`)",
    ),
    opt(
        "secret_options",
        Kind::MapOf(&Kind::Str),
        "Options of the driver read at start from SSM parameters or Secrets Manager: NAME -> ARN (the execution role reads them)",
    ),
];

/// An entry of a container's `environment_files` (ECS `environmentFiles`).
const ENVIRONMENT_FILE: &[Prop] = &[
    opt(
        "type",
        Kind::Enum(&["s3"]),
        "Where the file is: an S3 object (the only kind ECS has); omitted means `s3`",
    ),
    req(
        "value",
        Kind::Str,
        "ARN of the S3 object, a `.env` file of `NAME=value` lines, e.g. `arn:aws:s3:::my-bucket/app.env` (the execution role reads it)",
    ),
];

/// An entry of a container's `ulimits`.
const ULIMIT: &[Prop] = &[
    req(
        "name",
        Kind::Enum(&[
            "core",
            "cpu",
            "data",
            "fsize",
            "locks",
            "memlock",
            "msgqueue",
            "nice",
            "nofile",
            "nproc",
            "rss",
            "rtprio",
            "rttime",
            "sigpending",
            "stack",
        ]),
        "The resource limited, e.g. `nofile` (open files)",
    ),
    req("soft", Kind::Int, "Soft limit; at most `hard`"),
    req("hard", Kind::Int, "Hard limit"),
];

/// An entry of a container's `port_mappings` (ECS `portMappings`): the long form of `port`.
const PORT_MAPPING: &[Prop] = &[
    req(
        "port",
        Kind::Port,
        "Port the container listens on (ECS `containerPort`)",
    ),
    opt(
        "host_port",
        Kind::Port,
        "Port on the task's network interface; with awsvpc networking it must equal `port`, which it is when omitted",
    ),
    def(
        "protocol",
        Kind::Enum(&["tcp", "udp"]),
        DefaultValue::Str("tcp"),
        "Transport protocol",
    ),
    opt(
        "name",
        Kind::Str,
        "Name of the port mapping, for Service Connect; unique in the task",
    ),
    opt(
        "app_protocol",
        Kind::Enum(&["http", "http2", "grpc"]),
        "Application protocol spoken on the port, for Service Connect metrics",
    ),
];

/// The `efs` of a task volume (ECS `efsVolumeConfiguration`).
const EFS_VOLUME: &[Prop] = &[
    req(
        "file_system",
        Kind::Str,
        "Id of the EFS file system, e.g. `fs-0123456789abcdef0`",
    ),
    opt(
        "root_directory",
        Kind::Str,
        "Directory of the file system mounted as the volume's root; omitted means `/`. Must be omitted or `/` with `access_point`",
    ),
    opt(
        "access_point",
        Kind::Str,
        "Id of an EFS access point to mount through, e.g. `fsap-0123456789abcdef0`; needs `transit_encryption`",
    ),
    opt(
        "transit_encryption",
        Kind::Bool,
        "Encrypt the traffic to the file system (TLS); needed with `access_point` and `iam`. Omitted means off",
    ),
    opt(
        "iam",
        Kind::Bool,
        "Mount with the task role, so the file system policy decides what the task may do; needs `transit_encryption`. Omitted means off",
    ),
];

/// An entry of a task definition's `volumes`.
const VOLUME: &[Prop] = &[
    req(
        "name",
        Kind::Str,
        "Volume name, unique in the task; containers mount it with `mount_points[].volume`",
    ),
    opt(
        "efs",
        Kind::Object(EFS_VOLUME),
        "An EFS file system; omitted, the volume is a bind mount on the task's ephemeral storage, shared by the containers that mount it and gone with the task",
    ),
];

const CONTAINER: &[Prop] = &[
    req(
        "name",
        Kind::Str,
        "Container name, unique in the task; the service's `load_balancer.container` names it",
    ),
    req(
        "image",
        Kind::Str,
        "Image to run, e.g. `public.ecr.aws/nginx/nginx:1.27` or `${repo.url}:v1`",
    ),
    opt(
        "port",
        Kind::Port,
        "TCP port the container listens on (80 for nginx, 3000 for node); the short form of `port_mappings`, not with it",
    ),
    opt(
        "port_mappings",
        Kind::ListOf(&Kind::Object(PORT_MAPPING)),
        "Addition: the ports the container listens on, with protocol and Service Connect name; the long form of `port`, not with it",
    ),
    opt(
        "cpu",
        Kind::Int,
        "Addition: CPU units reserved for the container (1024 is one vCPU); the containers' sum must fit the task's `cpu`. Omitted, the container shares what the others leave",
    ),
    opt(
        "memory",
        Kind::Int,
        "Addition: hard memory limit of the container in MiB (ECS `memory`); the container is killed above it",
    ),
    opt(
        "memory_reservation",
        Kind::Int,
        "Addition: soft memory limit in MiB (ECS `memoryReservation`), what the task reserves for the container",
    ),
    opt(
        "entry_point",
        Kind::ListOf(&Kind::Str),
        "Addition: entry point overriding the image's `ENTRYPOINT`, one argument per entry",
    ),
    opt(
        "command",
        Kind::ListOf(&Kind::Str),
        "Command overriding the image's `CMD`, one argument per entry",
    ),
    opt(
        "working_directory",
        Kind::Str,
        "Addition: directory the command runs in, overriding the image's `WORKDIR`",
    ),
    opt(
        "user",
        Kind::Str,
        "Addition: user the container runs as: `user`, `uid`, `user:group`, `uid:gid`...; omitted, the image's `USER`",
    ),
    opt(
        "environment",
        Kind::MapOf(&Kind::Str),
        "Environment variables; values are strings (quote numbers). Never put secrets here",
    ),
    opt(
        "environment_files",
        Kind::ListOf(&Kind::Object(ENVIRONMENT_FILE)),
        "Addition: `.env` files in S3 whose variables are added to the environment at start (`environment` wins on a name both set); at most 10",
    ),
    opt(
        "secrets",
        Kind::MapOf(&Kind::Str),
        "Environment variables read at start from SSM parameters or Secrets Manager: NAME -> ARN",
    ),
    opt(
        "log_group",
        id("aws.log_group", "name"),
        "Send the container's output to this CloudWatch log group (the awslogs driver); the short form of `log_configuration`, not with it",
    ),
    opt(
        "log_stream_prefix",
        Kind::Str,
        "Addition: prefix of the log streams in `log_group` (`awslogs-stream-prefix`; streams are named `PREFIX/CONTAINER/TASK_ID`); omitted, the container's name. Only with `log_group`",
    ),
    opt(
        "log_configuration",
        Kind::Object(LOG_CONFIGURATION),
        "Addition: the log driver and its options, sent as written: `awsfirelens` to a log router, or awslogs options `log_group` does not set; the long form of `log_group`, not with it",
    ),
    opt(
        "firelens_configuration",
        Kind::Object(FIRELENS),
        "Addition: this container is the task's log router (FireLens), which the other containers' `log_configuration.driver: awsfirelens` sends to; one per task",
    ),
    opt(
        "health_check",
        Kind::Object(CONTAINER_HEALTH_CHECK),
        "Addition: a command ECS runs in the container to see it is healthy; an essential unhealthy container stops the task, and `depends_on` may wait for `HEALTHY`",
    ),
    opt(
        "depends_on",
        Kind::ListOf(&Kind::Object(CONTAINER_DEPENDENCY)),
        "Addition: containers of the task this one starts after (and stops before), with the condition each must meet first",
    ),
    def(
        "essential",
        Kind::Bool,
        DefaultValue::Bool(true),
        "The task stops when this container stops",
    ),
    opt(
        "restart_policy",
        Kind::Object(RESTART_POLICY),
        "Addition: restart the container in place when it exits, instead of replacing the whole task",
    ),
    opt(
        "stop_timeout",
        Kind::Int,
        "Addition: seconds the container gets after SIGTERM before it is killed (at most 120 on Fargate; omitted, 30)",
    ),
    opt(
        "readonly_root_filesystem",
        Kind::Bool,
        "Addition: mount the container's root file system read-only (write to volumes instead); omitted means writable",
    ),
    opt(
        "mount_points",
        Kind::ListOf(&Kind::Object(MOUNT_POINT)),
        "Addition: volumes of the task (`volumes`) mounted into the container",
    ),
    opt(
        "volumes_from",
        Kind::ListOf(&Kind::Object(VOLUMES_FROM)),
        "Addition: mount every volume another container of the task mounts, at the same paths",
    ),
    opt(
        "linux_parameters",
        Kind::Object(LINUX_PARAMETERS),
        "Addition: Linux capabilities and an init process",
    ),
    opt(
        "ulimits",
        Kind::ListOf(&Kind::Object(ULIMIT)),
        "Addition: resource limits of the container's processes, e.g. `{name: nofile, soft: 65536, hard: 65536}`",
    ),
    opt(
        "docker_labels",
        Kind::MapOf(&Kind::Str),
        "Addition: Docker labels of the container (metadata for agents and log routers)",
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
    },
    TypeSchema {
        name: "aws.eip",
        doc: "An elastic (static public) IPv4 address, e.g. for a NAT gateway; billed while it exists",
        props: &[TAGS],
        attrs: &[
            attr("id", AttrKind::Str, "Allocation id, e.g. `eipalloc-0abc...`"),
            attr("public_ip", AttrKind::Str, "The public IPv4 address"),
        ],
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: Some(Holds {
            what: "records",
            forced_by: None,
        }),
        renews: None,
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
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 32,
        }),
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 32,
        }),
        holds: None,
        renews: None,
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
            TAGS,
        ],
        attrs: &[attr("arn", AttrKind::Str, "Listener ARN")],
        taggable: true,
        aws_name: None,
        holds: None,
        renews: None,
    },
    TypeSchema {
        name: "aws.ecs_cluster",
        doc: "An ECS cluster that Fargate services run in",
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
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Cluster ARN"),
            attr("name", AttrKind::Str, "Cluster name"),
        ],
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 255,
        }),
        holds: None,
        renews: None,
    },
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
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 512,
        }),
        holds: Some(Holds {
            what: "log events",
            forced_by: None,
        }),
        renews: None,
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
            TAGS,
        ],
        attrs: &[
            attr("arn", AttrKind::Str, "Role ARN"),
            attr("name", AttrKind::Str, "Role name"),
        ],
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 64,
        }),
        holds: None,
        renews: None,
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
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 256,
        }),
        holds: Some(Holds {
            what: "images",
            forced_by: Some("force_delete"),
        }),
        renews: None,
    },
    TypeSchema {
        name: "aws.task_definition",
        doc: "What a Fargate task runs; immutable, so every change registers a new revision and the old one is deregistered once unused",
        props: &[
            def(
                "family",
                Kind::Str,
                DefaultValue::AwsName,
                "Family the revisions are registered under (at most 255 characters)",
            ),
            req(
                "cpu",
                Kind::Int,
                "CPU units of the task: 256 (0.25 vCPU), 512, 1024, 2048, 4096, 8192 or 16384",
            ),
            req(
                "memory",
                Kind::Int,
                "Memory of the task in MiB; must pair with `cpu` as Fargate allows (256 CPU: 512, 1024 or 2048)",
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
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("family"),
            max_len: 255,
        }),
        holds: None,
        renews: Some(Renews {
            noun: "revision",
            counter: "revision",
            old: "the old one is deregistered once no service uses it",
        }),
    },
    TypeSchema {
        name: "aws.ecs_service",
        doc: "Keeps `desired_count` Fargate tasks running (awsvpc networking) and rolls deploys",
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
            req(
                "desired_count",
                Kind::Int,
                "Number of tasks to keep running; 0 stops all of them",
            ),
            req(
                "subnets",
                Kind::ListOf(&id("aws.subnet", "id")),
                "Subnets the tasks are placed in, spread over their zones",
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
        ],
        taggable: true,
        aws_name: Some(AwsName {
            prop: Some("name"),
            max_len: 255,
        }),
        holds: None,
        renews: None,
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
        aws_name: None,
        holds: None,
        renews: None,
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
        aws_name: None,
        holds: None,
        renews: None,
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
        aws_name: None,
        holds: None,
        renews: None,
    },
];
