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
//! This file holds the helpers every entry is written with and [`TYPES`], the list in the
//! order docs/stack-reference.md (generated from it) shows them; the entries themselves are
//! in one module per family of types: `network`, `dns` (names, certificates, Cloud Map),
//! `load_balancing` (with `listener_rule`'s nested properties), `ecs` (with `container`'s),
//! `capacity` (EC2 capacity for ECS) and `app` (log group, role, image repository, SSM
//! parameters). The common shape of an entry is [`PLAIN`], so an entry writes only what is
//! its own.
//!
//! Additions beyond the contract are marked "Addition:" in their doc, which the reference page
//! shows. Nothing of the contract is renamed or removed.

use super::*;

mod app;
mod capacity;
mod container;
mod dns;
mod ecs;
mod listener_rule;
mod load_balancing;
mod network;

pub use capacity::{ECS_AMI_FAMILY, ECS_AMI_PARAMETER};

/// A property with no default that may be omitted.
pub const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
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

/// An attribute the provider reports.
pub const fn attr(name: &'static str, kind: AttrKind, doc: &'static str) -> Attr {
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

/// What most types are: taggable, no name AWS requires, no data held, no versions. Each entry
/// of [`TYPES`] writes what differs and takes the rest from here (`..PLAIN`).
pub const PLAIN: TypeSchema = TypeSchema {
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
pub const fn named(prop: &'static str, max_len: usize) -> Option<AwsName> {
    Some(AwsName {
        prop: Some(prop),
        max_len,
    })
}

pub static TYPES: &[TypeSchema] = &[
    network::VPC,
    network::SUBNET,
    network::INTERNET_GATEWAY,
    network::EIP,
    network::NAT_GATEWAY,
    network::ROUTE_TABLE,
    network::SECURITY_GROUP,
    dns::HOSTED_ZONE,
    dns::CERTIFICATE,
    load_balancing::LOAD_BALANCER,
    load_balancing::TARGET_GROUP,
    load_balancing::LISTENER,
    load_balancing::LISTENER_RULE,
    ecs::ECS_CLUSTER,
    capacity::INSTANCE_PROFILE,
    capacity::LAUNCH_TEMPLATE,
    capacity::AUTOSCALING_GROUP,
    capacity::CAPACITY_PROVIDER,
    app::LOG_GROUP,
    app::IAM_ROLE,
    app::ECR_REPOSITORY,
    ecs::TASK_DEFINITION,
    ecs::ECS_SERVICE,
    dns::SERVICE_DISCOVERY_NAMESPACE,
    dns::DNS_RECORD,
    app::SSM_PARAMETER,
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
