//! What an application needs beside its network and its cluster: a log group, an IAM role,
//! an image repository and SSM parameters.

use super::*;

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

pub(super) const LOG_GROUP: TypeSchema = TypeSchema {
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
};

pub(super) const IAM_ROLE: TypeSchema = TypeSchema {
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
};

pub(super) const ECR_REPOSITORY: TypeSchema = TypeSchema {
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
};

pub(super) const SSM_PARAMETER: TypeSchema = TypeSchema {
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
};
