//! From the YAML tree to a checked [`Stack`]: top-level keys, vars, resources, references.
//!
//! The loader keeps going after an error so one run reports every problem in the file (up
//! to [`crate::diag::MAX_ERRORS`]). It only gives up (returns `None`) when there is nothing
//! to build from: YAML that does not parse, or a top level that is not a map.
//!
//! Order of work: top-level keys, then vars (declarations, var files, `--var`), then
//! `stack`/`region`/`state` and the stack-wide `tags` (which may use vars), then every
//! resource name and type (so a reference may point forward in the file), then resource
//! bodies, outputs and `moved:` (checked against the resource names, in `load/moved.rs`).
//!
//! Stack-wide tags are merged here, into the `tags` of every taggable resource the stack
//! manages (not `existing: true` lookups): the resource's own `tags` win on a key both
//! have. Doing it here keeps the model the engine sees unchanged (a resource's `tags`
//! property is what it asks for), and the merge is plain data, no IO. The engine then adds
//! `Name`, `iac:stack` and `iac:name` as for any resource.
//!
//! Modules: `vars.rs` (vars), `top_level.rs` (`stack`, `region`, `state`, stack-wide
//! `tags`), `resources.rs` (resource bodies against the schema), `interp.rs` (`${...}`),
//! `check.rs` (values against property kinds), `existing.rs`, `moved.rs`, `usage.rs` (the
//! keys of those names); this file holds the order of work, outputs and plain values, and
//! the refusals every part words the same way (`wrong_kind`, `key_text`, `unknown_key`,
//! `map_of`, `section_map`).
//!
//! Var values are taken literally: a `${...}` inside a var's value is not interpolated,
//! because vars are resolved before the stack name, region and resources they could refer to.

mod check;
mod existing;
mod expand;
mod interp;
mod moved;
mod resources;
mod top_level;
mod usage;
mod vars;

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::diag::Diag;
use crate::model::{Output, RefSite, Resource, ResourceSpans};
use crate::schema::{self, DefaultValue, Kind, TypeSchema, META_KEYS, TOP_LEVEL_KEYS};
use crate::value::Value;
use crate::yaml::{self, Node, NodeKind};
use crate::{Diagnostics, LoadOptions, SourceFile, Span, Stack};

use interp::Scope;

/// Build the stack, pushing every problem found into `diags`. `None` when the file is too
/// broken to give a stack at all (e.g. a YAML syntax error).
pub fn build(source: &SourceFile, opts: &LoadOptions, diags: &mut Diagnostics) -> Option<Stack> {
    let names: Vec<&'static str> = schema::TYPES.iter().map(|t| t.name).collect();
    build_with_types(source, opts, diags, &schema::lookup, &names)
}

/// [`build`] against a given set of types (the unit tests use a small local schema).
fn build_with_types(
    source: &SourceFile,
    opts: &LoadOptions,
    diags: &mut Diagnostics,
    lookup: &dyn Fn(&str) -> Option<&'static TypeSchema>,
    type_names: &[&'static str],
) -> Option<Stack> {
    let root = yaml::parse(source, diags)?;
    let Some(top) = root.as_map() else {
        let span = if root.span.is_empty() {
            Span::new(0, source.text.len().min(1))
        } else {
            root.span
        };
        diags.push(
            Diag::error(
                "iac::stack::not_a_map",
                format!(
                    "a stack file must be a map of keys, found {}",
                    root.describe()
                ),
            )
            .in_file(source)
            .label(span, "expected `stack:`, `region:`, `resources:` ...")
            .help("start the file with `stack: NAME`, `region: REGION` and `resources:`"),
        );
        return None;
    };
    let mut loader = Loader {
        src: source,
        diags,
        vars: IndexMap::new(),
        stack_name: String::new(),
        region: None,
        types: IndexMap::new(),
        lookup,
        type_names,
        unset_vars: HashSet::new(),
        defaulted: Vec::new(),
        stack_tags: IndexMap::new(),
    };
    Some(loader.stack(top, &root, opts))
}

/// What a `${NAME.ATTR}` may point at: a resource's name span and, when its type is known,
/// its schema.
#[derive(Clone, Copy)]
struct Declared {
    schema: Option<&'static TypeSchema>,
    name_span: Span,
}

struct Loader<'a> {
    src: &'a SourceFile,
    diags: &'a mut Diagnostics,
    /// Final var values (only vars that have one).
    vars: IndexMap<String, Value>,
    stack_name: String,
    region: Option<String>,
    /// Every resource name in the file, in order, with its schema if the type is known.
    types: IndexMap<String, Declared>,
    /// The resource types known: `schema::lookup` and every type name, for did-you-mean.
    lookup: &'a dyn Fn(&str) -> Option<&'static TypeSchema>,
    /// Paths filled from defaults in the resource being converted (nested fields are
    /// filled deep inside `check`, which has no resource at hand to write to).
    defaulted: Vec<String>,
    type_names: &'a [&'static str],
    /// Declared vars left without a value (already reported): references to them are not
    /// reported again.
    unset_vars: HashSet<String>,
    /// The stack-wide `tags:`, checked, with the spans of each key and value.
    stack_tags: IndexMap<String, StackTag>,
}

/// One entry of the stack-wide `tags:`.
struct StackTag {
    value: Value,
    key_span: Span,
    value_span: Span,
}

/// A var declaration in `vars:`.
struct VarDecl {
    key_span: Span,
    required: bool,
}

/// The value nodes of the top-level keys.
#[derive(Default)]
struct Sections<'n> {
    stack: Option<&'n Node>,
    region: Option<&'n Node>,
    state: Option<&'n Node>,
    vars: Option<&'n Node>,
    tags: Option<&'n Node>,
    resources: Option<&'n Node>,
    outputs: Option<&'n Node>,
    moved: Option<&'n Node>,
    usage: Option<&'n Node>,
}

/// The closest candidate to `word`, if one is near enough to be a likely typo.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let w = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .filter_map(|c| {
            let d = strsim::damerau_levenshtein(&w, &c.to_lowercase());
            let limit = (w.chars().count().max(c.chars().count()) / 3).max(1);
            (d <= limit).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" or the fallback text.
pub fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str> + Clone,
    fallback: impl FnOnce() -> String,
) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("did you mean `{c}`?"),
        None => fallback(),
    }
}

fn backticked<'c>(items: impl IntoIterator<Item = &'c str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[a-z][a-z0-9_]*`: resource names (and attribute names in references).
pub(crate) fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(b'a'..=b'z'))
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// `PARENT.CHILD` (two idents): the name of a resource a composite (`aws.web_service`)
/// created. Never written in `resources:`; the loader makes them.
pub(crate) fn is_child_name(s: &str) -> bool {
    crate::child_name(s).is_some_and(|(p, c)| is_ident(p) && is_ident(c))
}

/// `[a-z0-9-]{1,32}`: stack names, which become part of AWS names and tags.
fn is_stack_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// A node as a plain value, without interpolation (var values, var files).
fn literal(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::Int(*i),
        NodeKind::Float(f) => Value::Float(*f),
        NodeKind::Str(s) => Value::Str(s.clone()),
        NodeKind::Seq(items) => Value::List(items.iter().map(literal).collect()),
        NodeKind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.key_text().unwrap_or_default(), literal(v)))
                .collect(),
        ),
    }
}

/// Accumulates the spans and references of one resource (or output) while its values are
/// converted.
#[derive(Default)]
struct Acc {
    props: HashMap<String, Span>,
    keys: HashMap<String, Span>,
    refs: Vec<RefSite>,
    /// Paths whose string had a reference error: their value is not what the user meant,
    /// so kind checks skip them instead of piling a second error on the same spot.
    poisoned: HashSet<String>,
    /// The resource being converted and its AWS name limit, for name defaults.
    resource: String,
    max_name_len: usize,
}

impl Acc {
    /// The span of `path` or of its closest enclosing path that has one.
    fn span_of(&self, path: &str, fallback: Span) -> Span {
        let mut p = path.to_string();
        loop {
            if let Some(s) = self.props.get(&p) {
                return *s;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return fallback,
            }
        }
    }
}

impl Loader<'_> {
    /// Push a diagnostic pointing into the stack file, unless the error cap is reached.
    fn error(&mut self, d: Diag) {
        if !self.diags.is_full() {
            self.diags.push(d.in_file(self.src));
        }
    }

    /// The text of key `k`; for a key that is not text, an error `{must}, found ...` under
    /// `code`, labelled `label`, and `None`.
    fn key_text<'n>(
        &mut self,
        k: &'n Node,
        code: &'static str,
        must: &str,
        label: &str,
        help: impl Into<String>,
    ) -> Option<&'n str> {
        let text = k.as_str();
        if text.is_none() {
            self.wrong_kind(k, code, must, label, help);
        }
        text
    }

    /// The error for `node` not being what it must: `{must}, found ...` under `code`.
    fn wrong_kind(
        &mut self,
        node: &Node,
        code: &'static str,
        must: &str,
        label: &str,
        help: impl Into<String>,
    ) {
        self.error(
            Diag::error(code, format!("{must}, found {}", node.describe()))
                .label(node.span, label)
                .help(help),
        );
    }

    /// An error `message` under `code` for the unknown key `k` (written `key`): its help is a
    /// "did you mean" among `allowed`, or else `otherwise`.
    fn unknown_key<'c>(
        &mut self,
        k: &Node,
        key: &str,
        code: &'static str,
        message: String,
        allowed: impl IntoIterator<Item = &'c str> + Clone,
        otherwise: impl FnOnce() -> String,
    ) {
        let help = suggest(key, allowed, otherwise);
        self.error(
            Diag::error(code, message)
                .label(k.span, "unknown key")
                .help(help),
        );
    }

    /// The entries of `node`, which must be a map; for anything else an error `{must},
    /// found ...` under `code`, labelled "expected a map", and `None`.
    fn map_of<'n>(
        &mut self,
        node: &'n Node,
        code: &'static str,
        must: &str,
        help: impl Into<String>,
    ) -> Option<&'n [(Node, Node)]> {
        let entries = node.as_map();
        if entries.is_none() {
            self.wrong_kind(node, code, must, "expected a map", help);
        }
        entries
    }

    /// [`Loader::map_of`] for a section of the file, which may also be left empty.
    fn section_map<'n>(
        &mut self,
        node: &'n Node,
        code: &'static str,
        must: &str,
        help: impl Into<String>,
    ) -> Option<&'n [(Node, Node)]> {
        match node.kind {
            NodeKind::Null => Some(&[]),
            _ => self.map_of(node, code, must, help),
        }
    }

    /// Push a diagnostic as is (its source already set, or none).
    fn push(&mut self, d: Diag) {
        if !self.diags.is_full() {
            self.diags.push(d);
        }
    }

    fn stack(&mut self, top: &[(Node, Node)], root: &Node, opts: &LoadOptions) -> Stack {
        let mut sections = Sections::default();
        let mut spans = HashMap::new();
        // Keys a typo was reported for: "missing `resources`" after "did you mean
        // `resources`?" would say the same thing twice.
        let mut misspelt: Vec<&str> = Vec::new();
        for (k, v) in top {
            let Some(key) = self.key_text(
                k,
                "iac::stack::unknown_key",
                "top-level keys must be names",
                "not a key name",
                format!(
                    "allowed keys: {}",
                    backticked(TOP_LEVEL_KEYS.iter().copied())
                ),
            ) else {
                continue;
            };
            let slot = match key {
                "stack" => &mut sections.stack,
                "region" => &mut sections.region,
                "state" => &mut sections.state,
                "vars" => &mut sections.vars,
                "tags" => &mut sections.tags,
                "resources" => &mut sections.resources,
                "outputs" => &mut sections.outputs,
                "moved" => &mut sections.moved,
                "usage" => &mut sections.usage,
                _ => {
                    misspelt.extend(did_you_mean(key, TOP_LEVEL_KEYS.iter().copied()));
                    self.unknown_key(
                        k,
                        key,
                        "iac::stack::unknown_key",
                        format!("unknown top-level key `{key}`"),
                        TOP_LEVEL_KEYS.iter().copied(),
                        || {
                            format!(
                                "allowed keys: {}",
                                backticked(TOP_LEVEL_KEYS.iter().copied())
                            )
                        },
                    );
                    continue;
                }
            };
            *slot = Some(v);
            spans.insert(key.to_string(), v.span);
        }
        // Where "missing key" diagnostics point: the first key of the file.
        let top_span = top.first().map_or(root.span, |(k, _)| k.span);

        self.vars(sections.vars, opts, &mut spans);
        self.stack_name(sections.stack, top_span, misspelt.contains(&"stack"));
        self.region(
            sections.region,
            opts,
            top_span,
            misspelt.contains(&"region"),
        );
        let state = sections.state.and_then(|n| self.state(n));
        if let Some(n) = sections.tags {
            self.stack_tags(n, &mut spans);
        }
        let resources = match sections.resources {
            Some(n) => self.resources(n),
            None if misspelt.contains(&"resources") => IndexMap::new(),
            None => {
                self.error(
                    Diag::error(
                        "iac::stack::missing_key",
                        "missing required key `resources`",
                    )
                    .label(top_span, "this stack has no `resources:`")
                    .help("add `resources:` with at least the resources the stack manages"),
                );
                IndexMap::new()
            }
        };
        let outputs = sections
            .outputs
            .map(|n| self.outputs(n))
            .unwrap_or_default();
        let moved = sections.moved.map(|n| self.moved(n)).unwrap_or_default();
        let usage = sections
            .usage
            .map(|n| self.usage(n, &mut spans))
            .unwrap_or_default();
        Stack {
            source: self.src.clone(),
            name: self.stack_name.clone(),
            region: self.region.clone(),
            state,
            vars: self.vars.clone(),
            resources,
            outputs,
            moved,
            usage,
            spans,
        }
    }

    // ----- outputs -------------------------------------------------------------------------

    fn outputs(&mut self, node: &Node) -> IndexMap<String, Output> {
        let Some(entries) = self.section_map(
            node,
            "iac::value::wrong_type",
            "`outputs` must be a map of NAME -> value",
            "write each output as `NAME: ${resource.attr}`",
        ) else {
            return IndexMap::new();
        };
        let mut out = IndexMap::new();
        for (k, v) in entries {
            let name = k.key_text().unwrap_or_default();
            let mut acc = Acc::default();
            let value = self.value_of(v, &name, Scope::OUTPUT, &mut acc);
            out.insert(
                name,
                Output {
                    value,
                    span: v.span,
                    refs: acc.refs,
                },
            );
        }
        out
    }

    // ----- generic values ------------------------------------------------------------------

    /// Convert a node to a value: strings are interpolated, spans of every nested value and
    /// key recorded in `acc` under `path`.
    fn value_of(&mut self, node: &Node, path: &str, scope: Scope, acc: &mut Acc) -> Value {
        acc.props.insert(path.to_string(), node.span);
        match &node.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::Int(*i),
            NodeKind::Float(f) => Value::Float(*f),
            NodeKind::Str(s) => self.interpolate(node, s, path, scope, acc),
            NodeKind::Seq(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value_of(item, &format!("{path}[{i}]"), scope, acc))
                    .collect(),
            ),
            NodeKind::Map(entries) => {
                let mut m = IndexMap::new();
                for (k, v) in entries {
                    let Some(key) = k.key_text() else {
                        self.error(
                            Diag::error(
                                "iac::value::wrong_type",
                                format!(
                                    "map keys must be strings, found {} in `{path}`",
                                    k.describe()
                                ),
                            )
                            .label(k.span, "expected a string key")
                            .help("use a plain word as the key"),
                        );
                        continue;
                    };
                    let sub = format!("{path}.{key}");
                    acc.keys.insert(sub.clone(), k.span);
                    let value = self.value_of(v, &sub, scope, acc);
                    m.insert(key, value);
                }
                Value::Map(m)
            }
        }
    }
}

#[cfg(test)]
mod tests;
