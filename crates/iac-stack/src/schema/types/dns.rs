//! Names and certificates: hosted zones and their records, ACM certificates, and the Cloud Map
//! namespaces services register in.

use super::*;

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

pub(super) const HOSTED_ZONE: TypeSchema = TypeSchema {
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
};

pub(super) const CERTIFICATE: TypeSchema = TypeSchema {
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
};

pub(super) const SERVICE_DISCOVERY_NAMESPACE: TypeSchema = TypeSchema {
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
};

pub(super) const DNS_RECORD: TypeSchema = TypeSchema {
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
};
