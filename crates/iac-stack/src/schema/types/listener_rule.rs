//! The nested properties of `aws.listener_rule`: its conditions and its weighted `forward`.
//! The redirect and fixed-response actions are the listener's ([`REDIRECT`],
//! [`FIXED_RESPONSE`]).

use super::load_balancing::{FIXED_RESPONSE, REDIRECT};
use super::*;

/// An `http_header` condition: a header and the values that match it.
const HTTP_HEADER: &[Prop] = &[
    req(
        "name",
        Kind::Str,
        "Header name, e.g. `X-Canary` (not `Host`: use `host_header`)",
    ),
    req(
        "values",
        Kind::ListOf(&Kind::Str),
        "Values that match (any one of them); `*` and `?` are wildcards, compared case-insensitively",
    ),
];

/// A rule's `conditions`: all of the given ones must match (each list matches on any of its
/// values).
pub(super) const CONDITIONS: &[Prop] = &[
    opt(
        "host_header",
        Kind::ListOf(&Kind::Str),
        "Host names that match, e.g. `api.example.com` or `*.example.com`",
    ),
    opt(
        "path_pattern",
        Kind::ListOf(&Kind::Str),
        "Paths that match, e.g. `/api/*`; case-sensitive, without the query string",
    ),
    opt(
        "http_header",
        Kind::ListOf(&Kind::Object(HTTP_HEADER)),
        "Headers that match: every header listed must match one of its values",
    ),
    opt(
        "source_ip",
        Kind::ListOf(&Kind::Cidr),
        "Client address ranges that match, e.g. `10.0.0.0/8` (the address the load balancer sees, not `X-Forwarded-For`)",
    ),
];

/// One target group of a weighted `forward`.
const WEIGHTED_TARGET_GROUP: &[Prop] = &[
    req(
        "target_group",
        id("aws.target_group", "arn"),
        "Target group that gets this share of the requests",
    ),
    def(
        "weight",
        Kind::Int,
        DefaultValue::Int(1),
        "Share of the requests, relative to the other groups' weights (0-999; 0 sends none)",
    ),
];

/// The object form of `forward`: several target groups with weights (canary, blue/green).
const WEIGHTED_FORWARD: &[Prop] = &[req(
    "target_groups",
    Kind::ListOf(&Kind::Object(WEIGHTED_TARGET_GROUP)),
    "Target groups and their weights, at most 5",
)];

/// `forward: ${tg.arn}`, or `forward: { target_groups: [...] }` with weights.
pub(super) const FORWARD: Kind = Kind::OneOf(&[
    id("aws.target_group", "arn"),
    Kind::Object(WEIGHTED_FORWARD),
]);

/// The properties of `aws.listener_rule`.
pub(super) const LISTENER_RULE: &[Prop] = &[
    rep(req(
        "listener",
        id("aws.listener", "arn"),
        "Listener the rule belongs to, e.g. `${https.arn}`",
    )),
    opt(
        "priority",
        Kind::Int,
        "Order of evaluation on the listener, 1-50000, lowest first, unique per listener. Omitted: iac assigns one from the rule's place in the file among the listener's rules and keeps it (see docs/listener-rules.md)",
    ),
    req(
        "conditions",
        Kind::Object(CONDITIONS),
        "What a request must match, at least one condition; all given conditions must match",
    ),
    opt(
        "forward",
        FORWARD,
        "Action: send matching requests to a target group (`${tg.arn}`), or split them over several by weight (`{ target_groups: [{ target_group: ${blue.arn}, weight: 90 }, ...] }`)",
    ),
    opt(
        "redirect",
        Kind::Object(REDIRECT),
        "Action: answer with a redirect",
    ),
    opt(
        "fixed_response",
        Kind::Object(FIXED_RESPONSE),
        "Action: answer with a fixed status and body",
    ),
    TAGS,
];
