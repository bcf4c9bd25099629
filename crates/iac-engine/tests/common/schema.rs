//! The test resource types: a few shaped like the real ones (replace marks, an AWS-named
//! type, nested objects), and `ALL`, the schemas the fake provider knows.

use iac_stack::schema::{self, Attr, AttrKind, DefaultValue, Kind, Prop, TypeSchema};

/// A property of the test types (no doc); `replace` marks it as forcing a new object.
const fn prop(name: &'static str, kind: Kind, replace: bool) -> Prop {
    Prop {
        replace,
        ..schema::opt(name, kind, "")
    }
}

const fn attr(name: &'static str, kind: AttrKind) -> Attr {
    schema::attr(name, kind, "")
}

/// A property whose default is the AWS name iac generates.
const fn aws_named(name: &'static str, kind: Kind, replace: bool) -> Prop {
    Prop {
        default: Some(DefaultValue::AwsName),
        ..prop(name, kind, replace)
    }
}

/// A property holding the `id` of a resource of type `rtype`.
const fn id_of(name: &'static str, rtype: &'static str, replace: bool) -> Prop {
    prop(name, Kind::Id { rtype, attr: "id" }, replace)
}

const TAGS: Prop = prop("tags", Kind::MapOf(&Kind::Str), false);

pub static VPC: TypeSchema = TypeSchema {
    name: "aws.vpc",
    props: &[
        prop("cidr", Kind::Cidr, true),
        Prop {
            default: Some(DefaultValue::Bool(true)),
            ..prop("dns_hostnames", Kind::Bool, false)
        },
        TAGS,
    ],
    attrs: &[attr("id", AttrKind::Str), attr("cidr", AttrKind::Str)],
    ..schema::PLAIN
};

pub static SUBNET: TypeSchema = TypeSchema {
    name: "aws.subnet",
    props: &[
        id_of("vpc", "aws.vpc", true),
        prop("cidr", Kind::Cidr, true),
        prop("az", Kind::Str, true),
        Prop {
            default: Some(DefaultValue::Bool(false)),
            ..prop("public", Kind::Bool, false)
        },
        TAGS,
    ],
    attrs: &[
        attr("id", AttrKind::Str),
        attr("az", AttrKind::Str),
        attr("cidr", AttrKind::Str),
    ],
    ..schema::PLAIN
};

static RULE: &[Prop] = &[
    prop("protocol", Kind::Str, false),
    prop("port", Kind::Port, false),
    prop("cidr", Kind::Cidr, false),
];

pub static SG: TypeSchema = TypeSchema {
    name: "aws.security_group",
    props: &[
        id_of("vpc", "aws.vpc", true),
        prop("description", Kind::Str, true),
        prop("ingress", Kind::ListOf(&Kind::Object(RULE)), false),
        TAGS,
    ],
    attrs: &[attr("id", AttrKind::Str)],
    ..schema::PLAIN
};

static HEALTH: &[Prop] = &[
    prop("path", Kind::Str, false),
    prop("interval", Kind::Int, false),
];

pub static TG: TypeSchema = TypeSchema {
    name: "aws.target_group",
    props: &[
        aws_named("name", Kind::Str, true),
        id_of("vpc", "aws.vpc", true),
        prop("port", Kind::Port, true),
        prop("health_check", Kind::Object(HEALTH), false),
        TAGS,
    ],
    attrs: &[attr("arn", AttrKind::Str)],
    aws_name: schema::named("name", 32),
    ..schema::PLAIN
};

static CONTAINER: &[Prop] = &[
    prop("name", Kind::Str, false),
    prop("image", Kind::Str, false),
    prop("port", Kind::Port, false),
    prop("environment", Kind::MapOf(&Kind::Str), false),
];

pub static TASK: TypeSchema = TypeSchema {
    name: "aws.task_definition",
    props: &[
        aws_named("family", Kind::Str, false),
        prop("cpu", Kind::Int, false),
        prop("containers", Kind::ListOf(&Kind::Object(CONTAINER)), false),
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str),
        attr("family", AttrKind::Str),
        attr("revision", AttrKind::Int),
    ],
    aws_name: schema::named("family", 255),
    ..schema::PLAIN
};

/// A log group: its events go with it when it is deleted.
pub static LOG: TypeSchema = TypeSchema {
    name: "aws.log_group",
    props: &[
        Prop {
            default: Some(DefaultValue::Pattern("/iac/{stack}/{name}")),
            ..prop("name", Kind::Str, true)
        },
        prop("retention_days", Kind::Int, false),
        TAGS,
    ],
    attrs: &[attr("name", AttrKind::Str), attr("arn", AttrKind::Str)],
    aws_name: schema::named("name", 512),
    ..schema::PLAIN
};

/// An image repository: deleted with its images only under `force_delete: true`.
pub static ECR: TypeSchema = TypeSchema {
    name: "aws.ecr_repository",
    props: &[
        aws_named("name", Kind::Str, true),
        Prop {
            default: Some(DefaultValue::Bool(false)),
            ..prop("force_delete", Kind::Bool, false)
        },
        TAGS,
    ],
    attrs: &[
        attr("arn", AttrKind::Str),
        attr("url", AttrKind::Str),
        attr("name", AttrKind::Str),
    ],
    aws_name: schema::named("name", 256),
    ..schema::PLAIN
};

pub static ZONE: TypeSchema = TypeSchema {
    name: "aws.hosted_zone",
    props: &[prop("name", Kind::Str, true), TAGS],
    attrs: &[attr("id", AttrKind::Str), attr("name", AttrKind::Str)],
    ..schema::PLAIN
};

pub static RECORD: TypeSchema = TypeSchema {
    name: "aws.dns_record",
    props: &[
        id_of("zone", "aws.hosted_zone", true),
        prop("name", Kind::Str, true),
        prop("values", Kind::ListOf(&Kind::Str), false),
    ],
    attrs: &[attr("fqdn", AttrKind::Str)],
    taggable: false,
    ..schema::PLAIN
};

/// A listener: forwards to a target group, updated in place (as ModifyListener does).
pub static LISTENER: TypeSchema = TypeSchema {
    name: "aws.listener",
    props: &[
        prop("port", Kind::Port, false),
        prop(
            "forward",
            Kind::Id {
                rtype: "aws.target_group",
                attr: "arn",
            },
            false,
        ),
        TAGS,
    ],
    attrs: &[attr("arn", AttrKind::Str)],
    ..schema::PLAIN
};

static SERVICE_LB: &[Prop] = &[
    prop(
        "target_group",
        Kind::Id {
            rtype: "aws.target_group",
            attr: "arn",
        },
        false,
    ),
    prop("container", Kind::Str, false),
    prop("port", Kind::Port, false),
];

/// An ECS service: AWS-named, its target group changed in place (UpdateService).
pub static SERVICE: TypeSchema = TypeSchema {
    name: "aws.ecs_service",
    props: &[
        aws_named("name", Kind::Str, true),
        prop("desired_count", Kind::Int, false),
        prop("load_balancer", Kind::Object(SERVICE_LB), false),
        TAGS,
    ],
    attrs: &[attr("arn", AttrKind::Str), attr("name", AttrKind::Str)],
    aws_name: schema::named("name", 255),
    ..schema::PLAIN
};

pub static ALL: &[&TypeSchema] = &[
    &VPC, &SUBNET, &SG, &TG, &TASK, &ZONE, &RECORD, &LISTENER, &SERVICE, &LOG, &ECR,
];
