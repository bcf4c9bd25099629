//! The checked stack: what the loader produces and everything downstream consumes.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::schema::TypeSchema;
use crate::span::{SourceFile, Span};
use crate::value::{Reference, Value};

/// A stack file after parsing, var substitution and checking against the schema.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack file, for diagnostics that point into it.
    pub source: SourceFile,
    /// `stack:` with vars substituted.
    pub name: String,
    /// `region:`, or the override given on the command line.
    pub region: Option<String>,
    /// `state:` (e.g. `s3://bucket/key.json`); `None` means local state under `.iac/`.
    pub state: Option<String>,
    /// Final var values after defaults, var files and `--var` (last wins).
    pub vars: IndexMap<String, Value>,
    /// Resources in file order.
    pub resources: IndexMap<String, Resource>,
    pub outputs: IndexMap<String, Output>,
    /// `moved:`: resources renamed in the stack whose objects the state holds under their
    /// former names (see [`Moved`]). Empty when the file has none.
    pub moved: Vec<Moved>,
    /// `usage:`: expected usage of usage-priced items by key (one of
    /// [`crate::schema::USAGE_KEYS`]), for the cost estimate. Empty when the file has none.
    pub usage: IndexMap<String, f64>,
    /// Spans of top-level values, by key (`stack`, `region`, ...; `vars.NAME`, `tags.KEY`
    /// and `usage.KEY` for the entries of `vars:`, the stack-wide `tags:` and `usage:`).
    pub spans: HashMap<String, Span>,
}

/// One entry of `moved:`: the resource the state knows as `from` is now `to` in the stack,
/// so a plan keeps its object (and renames it in the state) instead of destroying it and
/// creating `to` anew. The loader checks that `to` is a resource of the stack and `from` is
/// not, each `from` and each `to` once, and no chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: String,
    pub to: String,
    /// The `from:` value.
    pub from_span: Span,
    /// The `to:` value.
    pub to_span: Span,
}

/// One entry of `resources:`.
#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    pub schema: &'static TypeSchema,
    /// Properties as written, plus defaults for omitted ones, in schema order.
    /// Tags are the user's: the stack-wide `tags:` merged with the resource's own `tags:`
    /// (which win on a key both have); the engine adds the `iac:*` and `Name` tags.
    pub props: IndexMap<String, Value>,
    pub depends_on: Vec<String>,
    pub protect: bool,
    /// Property paths (`health_check.path`, `containers`) whose drift is not planned.
    pub ignore_changes: Vec<String>,
    /// A read-only lookup of something that already exists (`existing: true` or
    /// `existing: { id: ID }`): read at plan time, never created, changed or destroyed.
    pub existing: bool,
    /// `existing: { id: ID }`: the console id the lookup reads the object by (checked
    /// against the type's forms, [`crate::schema::import_id`]). `None` for `existing: true`,
    /// which finds the object by the type's identifying properties
    /// ([`crate::schema::lookup_by`]).
    pub lookup_id: Option<String>,
    /// `import: ID`: the existing object (its console id, checked against the type's forms,
    /// [`crate::schema::import_id`]) that a plan takes into the state when the state has no
    /// object for this resource yet.
    pub import: Option<String>,
    /// Paths of the properties (and nested fields, `health_check.path`) the loader filled
    /// from schema defaults rather than the file, in the order filled. The engine needs to
    /// know an AWS name was not chosen by the user: such a name may change (a fresh one)
    /// so a replacement can create the new object before deleting the old.
    pub defaulted: Vec<String>,
    /// Orderings AWS needs that no reference states (`crate::implied`): this resource is
    /// created after each of these, and deleted before. Filled in by `load_str`.
    pub implied: Vec<Implied>,
    pub spans: ResourceSpans,
}

/// An ordering AWS needs but no reference in the stack states: the resource that holds it
/// must be created after `dependency` (an ECS service after the listener that attaches its
/// target group to the load balancer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implied {
    pub dependency: String,
    /// Why, as the graph labels the edge and the plan's JSON gives it: a short phrase.
    pub reason: String,
    /// Where in the dependent the need arises (the property naming the shared object).
    pub span: Span,
}

/// Where each part of a resource was written, for diagnostics.
#[derive(Debug, Clone, Default)]
pub struct ResourceSpans {
    /// The resource's key in `resources:`.
    pub name: Span,
    /// The `type:` value.
    pub rtype: Span,
    /// The whole resource body.
    pub body: Span,
    /// Property value spans by path: `cidr`, `health_check.path`, `containers[0].port`,
    /// `ingress[1]`. Keys of maps are addressed with a dot as well (`tags.team`).
    pub props: HashMap<String, Span>,
    /// Property key spans by the same paths (the `cidr:` key itself).
    pub keys: HashMap<String, Span>,
    /// One span per `depends_on` entry.
    pub depends_on: Vec<Span>,
    /// The `import:` value.
    pub import: Option<Span>,
    /// The `existing:` value.
    pub existing: Option<Span>,
    /// Every `${NAME.ATTR}` in the resource, with its span and the property path it sits in.
    pub refs: Vec<RefSite>,
}

/// One written reference.
#[derive(Debug, Clone)]
pub struct RefSite {
    pub reference: Reference,
    pub span: Span,
    pub path: String,
}

/// One entry of `outputs:`.
#[derive(Debug, Clone)]
pub struct Output {
    pub value: Value,
    pub span: Span,
    pub refs: Vec<RefSite>,
}

impl Resource {
    pub fn prop(&self, name: &str) -> Option<&Value> {
        self.props.get(name)
    }

    /// The value at a dotted path with list indices, e.g. `containers[0].port`.
    pub fn at_path(&self, path: &str) -> Option<&Value> {
        let (top, rest) = match path.find(['.', '[']) {
            Some(i) => path.split_at(i),
            None => (path, ""),
        };
        self.props.get(top)?.at_path(rest)
    }

    /// The span of the value at `path`, or of the closest enclosing path that has one,
    /// falling back to the resource name.
    pub fn span_of(&self, path: &str) -> Span {
        let mut p = path.to_string();
        loop {
            if let Some(s) = self.spans.props.get(&p) {
                return *s;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.spans.name,
            }
        }
    }

    /// True when the loader filled the property at `path` from its schema default. A
    /// property absent from `props` (a stack built in code) counts as defaulted too: the
    /// engine fills it the same way.
    pub fn is_defaulted(&self, path: &str) -> bool {
        self.defaulted.iter().any(|d| d == path)
            || (!path.contains(['.', '[']) && !self.props.contains_key(path))
    }

    /// Names of the resources this one depends on (references and `depends_on`), deduplicated
    /// in order of appearance.
    pub fn dependencies(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.spans.refs {
            if !out.contains(&r.reference.resource.as_str()) {
                out.push(&r.reference.resource);
            }
        }
        for d in &self.depends_on {
            if !out.contains(&d.as_str()) {
                out.push(d);
            }
        }
        for i in &self.implied {
            if !out.contains(&i.dependency.as_str()) {
                out.push(&i.dependency);
            }
        }
        out
    }
}
