//! The nested properties of a task definition's `containers` and `volumes`: the largest part
//! of the type table, kept apart from the types themselves.

use super::*;

/// A container's `health_check` (ECS `healthCheck`): Docker's health check, run by the agent.
pub(super) const CONTAINER_HEALTH_CHECK: &[Prop] = &[
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
pub(super) const CONTAINER_DEPENDENCY: &[Prop] = &[
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

pub(super) const KERNEL_CAPABILITIES: &[Prop] = &[
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
pub(super) const LINUX_PARAMETERS: &[Prop] = &[
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
pub(super) const RESTART_POLICY: &[Prop] = &[
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
pub(super) const MOUNT_POINT: &[Prop] = &[
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
pub(super) const VOLUMES_FROM: &[Prop] = &[
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
pub(super) const FIRELENS: &[Prop] = &[
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
pub(super) const LOG_CONFIGURATION: &[Prop] = &[
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
pub(super) const ENVIRONMENT_FILE: &[Prop] = &[
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
pub(super) const ULIMIT: &[Prop] = &[
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
pub(super) const PORT_MAPPING: &[Prop] = &[
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
pub(super) const EFS_VOLUME: &[Prop] = &[
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
pub(super) const VOLUME: &[Prop] = &[
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

pub(super) const CONTAINER: &[Prop] = &[
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
