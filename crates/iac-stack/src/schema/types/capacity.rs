//! The EC2 capacity of ECS: the instance profile, launch template and Auto Scaling group
//! the instances come from, the capacity provider that lets ECS scale them, and the
//! cluster's `capacity_providers` and `default_strategy` (docs/ec2-capacity.md).

use super::*;

/// The SSM parameter of the ECS-optimised Amazon Linux 2023 AMI: the default image of a
/// launch template.
pub const ECS_AMI_PARAMETER: &str =
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id";

/// The prefix of every ECS-optimised AMI parameter AWS publishes.
pub const ECS_AMI_FAMILY: &str = "/aws/service/ecs/optimized-ami/";

/// `metadata:` of a launch template: the instance metadata service (IMDS).
const METADATA: &[Prop] = &[def(
    "http_tokens",
    Kind::Enum(&["required", "optional"]),
    DefaultValue::Str("required"),
    "`required`: only IMDSv2 (session tokens) answers; `optional` also answers IMDSv1 requests",
)];

/// `managed_scaling:` of a capacity provider.
const MANAGED_SCALING: &[Prop] = &[
    def(
        "status",
        Kind::Enum(&["ENABLED", "DISABLED"]),
        DefaultValue::Str("ENABLED"),
        "`ENABLED`: ECS sets the group's desired capacity from the tasks waiting for room",
    ),
    def(
        "target_capacity",
        Kind::Int,
        DefaultValue::Int(100),
        "Percent of the group's capacity ECS aims to use (1-100); below 100 keeps spare instances",
    ),
    def(
        "min_step",
        Kind::Int,
        DefaultValue::Int(1),
        "Fewest instances one scaling step adds or removes (1-10000)",
    ),
    def(
        "max_step",
        Kind::Int,
        DefaultValue::Int(10000),
        "Most instances one scaling step adds or removes (1-10000, at least `min_step`)",
    ),
    def(
        "instance_warmup_period",
        Kind::Int,
        DefaultValue::Int(300),
        "Seconds after a launch before an instance counts in the group's metrics (0-10000)",
    ),
];

/// An entry of a cluster's `default_strategy` or a service's `capacity_provider_strategy`.
pub const STRATEGY_ITEM: &[Prop] = &[
    req(
        "capacity_provider",
        id("aws.capacity_provider", "name"),
        "A capacity provider the cluster lists in `capacity_providers`: `${cp.name}`, `FARGATE` or `FARGATE_SPOT`",
    ),
    def(
        "weight",
        Kind::Int,
        DefaultValue::Int(1),
        "Share of the tasks beyond the bases this provider gets, relative to the others (0-1000)",
    ),
    def(
        "base",
        Kind::Int,
        DefaultValue::Int(0),
        "Tasks placed on this provider first, before the weights count (0-100000; only one entry may have a base)",
    ),
];

/// `capacity_providers:` of `aws.ecs_cluster`.
pub const CAPACITY_PROVIDERS: Prop = opt(
    "capacity_providers",
    Kind::ListOf(&id("aws.capacity_provider", "name")),
    "Addition: capacity providers the cluster's services may use: `aws.capacity_provider` names (`${cp.name}`), `FARGATE`, `FARGATE_SPOT`; the list is exact and changes in place (PutClusterCapacityProviders)",
);

/// `default_strategy:` of `aws.ecs_cluster`.
pub const DEFAULT_STRATEGY: Prop = opt(
    "default_strategy",
    Kind::ListOf(&Kind::Object(STRATEGY_ITEM)),
    "Addition: how services and tasks started without a launch type or strategy spread over `capacity_providers` (an `aws.ecs_service` without either is sent `FARGATE`: write its `capacity_provider_strategy` to use these providers); changes in place",
);

pub const INSTANCE_PROFILE: TypeSchema = TypeSchema {
    name: "aws.instance_profile",
    doc: "Addition: an IAM instance profile: how EC2 instances take a role (for ECS container instances, a role with `AmazonEC2ContainerServiceforEC2Role`)",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Instance profile name (at most 128 characters)",
        )),
        req(
            "role",
            id("aws.iam_role", "name"),
            "Name of the one role the instances take (`${role.name}`); a change swaps the role in place",
        ),
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str, "Instance profile ARN"),
        attr("name", AttrKind::Str, "Instance profile name"),
    ],
    aws_name: named("name", 128),
    ..PLAIN
};

pub const LAUNCH_TEMPLATE: TypeSchema = TypeSchema {
    name: "aws.launch_template",
    doc: "Addition: an EC2 launch template: what the instances of an Auto Scaling group are (AMI, type, role, user data). A change makes a new version and sets it as the default, never a new template",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Launch template name (at most 128 characters)",
        )),
        def(
            "ami_parameter",
            Kind::Str,
            DefaultValue::Str(ECS_AMI_PARAMETER),
            "SSM parameter holding the AMI id, read when a version is made; a plan shows a change when the parameter has moved on to another AMI",
        ),
        req(
            "instance_type",
            Kind::Str,
            "EC2 instance type, e.g. `t3.medium` or `m7g.large`",
        ),
        opt(
            "instance_profile",
            id("aws.instance_profile", "arn"),
            "Instance profile the instances take (`${profile.arn}`); ECS container instances need one",
        ),
        opt(
            "cluster",
            id("aws.ecs_cluster", "name"),
            "ECS cluster the instances join (`${cluster.name}`): the user data starts with `echo ECS_CLUSTER=NAME >> /etc/ecs/ecs.config`",
        ),
        opt(
            "user_data",
            Kind::Str,
            "More of the instances' boot script, run after the line that joins `cluster`",
        ),
        opt(
            "security_groups",
            Kind::ListOf(&id("aws.security_group", "id")),
            "Security groups of the instances",
        ),
        opt(
            "metadata",
            Kind::Object(METADATA),
            "The instance metadata service; IMDSv2 only (`http_tokens: required`) when omitted",
        ),
        TAGS,
    ],
    attrs: &[
        attr("id", AttrKind::Str, "Launch template id, e.g. `lt-0abc...`"),
        attr("name", AttrKind::Str, "Launch template name"),
        attr(
            "version",
            AttrKind::Int,
            "The default version: the one the last apply made",
        ),
        attr(
            "image_id",
            AttrKind::Str,
            "The AMI id `ami_parameter` gave when the default version was made",
        ),
    ],
    aws_name: named("name", 128),
    renews: Some(Renews {
        noun: "version",
        counter: "version",
        old: "older versions are kept",
    }),
    ..PLAIN
};

pub const AUTOSCALING_GROUP: TypeSchema = TypeSchema {
    name: "aws.autoscaling_group",
    doc: "Addition: an EC2 Auto Scaling group: instances from a launch template in the given subnets, e.g. the capacity of an ECS capacity provider",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Group name (at most 255 characters)",
        )),
        req(
            "launch_template",
            id("aws.launch_template", "id"),
            "Launch template of the instances (`${lt.id}`)",
        ),
        def(
            "launch_template_version",
            Kind::Enum(&["$Default", "$Latest"]),
            DefaultValue::Str("$Default"),
            "Which version of the template new instances use; iac makes each new version the default",
        ),
        req(
            "subnets",
            Kind::ListOf(&id("aws.subnet", "id")),
            "Subnets the instances are launched in, spread over their zones",
        ),
        req("min", Kind::Int, "Fewest instances the group keeps"),
        req(
            "max",
            Kind::Int,
            "Most instances the group may run; at least `min`",
        ),
        opt(
            "desired",
            Kind::Int,
            "Instances to start with (between `min` and `max`; omitted, `min`). Afterwards the group's scaler (an ECS capacity provider's managed scaling) owns the live count: plans do not reset it",
        ),
        def(
            "protect_from_scale_in",
            Kind::Bool,
            DefaultValue::Bool(false),
            "New instances are protected from scale-in; a capacity provider with managed termination protection needs it",
        ),
        def(
            "health_check_grace_period",
            Kind::Int,
            DefaultValue::Int(300),
            "Seconds after a launch before the group checks an instance's health",
        ),
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str, "Group ARN"),
        attr("name", AttrKind::Str, "Group name"),
        attr(
            "live_desired",
            AttrKind::Int,
            "The desired capacity the group has now (its scaler's choice)",
        ),
    ],
    aws_name: named("name", 255),
    shows_live: &[ShowsLive {
        attr: "live_desired",
        when: "desired",
        says: "instances the group wants now; `desired` is only the starting count",
    }],
    ..PLAIN
};

pub const CAPACITY_PROVIDER: TypeSchema = TypeSchema {
    name: "aws.capacity_provider",
    doc: "Addition: an ECS capacity provider over an Auto Scaling group: ECS scales the group for the tasks it places there. Listed in a cluster's `capacity_providers`",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Capacity provider name (at most 255 characters; not starting with `aws`, `ecs` or `fargate`)",
        )),
        rep(req(
            "autoscaling_group",
            id("aws.autoscaling_group", "arn"),
            "ARN of the Auto Scaling group (`${asg.arn}`)",
        )),
        opt(
            "managed_scaling",
            Kind::Object(MANAGED_SCALING),
            "How ECS scales the group; omitted, enabled with a target capacity of 100%",
        ),
        def(
            "managed_termination_protection",
            Kind::Bool,
            DefaultValue::Bool(false),
            "ECS keeps instances running tasks from being terminated on scale-in; needs the group's `protect_from_scale_in`",
        ),
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str, "Capacity provider ARN"),
        attr("name", AttrKind::Str, "Capacity provider name"),
    ],
    aws_name: named("name", 255),
    ..PLAIN
};
