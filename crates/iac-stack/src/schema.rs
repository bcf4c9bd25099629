//! The per-type schema of the stack format, defined once as data.
//!
//! The loader checks stack files against it, the engine diffs with it (defaults, which
//! properties force replacement), `iac schema` turns it into JSON Schema and
//! docs/stack-reference.md is generated from it. The table itself is in `types.rs`.

pub mod composite;
mod docs;
mod existing;
mod import_id;
mod json;
mod types;

pub use docs::reference_markdown;
pub use existing::{identifies, lookup_by, lookup_types, searched_for, LookupBy};
pub use import_id::{check_import_id, import_id, ImportId, ImportIdError};
pub use json::json_schema;
/// The builders the schema is written with, for schemas written elsewhere (the engine's
/// test types): an optional property, an attribute, an AWS name, and `PLAIN`, what most
/// types are (tagged, no AWS name, no data held).
pub use types::{attr, named, opt, PLAIN};
pub use types::{ECS_AMI_FAMILY, ECS_AMI_PARAMETER, TYPES};

/// One resource type, e.g. `aws.vpc`.
#[derive(Debug)]
pub struct TypeSchema {
    /// The `type:` value, e.g. `aws.vpc`.
    pub name: &'static str,
    /// One sentence for docs and editor hovers.
    pub doc: &'static str,
    pub props: &'static [Prop],
    /// What `${NAME.ATTR}` may read from a resource of this type.
    pub attrs: &'static [Attr],
    /// Gets the `iac:stack`, `iac:name` (and `Name`) tags and accepts a `tags:` map.
    pub taggable: bool,
    /// AWS requires a name for this resource: where it comes from and how long it may be.
    pub aws_name: Option<AwsName>,
    /// Its objects hold data that deleting the object deletes too (a log group's events):
    /// plans say so under every delete and replacement of one.
    pub holds: Option<Holds>,
    /// An in-place update makes a new version of the object instead of changing it (a task
    /// definition's revision): plans say so.
    pub renews: Option<Renews>,
    /// Live attributes a plan shows as information, not as drift, while a property is set:
    /// a scaling service's task count, which the scaler and not the stack decides.
    pub shows_live: &'static [ShowsLive],
}

/// One live attribute a plan shows (see [`TypeSchema::shows_live`]).
#[derive(Debug, Clone, Copy)]
pub struct ShowsLive {
    /// The attribute shown, e.g. `live_desired_count`.
    pub attr: &'static str,
    /// The input that must be set (not null) for it to be shown, e.g. `scaling`.
    pub when: &'static str,
    /// What the value is, for the plan: `tasks the scaler wants now`.
    pub says: &'static str,
}

/// What the objects of a type hold (see [`TypeSchema::holds`]).
#[derive(Debug, Clone, Copy)]
pub struct Holds {
    /// What it holds, as a plan names it: `log events`.
    pub what: &'static str,
    /// A boolean property that must be `true` for AWS to delete an object that still
    /// holds data (ECR's `force_delete`); when it is not, AWS refuses the delete instead,
    /// so nothing is lost (and the apply fails until the data is gone).
    pub forced_by: Option<&'static str>,
}

/// How a type's updates make new versions (see [`TypeSchema::renews`]).
#[derive(Debug, Clone, Copy)]
pub struct Renews {
    /// What a version is called: `revision`.
    pub noun: &'static str,
    /// The attribute that numbers versions, shown as `revision 3 -> (known after apply)`.
    pub counter: &'static str,
    /// What becomes of the old version.
    pub old: &'static str,
}

/// A property of a resource type (or a field of an object-valued property).
#[derive(Debug)]
pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: Option<DefaultValue>,
    /// A change forces a new resource (destroy and create) instead of an in-place update.
    pub replace: bool,
    pub doc: &'static str,
}

/// The shape a property value must have. References (`${NAME.ATTR}`) are accepted wherever
/// their target attribute's kind fits; their value is checked at apply time.
#[derive(Debug)]
pub enum Kind {
    Str,
    Int,
    Bool,
    /// An IPv4 (or IPv6) CIDR block, e.g. `10.0.0.0/16`.
    Cidr,
    /// A TCP/UDP port, 0-65535.
    Port,
    /// One of a fixed set of strings (or integers written as strings, e.g. status codes).
    ///
    /// Integer enums (redirect `status: 301|302`) list their variants as digit strings. When
    /// every variant is made of ASCII digits, an integer literal is accepted as well and means
    /// the same variant: `status: 301` and `status: "301"` mean the same redirect, and
    /// consumers must compare them as equal. The JSON Schema lists both forms.
    Enum(&'static [&'static str]),
    /// The id/arn of another resource, normally written as a reference `${NAME.ATTR}`.
    /// `rtype` names the expected resource type (a hint for rules and docs, not enforced
    /// for literal strings).
    Id {
        rtype: &'static str,
        attr: &'static str,
    },
    ListOf(&'static Kind),
    /// A map from free-form string keys to values of one kind (tags, environment).
    MapOf(&'static Kind),
    /// A nested object with named fields.
    Object(&'static [Prop]),
    /// Addition: one of several shapes, told apart by the value written: a map is checked
    /// against the first `Object` alternative, anything else against the first other one
    /// (a listener rule's `forward`: `${tg.arn}` or `{ target_groups: [...] }`).
    OneOf(&'static [Kind]),
    /// Any YAML value; no check.
    Any,
}

/// A default applied when a property is omitted.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Str(&'static str),
    /// `<stack>-<NAME>`, shortened deterministically to the service limit in [`AwsName`].
    AwsName,
    /// A pattern with `{stack}` and `{name}` placeholders, e.g. `/iac/{stack}/{name}`.
    Pattern(&'static str),
}

/// An attribute readable with `${NAME.ATTR}`.
#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: AttrKind,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Str,
    Int,
    List,
}

/// How AWS names a resource of this type.
#[derive(Debug, Clone, Copy)]
pub struct AwsName {
    /// The property that holds the name, if the user may set it (e.g. `family`, `name`);
    /// `None` when it is always derived from the stack and resource names.
    pub prop: Option<&'static str>,
    /// The service's length limit.
    pub max_len: usize,
}

/// A default that applies only when another property of the resource has a given value.
pub struct DefaultWhen {
    pub rtype: &'static str,
    pub prop: &'static str,
    /// The property the default depends on, and the value it must have.
    pub when: &'static str,
    pub equals: &'static str,
}

/// A listener's `ssl_policy` means something only with `protocol: HTTPS` (ELB refuses a
/// policy on HTTP): an HTTP listener neither shows nor sends one.
pub const DEFAULTS_WHEN: &[DefaultWhen] = &[DefaultWhen {
    rtype: "aws.listener",
    prop: "ssl_policy",
    when: "protocol",
    equals: "HTTPS",
}];

/// Whether the schema default of `prop` applies to a resource of type `rtype` with these
/// properties (see [`DEFAULTS_WHEN`]). The loader and the engine both fill defaults, so
/// both ask. A condition on a value known only at apply time keeps the default.
pub fn default_applies(
    rtype: &str,
    prop: &str,
    props: &indexmap::IndexMap<String, crate::value::Value>,
) -> bool {
    DEFAULTS_WHEN
        .iter()
        .filter(|d| d.rtype == rtype && d.prop == prop)
        .all(|d| match props.get(d.when) {
            Some(crate::value::Value::Str(s)) => s == d.equals,
            Some(v) => !v.is_known(),
            None => false,
        })
}

/// The type of a reference to another stack's outputs: always a lookup, and any attribute
/// name is one of that stack's outputs (checked against its state, not the schema).
pub const STACK_REF: &str = "iac.stack";

/// True for the AWS types iac only ever looks up (`existing: true` is required): SSM
/// parameters.
pub fn lookup_only(rtype: &str) -> bool {
    rtype == "aws.ssm_parameter"
}

/// True for [`STACK_REF`].
pub fn is_stack_ref(rtype: &str) -> bool {
    rtype == STACK_REF
}

/// Look a type up by its `type:` value.
pub fn lookup(name: &str) -> Option<&'static TypeSchema> {
    TYPES.iter().find(|t| t.name == name)
}

impl TypeSchema {
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// Meta keys allowed on every resource, besides the type's properties.
pub const META_KEYS: &[&str] = &[
    "type",
    "depends_on",
    "protect",
    "ignore_changes",
    "existing",
    "import",
];

/// Keys allowed at the top level of a stack file.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "stack",
    "region",
    "state",
    "vars",
    "tags",
    "resources",
    "outputs",
    "moved",
    "usage",
];

/// One key of the top-level `usage:` section: how much of a usage-priced item the stack is
/// expected to use, which the cost estimate (`iac plan`, `iac cost`) cannot read from the
/// stack itself. The default assumed when a key is absent belongs to the estimate (crate
/// `iac-cost`), not to the stack format.
#[derive(Debug, Clone, Copy)]
pub struct UsageKey {
    pub name: &'static str,
    /// What the number measures, for docs and diagnostics.
    pub doc: &'static str,
}

/// The keys `usage:` accepts; each value is a number, zero or more.
pub const USAGE_KEYS: &[UsageKey] = &[
    UsageKey {
        name: "alb_lcu_per_hour",
        doc: "Load balancer capacity units used on average, per load balancer (1 LCU: 25 new connections a second, 3,000 active connections, 1 GB an hour processed or 1,000 rule evaluations a second)",
    },
    UsageKey {
        name: "nat_gb_per_month",
        doc: "GB sent through each NAT gateway a month",
    },
    UsageKey {
        name: "log_gb_per_month",
        doc: "GB of log events ingested into each log group a month",
    },
    UsageKey {
        name: "route53_queries_per_month_millions",
        doc: "Millions of standard DNS queries a month to each hosted zone (alias queries to AWS resources are free)",
    },
    UsageKey {
        name: "ecr_gb",
        doc: "GB of images stored in each image repository",
    },
];

/// `<stack>-<NAME>` shortened to `max_len` deterministically: when too long, the tail is
/// replaced by a short hash of the full name so two long names stay distinct.
pub fn aws_name(stack: &str, name: &str, max_len: usize) -> String {
    // `web.alb` (a web service's child) becomes `web-alb`: dots are not allowed in most
    // AWS names.
    let full = format!("{stack}-{}", name.replace(['_', '.'], "-"));
    if full.len() <= max_len {
        return full;
    }
    // FNV-1a: stable across Rust versions and platforms, unlike DefaultHasher.
    let mut h: u32 = 0x811c_9dc5;
    for b in full.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let suffix = format!("-{:07x}", h & 0x0fff_ffff);
    let keep = max_len.saturating_sub(suffix.len());
    let head = full[..keep].trim_end_matches('-');
    format!("{head}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conditional_default_follows_its_condition() {
        use crate::value::{Reference, Value};
        let with = |protocol: Value| {
            let mut props = indexmap::IndexMap::new();
            props.insert("protocol".to_string(), protocol);
            default_applies("aws.listener", "ssl_policy", &props)
        };
        assert!(with(Value::Str("HTTPS".into())));
        assert!(!with(Value::Str("HTTP".into())));
        // Unknown until apply: keep the default, the provider sends it only for HTTPS.
        assert!(with(Value::Ref(Reference {
            resource: "x".into(),
            attr: "protocol".into(),
        })));
        assert!(!default_applies(
            "aws.listener",
            "ssl_policy",
            &indexmap::IndexMap::new()
        ));
        // Other properties and types are unconditional.
        assert!(default_applies(
            "aws.listener",
            "port",
            &indexmap::IndexMap::new()
        ));
        assert!(default_applies(
            "aws.vpc",
            "ssl_policy",
            &indexmap::IndexMap::new()
        ));
    }

    #[test]
    fn short_names_stay() {
        assert_eq!(aws_name("lemon-mart", "alb", 32), "lemon-mart-alb");
        assert_eq!(aws_name("lemon-mart", "web_tg", 32), "lemon-mart-web-tg");
    }

    #[test]
    fn long_names_shorten_deterministically_and_distinctly() {
        let a = aws_name("a-very-long-stack-name-for-tests", "target_group_one", 32);
        let b = aws_name("a-very-long-stack-name-for-tests", "target_group_two", 32);
        assert!(a.len() <= 32 && b.len() <= 32, "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(
            a,
            aws_name("a-very-long-stack-name-for-tests", "target_group_one", 32)
        );
    }
}
