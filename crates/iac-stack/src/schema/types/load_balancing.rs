//! Load balancing: the load balancer, its target groups, listeners and listener rules (whose
//! nested properties are in [`super::listener_rule`]).

use super::*;

/// `HTTP` or `HTTPS`, as the load balancer spells them.
const HTTP_PROTOCOLS: &[&str] = &["HTTP", "HTTPS"];

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

pub(super) const REDIRECT: &[Prop] = &[
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

pub(super) const FIXED_RESPONSE: &[Prop] = &[
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

pub(super) const LOAD_BALANCER: TypeSchema = TypeSchema {
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
};

pub(super) const TARGET_GROUP: TypeSchema = TypeSchema {
    name: "aws.target_group",
    doc: "Where a listener sends requests: the tasks of a service, health-checked",
    props: &[
        rep(def(
            "name",
            Kind::Str,
            DefaultValue::AwsName,
            "Addition: target group name (at most 32 characters)",
        )),
        rep(req("vpc", id("aws.vpc", "id"), "VPC of the targets")),
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
};

pub(super) const LISTENER: TypeSchema = TypeSchema {
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
};

pub(super) const LISTENER_RULE: TypeSchema = TypeSchema {
    name: "aws.listener_rule",
    doc: "Addition: a rule of a listener: requests that match its `conditions` (host, path, header, client address) get its action instead of the listener's: exactly one of `forward`, `redirect`, `fixed_response`",
    props: listener_rule::LISTENER_RULE,
    attrs: &[
        attr("arn", AttrKind::Str, "Rule ARN"),
        attr("priority", AttrKind::Int, "The rule's priority, written or assigned by iac"),
    ],
    ..PLAIN
};
