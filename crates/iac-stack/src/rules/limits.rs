//! The documented limits of single fields: lengths, ranges, allowed characters and forms,
//! CIDR block sizes, tag counts. AWS rejects a value outside them at apply time (often after
//! other resources exist); the emulator accepts most of them.
//!
//! The limits are data ([`FIELDS`]), each with the API operation whose reference documents
//! it; docs/rules.md lists the same table. Only values written in the stack are checked: a
//! name iac derives (`<stack>-<NAME>`) is made to fit the type's limits where it is made.

use super::{key_span, set, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// What a written value must satisfy.
#[derive(Clone, Copy)]
enum Limit {
    /// Characters, at least and at most.
    Len(usize, usize),
    /// An integer between, both included.
    Range(i64, i64),
    /// Only characters for which the function holds; the text names them for the message.
    Chars(&'static str, fn(char) -> bool),
    /// Neither the first nor the last character may be this one.
    NotAtEdge(char),
    /// May not start with this (case-sensitive, as AWS compares).
    NotPrefix(&'static str),
    /// Must start with this.
    Prefix(&'static str),
    /// A CIDR block whose prefix length is between, both included.
    Block(u8, u8),
}

/// A field of a type and its limits, with the operation whose API reference states them.
struct Field {
    rtype: &'static str,
    /// A property path; `[]` stands for every element of a list (`ingress[].description`).
    path: &'static str,
    limits: &'static [Limit],
    api: &'static str,
}

fn alnum_hyphen(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn alnum_hyphen_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn log_group_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')
}

fn iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

fn ecr_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')
}

/// EC2's character set for security group descriptions (group and rule).
fn ec2_description_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c)
}

fn dns_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*')
}

const ELB_NAME: &[Limit] = &[
    Limit::Len(1, 32),
    Limit::Chars("letters, digits and hyphens", alnum_hyphen),
    Limit::NotAtEdge('-'),
];

const ECS_NAME: &[Limit] = &[
    Limit::Len(1, 255),
    Limit::Chars(
        "letters, digits, hyphens and underscores",
        alnum_hyphen_underscore,
    ),
];

const SG_DESCRIPTION: &[Limit] = &[
    Limit::Len(0, 255),
    Limit::Chars(
        "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
        ec2_description_char,
    ),
];

/// Every field limit iac checks before AWS does.
static FIELDS: &[Field] = &[
    Field {
        rtype: "aws.vpc",
        path: "cidr",
        limits: &[Limit::Block(16, 28)],
        api: "CreateVpc",
    },
    Field {
        rtype: "aws.subnet",
        path: "cidr",
        limits: &[Limit::Block(16, 28)],
        api: "CreateSubnet",
    },
    Field {
        rtype: "aws.security_group",
        path: "description",
        limits: SG_DESCRIPTION,
        api: "CreateSecurityGroup",
    },
    Field {
        rtype: "aws.security_group",
        path: "ingress[].description",
        limits: SG_DESCRIPTION,
        api: "AuthorizeSecurityGroupIngress",
    },
    Field {
        rtype: "aws.security_group",
        path: "egress[].description",
        limits: SG_DESCRIPTION,
        api: "AuthorizeSecurityGroupEgress",
    },
    Field {
        rtype: "aws.hosted_zone",
        path: "name",
        limits: &[
            Limit::Len(1, 1024),
            Limit::Chars("letters, digits, dots, hyphens and underscores", dns_char),
        ],
        api: "CreateHostedZone",
    },
    Field {
        rtype: "aws.certificate",
        path: "domain",
        limits: &[
            Limit::Len(1, 253),
            Limit::Chars("letters, digits, dots, hyphens and a leading `*`", dns_char),
        ],
        api: "RequestCertificate",
    },
    Field {
        rtype: "aws.certificate",
        path: "alternative_names[]",
        limits: &[
            Limit::Len(1, 253),
            Limit::Chars("letters, digits, dots, hyphens and a leading `*`", dns_char),
        ],
        api: "RequestCertificate",
    },
    Field {
        rtype: "aws.load_balancer",
        path: "name",
        limits: &[
            Limit::Len(1, 32),
            Limit::Chars("letters, digits and hyphens", alnum_hyphen),
            Limit::NotAtEdge('-'),
            Limit::NotPrefix("internal-"),
        ],
        api: "CreateLoadBalancer",
    },
    Field {
        rtype: "aws.load_balancer",
        path: "idle_timeout",
        limits: &[Limit::Range(1, 4000)],
        api: "ModifyLoadBalancerAttributes",
    },
    Field {
        rtype: "aws.target_group",
        path: "name",
        limits: ELB_NAME,
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.target_group",
        path: "deregistration_delay",
        limits: &[Limit::Range(0, 3600)],
        api: "ModifyTargetGroupAttributes",
    },
    Field {
        rtype: "aws.target_group",
        path: "health_check.path",
        limits: &[Limit::Len(1, 1024), Limit::Prefix("/")],
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.target_group",
        path: "health_check.interval",
        limits: &[Limit::Range(5, 300)],
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.target_group",
        path: "health_check.timeout",
        limits: &[Limit::Range(2, 120)],
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.target_group",
        path: "health_check.healthy_threshold",
        limits: &[Limit::Range(2, 10)],
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.target_group",
        path: "health_check.unhealthy_threshold",
        limits: &[Limit::Range(2, 10)],
        api: "CreateTargetGroup",
    },
    Field {
        rtype: "aws.listener",
        path: "ssl_policy",
        limits: &[Limit::Prefix("ELBSecurityPolicy-")],
        api: "CreateListener",
    },
    Field {
        rtype: "aws.listener",
        path: "fixed_response.message_body",
        limits: &[Limit::Len(0, 1024)],
        api: "CreateListener",
    },
    Field {
        rtype: "aws.listener_rule",
        path: "priority",
        limits: &[Limit::Range(1, 50_000)],
        api: "CreateRule",
    },
    Field {
        rtype: "aws.listener_rule",
        path: "forward.target_groups[].weight",
        limits: &[Limit::Range(0, 999)],
        api: "CreateRule",
    },
    Field {
        rtype: "aws.ecs_cluster",
        path: "name",
        limits: ECS_NAME,
        api: "CreateCluster",
    },
    Field {
        rtype: "aws.log_group",
        path: "name",
        limits: &[
            Limit::Len(1, 512),
            Limit::Chars("letters, digits and . - _ / #", log_group_char),
        ],
        api: "CreateLogGroup",
    },
    Field {
        rtype: "aws.iam_role",
        path: "name",
        limits: &[
            Limit::Len(1, 64),
            Limit::Chars("letters, digits and _+=,.@-", iam_name_char),
        ],
        api: "CreateRole",
    },
    Field {
        rtype: "aws.ecr_repository",
        path: "name",
        limits: &[
            Limit::Len(2, 256),
            Limit::Chars("lower-case letters, digits and . _ - /", ecr_char),
            Limit::NotAtEdge('/'),
        ],
        api: "CreateRepository",
    },
    Field {
        rtype: "aws.task_definition",
        path: "family",
        limits: ECS_NAME,
        api: "RegisterTaskDefinition",
    },
    Field {
        rtype: "aws.ecs_service",
        path: "name",
        limits: ECS_NAME,
        api: "CreateService",
    },
    Field {
        rtype: "aws.ecs_service",
        path: "health_check_grace_period",
        limits: &[Limit::Range(0, 2_147_483_647)],
        api: "CreateService",
    },
    Field {
        rtype: "aws.dns_record",
        path: "name",
        limits: &[
            Limit::Len(1, 1024),
            Limit::Chars(
                "letters, digits, dots, hyphens, underscores and `*`",
                dns_char,
            ),
        ],
        api: "ChangeResourceRecordSets",
    },
    Field {
        rtype: "aws.dns_record",
        path: "ttl",
        limits: &[Limit::Range(0, 2_147_483_647)],
        api: "ChangeResourceRecordSets",
    },
];

/// Tags AWS allows on one resource, and how many of them iac sets itself (`Name`,
/// `iac:stack`, `iac:name`).
const MAX_TAGS: usize = 50;
const IAC_TAGS: usize = 3;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for r in cx.stack.resources.values() {
        for f in FIELDS.iter().filter(|f| f.rtype == r.schema.name) {
            for (path, v) in values_at(r, f.path) {
                if !super::written(r, &path) {
                    continue;
                }
                for limit in f.limits {
                    if let Some(d) = broken(cx, r, &path, v, *limit, f.api) {
                        diags.push(d);
                        break;
                    }
                }
            }
        }
        if r.schema.taggable && !r.existing {
            tags(cx, r, diags);
        }
    }
}

/// The values at `path` with their concrete paths (`ingress[0].description`).
fn values_at<'r>(r: &'r Resource, path: &str) -> Vec<(String, &'r Value)> {
    let mut out: Vec<(String, &Value)> = Vec::new();
    let (head, rest) = match path.split_once("[]") {
        Some((head, rest)) => (head, Some(rest.trim_start_matches('.'))),
        None => (path, None),
    };
    let Some(v) = set(r, head) else {
        return out;
    };
    match rest {
        None => out.push((head.to_string(), v)),
        Some(rest) => {
            for (i, item) in v.as_list().unwrap_or_default().iter().enumerate() {
                let at = format!("{head}[{i}]");
                if rest.is_empty() {
                    out.push((at, item));
                } else if let Some(inner) = item.get(rest) {
                    if !matches!(inner, Value::Null) {
                        out.push((format!("{at}.{rest}"), inner));
                    }
                }
            }
        }
    }
    out
}

/// The diagnostic for a value that breaks `limit`, if it does. Values only apply knows
/// are not checked.
fn broken(
    cx: &Ctx,
    r: &Resource,
    path: &str,
    v: &Value,
    limit: Limit,
    api: &str,
) -> Option<crate::Diag> {
    let here = |code: &'static str, message: String, label: String, help: String| {
        cx.error(code, message)
            .label(r.span_of(path), label)
            .help(help)
    };
    let of = format!("`{path}` of `{}`", r.name);
    match limit {
        Limit::Range(min, max) => {
            let n = cx.known_int(v)?;
            (n < min || n > max).then(|| {
                here(
                    "iac::limits::range",
                    format!("{of} is {n}; {api} accepts {min} to {max}"),
                    format!("outside {min}-{max}"),
                    format!("write a value from {min} to {max}"),
                )
            })
        }
        Limit::Len(min, max) => {
            let s = cx.known_str(v)?;
            let n = s.chars().count();
            (n < min || n > max).then(|| {
                here(
                    "iac::limits::length",
                    format!("{of} is {n} characters long; {api} accepts {min} to {max}"),
                    format!("{n} characters"),
                    if n > max {
                        format!("shorten it to at most {max} characters")
                    } else {
                        format!("write at least {min} characters")
                    },
                )
            })
        }
        Limit::Chars(allowed, ok) => {
            let s = cx.known_str(v)?;
            let bad = s.chars().find(|c| !ok(*c))?;
            Some(here(
                "iac::limits::characters",
                format!("{of} contains `{bad}`; {api} accepts only {allowed}"),
                format!("`{bad}` is not allowed here"),
                format!("use only {allowed}"),
            ))
        }
        Limit::NotAtEdge(c) => {
            let s = cx.known_str(v)?;
            (s.starts_with(c) || s.ends_with(c)).then(|| {
                here(
                    "iac::limits::form",
                    format!("{of} starts or ends with `{c}`, which {api} refuses"),
                    format!("no `{c}` first or last"),
                    format!("remove the leading or trailing `{c}`"),
                )
            })
        }
        Limit::NotPrefix(p) => {
            let s = cx.known_str(v)?;
            s.starts_with(p).then(|| {
                here(
                    "iac::limits::form",
                    format!("{of} starts with `{p}`, which {api} reserves"),
                    format!("starts with `{p}`"),
                    format!("choose a name that does not start with `{p}`"),
                )
            })
        }
        Limit::Prefix(p) => {
            let s = cx.known_str(v)?;
            (!s.starts_with(p)).then(|| {
                here(
                    "iac::limits::form",
                    format!("{of} must start with `{p}` for {api}"),
                    format!("does not start with `{p}`"),
                    format!("write a value that starts with `{p}`"),
                )
            })
        }
        Limit::Block(min, max) => {
            let s = cx.known_str(v)?;
            let len: u8 = s.split_once('/')?.1.parse().ok()?;
            (len < min || len > max).then(|| {
                here(
                    "iac::limits::block_size",
                    format!("{of} is a /{len} block; {api} accepts /{min} (65,536 addresses) to /{max} (16)"),
                    format!("/{len}"),
                    format!("use a prefix length from /{min} to /{max}"),
                )
            })
        }
    }
}

/// Tag keys and values within their lengths, and no more tags than AWS allows once iac has
/// added its own.
fn tags(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let Some(Value::Map(tags)) = set(r, "tags") else {
        return;
    };
    if tags.len() > MAX_TAGS - IAC_TAGS {
        diags.push(
            cx.error(
                "iac::limits::too_many_tags",
                format!(
                    "`{}` has {} tags; with the {IAC_TAGS} iac adds (`Name`, `iac:stack`, `iac:name`) that is more than the {MAX_TAGS} AWS allows on one resource",
                    r.name,
                    tags.len()
                ),
            )
            .label(key_span(r, "tags"), format!("{} tags", tags.len()))
            .help(format!(
                "keep at most {} tags, stack-wide `tags:` included",
                MAX_TAGS - IAC_TAGS
            )),
        );
    }
    for (key, value) in tags {
        let path = format!("tags.{key}");
        let value_len = cx.known_str(value).map_or(0, |s| s.chars().count());
        let (what, n, max, span) = if key.chars().count() > MAX_TAG_KEY {
            ("key", key.chars().count(), MAX_TAG_KEY, key_span(r, &path))
        } else if value_len > MAX_TAG_VALUE {
            ("value", value_len, MAX_TAG_VALUE, r.span_of(&path))
        } else {
            continue;
        };
        diags.push(
            cx.error(
                "iac::limits::length",
                format!(
                    "the {what} of tag `{key}` on `{}` is {n} characters long; AWS accepts at most {max}",
                    r.name
                ),
            )
            .label(span, format!("{n} characters"))
            .help(format!("shorten the tag {what} to at most {max} characters")),
        );
    }
}

#[cfg(test)]
impl Limit {
    /// The limit as docs/rules.md states it.
    fn describe(self) -> String {
        match self {
            Limit::Len(0, max) => format!("at most {max} characters"),
            Limit::Len(min, max) => format!("{min}-{max} characters"),
            Limit::Range(min, max) => format!("{min} to {max}"),
            Limit::Chars(allowed, _) => format!("only {allowed}"),
            Limit::NotAtEdge(c) => format!("no `{c}` first or last"),
            Limit::NotPrefix(p) => format!("not starting with `{p}`"),
            Limit::Prefix(p) => format!("starting with `{p}`"),
            Limit::Block(min, max) => format!("a /{min} to /{max} block"),
        }
    }
}

/// The table of [`FIELDS`] in docs/rules.md.
#[cfg(test)]
fn table() -> String {
    let mut out = String::from("| type | field | limits | documented by |\n|---|---|---|---|\n");
    for f in FIELDS {
        let limits: Vec<String> = f.limits.iter().map(|l| l.describe()).collect();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            f.rtype,
            f.path,
            limits.join("; ").replace('|', "\\|"),
            f.api
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/rules.md lists exactly the limits checked here.
    #[test]
    fn the_docs_list_every_limit() {
        let docs = include_str!("../../../../docs/rules.md");
        let table = table();
        assert!(
            docs.contains(&table),
            "docs/rules.md lacks the table:\n{table}"
        );
    }

    #[test]
    fn every_field_names_a_property_of_its_type() {
        for f in FIELDS {
            let schema = crate::schema::lookup(f.rtype).expect(f.rtype);
            let first = f.path.split(['.', '[']).next().unwrap();
            assert!(
                schema.prop(first).is_some(),
                "{}: no property `{first}`",
                f.rtype
            );
        }
    }
}
