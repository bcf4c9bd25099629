//! What identifies an existing object of each type for `existing: true`: the properties a
//! lookup searches by. The loader checks that a lookup sets them (without any call to AWS),
//! the engine names them when nothing or several objects match, and the provider searches
//! by them.
//!
//! A type missing from this table cannot be looked up by its properties (nothing short of
//! its id singles an object out: an internet gateway, a route table); `existing: { id: ID }`
//! reads any type by the id the console shows ([`super::import_id`]).

use crate::value::Value;

/// How an `existing: true` resource of one type is found.
#[derive(Debug)]
pub struct LookupBy {
    pub rtype: &'static str,
    /// Properties that must all be set.
    pub all: &'static [&'static str],
    /// Properties of which at least one must be set (when `all` is empty); each one set
    /// narrows the search.
    pub any: &'static [&'static str],
    /// What the search finds, for docs and help lines: `the log group of exactly that
    /// name`.
    pub doc: &'static str,
}

impl LookupBy {
    /// Every property that takes part in the search, in the order docs and errors list them.
    pub fn props(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.all.iter().chain(self.any).copied()
    }
}

static LOOKUPS: &[LookupBy] = &[
    LookupBy {
        rtype: "aws.ssm_parameter",
        all: &["name"],
        any: &[],
        doc: "the parameter of exactly that name (a `SecureString` is refused: its value is a secret)",
    },
    LookupBy {
        rtype: "aws.vpc",
        all: &[],
        any: &["tags", "cidr"],
        doc: "the VPC with every tag given, and `cidr` when given",
    },
    LookupBy {
        rtype: "aws.subnet",
        all: &[],
        any: &["tags", "vpc", "cidr", "az"],
        doc: "the subnet with every tag given, and `vpc`, `cidr`, `az` when given",
    },
    LookupBy {
        rtype: "aws.security_group",
        all: &[],
        any: &["tags", "vpc"],
        doc: "the group with every tag given, and `vpc` when given",
    },
    LookupBy {
        rtype: "aws.certificate",
        all: &["domain"],
        any: &[],
        doc: "the newest `ISSUED` certificate for exactly that domain",
    },
    LookupBy {
        rtype: "aws.load_balancer",
        all: &["name"],
        any: &[],
        doc: "the load balancer of that name",
    },
    LookupBy {
        rtype: "aws.listener",
        all: &["load_balancer", "port"],
        any: &[],
        doc: "the listener on that port of that load balancer (often itself a lookup)",
    },
    LookupBy {
        rtype: "aws.hosted_zone",
        all: &["name"],
        any: &[],
        doc: "the public zone of that name (a private one with `private_vpc`)",
    },
    LookupBy {
        rtype: "aws.ecs_cluster",
        all: &["name"],
        any: &[],
        doc: "the active cluster of that name",
    },
    LookupBy {
        rtype: "aws.iam_role",
        all: &["name"],
        any: &[],
        doc: "the role of that name",
    },
    LookupBy {
        rtype: "aws.instance_profile",
        all: &["name"],
        any: &[],
        doc: "the instance profile of that name",
    },
    LookupBy {
        rtype: "aws.capacity_provider",
        all: &["name"],
        any: &[],
        doc: "the active capacity provider of that name",
    },
    LookupBy {
        rtype: "aws.log_group",
        all: &["name"],
        any: &[],
        doc: "the log group of exactly that name",
    },
    LookupBy {
        rtype: "aws.ecr_repository",
        all: &["name"],
        any: &[],
        doc: "the repository of that name",
    },
];

/// How `existing: true` finds an object of `rtype`; `None` when only `existing: { id }`
/// can.
pub fn lookup_by(rtype: &str) -> Option<&'static LookupBy> {
    LOOKUPS.iter().find(|l| l.rtype == rtype)
}

/// Every type `existing: true` can find, in table order.
pub fn lookup_types() -> impl Iterator<Item = &'static LookupBy> {
    LOOKUPS.iter()
}

/// What a lookup of `rtype` with these properties searches for, in words for errors:
/// `` `tags` Name=shared, env=prod and `cidr` 10.0.0.0/16 ``. Properties of the search
/// that are not set are left out; `None` for a type with no [`LookupBy`].
pub fn searched_for(rtype: &str, props: &serde_json::Value) -> Option<String> {
    let by = lookup_by(rtype)?;
    let parts: Vec<String> = by
        .props()
        .filter_map(|p| {
            let v = props.get(p).filter(|v| !v.is_null())?;
            Some(format!("`{p}` {}", show(v)))
        })
        .collect();
    Some(parts.join(" and "))
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// True when `props` sets what a lookup of this type needs (see [`LookupBy`]); a map
/// property (`tags`) counts only when it has an entry.
pub fn identifies(by: &LookupBy, props: &indexmap::IndexMap<String, Value>) -> bool {
    let set = |p: &&str| match props.get(*p) {
        None | Some(Value::Null) => false,
        Some(Value::Map(m)) => !m.is_empty(),
        Some(_) => true,
    };
    if by.all.is_empty() {
        by.any.iter().any(set)
    } else {
        by.all.iter().all(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lookup_names_properties_of_its_type() {
        for l in LOOKUPS {
            let t = super::super::lookup(l.rtype).expect("a known type");
            assert!(l.all.is_empty() != l.any.is_empty(), "{}", l.rtype);
            for p in l.props() {
                assert!(
                    t.props.iter().any(|tp| tp.name == p),
                    "`{p}` is not a property of `{}`",
                    l.rtype
                );
            }
        }
    }

    #[test]
    fn the_search_is_described_by_what_is_set() {
        let props = serde_json::json!({
            "cidr": "10.0.0.0/16",
            "tags": { "Name": "shared", "env": "prod" },
        });
        assert_eq!(
            searched_for("aws.vpc", &props).as_deref(),
            Some("`tags` Name=shared, env=prod and `cidr` 10.0.0.0/16")
        );
        assert_eq!(searched_for("aws.route_table", &props), None);
    }
}
