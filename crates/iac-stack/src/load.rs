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
//! Var values are taken literally: a `${...}` inside a var's value is not interpolated,
//! because vars are resolved before the stack name, region and resources they could refer to.

mod check;
mod existing;
mod interp;
mod moved;
mod usage;

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

/// The value of a `--var name=value`: a YAML scalar, so `tasks=3` is an integer and
/// `flag=true` a boolean; anything that is not a plain scalar stays the literal string.
fn cli_var_value(text: &str) -> Value {
    let src = SourceFile::new("--var", text);
    let mut scratch = Diagnostics::default();
    match yaml::parse(&src, &mut scratch) {
        Some(node)
            if !scratch.has_errors()
                && !matches!(node.kind, NodeKind::Seq(_) | NodeKind::Map(_)) =>
        {
            match node.kind {
                // `--var name=` sets an empty string, not null.
                NodeKind::Null if text.trim().is_empty() => Value::Str(String::new()),
                _ => literal(&node),
            }
        }
        _ => Value::Str(text.to_string()),
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
            let Some(key) = k.as_str() else {
                self.error(
                    Diag::error(
                        "iac::stack::unknown_key",
                        format!("top-level keys must be names, found {}", k.describe()),
                    )
                    .label(k.span, "not a key name")
                    .help(format!(
                        "allowed keys: {}",
                        backticked(TOP_LEVEL_KEYS.iter().copied())
                    )),
                );
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
                    let help = suggest(key, TOP_LEVEL_KEYS.iter().copied(), || {
                        format!(
                            "allowed keys: {}",
                            backticked(TOP_LEVEL_KEYS.iter().copied())
                        )
                    });
                    self.error(
                        Diag::error(
                            "iac::stack::unknown_key",
                            format!("unknown top-level key `{key}`"),
                        )
                        .label(k.span, "unknown key")
                        .help(help),
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

    // ----- vars -------------------------------------------------------------------------

    fn vars(&mut self, node: Option<&Node>, opts: &LoadOptions, spans: &mut HashMap<String, Span>) {
        let mut decls: IndexMap<String, VarDecl> = IndexMap::new();
        if let Some(node) = node {
            match &node.kind {
                NodeKind::Map(entries) => {
                    for (k, v) in entries {
                        self.declare_var(k, v, &mut decls, spans);
                    }
                }
                NodeKind::Null => {}
                _ => self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "`vars` must be a map of NAME -> value, found {}",
                            node.describe()
                        ),
                    )
                    .label(node.span, "expected a map")
                    .help("write each var as `NAME: default` under `vars:`"),
                ),
            }
        }
        for path in &opts.var_files {
            self.var_file(path, &decls);
        }
        for (name, text) in &opts.vars {
            if decls.contains_key(name) {
                self.vars.insert(name.clone(), cli_var_value(text));
            } else {
                let help = suggest(name, decls.keys().map(String::as_str), || {
                    "declare it under `vars:` in the stack file, or drop the `--var`".to_string()
                });
                self.push(
                    Diag::error(
                        "iac::vars::unknown",
                        format!("`--var {name}=...` sets unknown var `{name}`"),
                    )
                    .help(help),
                );
            }
        }
        for (name, decl) in &decls {
            if !self.vars.contains_key(name) {
                self.unset_vars.insert(name.clone());
            }
            if decl.required && !self.vars.contains_key(name) {
                let d = Diag::error(
                    "iac::vars::required",
                    format!("var `{name}` is required and has no value"),
                )
                .label(decl.key_span, "declared `required: true` here")
                .help(format!(
                    "pass `--var {name}=...` or set `{name}` in a `--var-file`"
                ));
                self.error(d);
            }
        }
    }

    fn declare_var(
        &mut self,
        k: &Node,
        v: &Node,
        decls: &mut IndexMap<String, VarDecl>,
        spans: &mut HashMap<String, Span>,
    ) {
        let Some(name) = k.as_str() else {
            self.error(
                Diag::error(
                    "iac::value::wrong_type",
                    format!("var names must be strings, found {}", k.describe()),
                )
                .label(k.span, "not a var name")
                .help("name vars with letters, digits and `_`, e.g. `domain`"),
            );
            return;
        };
        spans.insert(format!("vars.{name}"), v.span);
        let mut decl = VarDecl {
            key_span: k.span,
            required: false,
        };
        let long_form = v.as_map().filter(|entries| {
            entries
                .iter()
                .all(|(ek, _)| matches!(ek.as_str(), Some("default" | "description" | "required")))
                && entries
                    .iter()
                    .any(|(ek, _)| matches!(ek.as_str(), Some("default" | "required")))
        });
        let default = match long_form {
            None => Some(v),
            Some(entries) => {
                let mut default = None;
                for (ek, ev) in entries {
                    match (ek.as_str(), &ev.kind) {
                        (Some("default"), _) => default = Some(ev),
                        (Some("required"), NodeKind::Bool(b)) => decl.required = *b,
                        (Some("description"), NodeKind::Str(_)) => {}
                        (Some(field), _) => {
                            let want = if field == "required" {
                                "a boolean"
                            } else {
                                "a string"
                            };
                            self.error(
                                Diag::error(
                                    "iac::value::wrong_type",
                                    format!(
                                        "expected {want} for `{field}` of var `{name}`, found {}",
                                        ev.describe()
                                    ),
                                )
                                .label(ev.span, format!("expected {want}"))
                                .help(format!("write `{field}:` as {want}")),
                            );
                        }
                        (None, _) => {}
                    }
                }
                if decl.required {
                    if let Some(d) = default {
                        self.error(
                            Diag::error(
                                "iac::vars::invalid",
                                format!("var `{name}` is `required: true` and also has a default"),
                            )
                            .label(d.span, "default of a required var")
                            .help("drop `required: true` to make the default apply, or drop the default"),
                        );
                    }
                }
                default
            }
        };
        if let Some(d) = default {
            self.vars.insert(name.to_string(), literal(d));
        }
        decls.insert(name.to_string(), decl);
    }

    /// Apply one `--var-file`: a YAML map of var -> value. Its diagnostics point into it.
    fn var_file(&mut self, path: &std::path::Path, decls: &IndexMap<String, VarDecl>) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.push(
                    Diag::error(
                        "iac::vars::file_read",
                        format!("cannot read var file `{}`: {e}", path.display()),
                    )
                    .help("check the path given to `--var-file`"),
                );
                return;
            }
        };
        let file = SourceFile::new(path.display().to_string(), text);
        let Some(root) = yaml::parse(&file, self.diags) else {
            return;
        };
        let entries = match &root.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Null => return,
            _ => {
                self.push(
                    Diag::error(
                        "iac::vars::file_invalid",
                        format!(
                            "a var file must be a map of var -> value, found {}",
                            root.describe()
                        ),
                    )
                    .in_file(&file)
                    .label(root.span, "expected a map")
                    .help("write one `NAME: value` line per var"),
                );
                return;
            }
        };
        for (k, v) in entries {
            let name = k.key_text().unwrap_or_default();
            if decls.contains_key(&name) {
                self.vars.insert(name, literal(v));
            } else {
                let help = suggest(&name, decls.keys().map(String::as_str), || {
                    "declare it under `vars:` in the stack file, or remove it from the var file"
                        .to_string()
                });
                self.push(
                    Diag::error(
                        "iac::vars::unknown",
                        format!("var file sets unknown var `{name}`"),
                    )
                    .in_file(&file)
                    .label(k.span, "not declared in the stack's `vars:`")
                    .help(help),
                );
            }
        }
    }

    // ----- stack, region, state ------------------------------------------------------------

    fn stack_name(&mut self, node: Option<&Node>, top_span: Span, misspelt: bool) {
        let Some(node) = node else {
            if misspelt {
                return;
            }
            self.error(
                Diag::error("iac::stack::missing_key", "missing required key `stack`")
                    .label(top_span, "this stack has no `stack:`")
                    .help("add `stack: NAME` (lowercase letters, digits and `-`, at most 32)"),
            );
            return;
        };
        let mut acc = Acc::default();
        let value = self.value_of(node, "stack", Scope::STACK, &mut acc);
        let name = match value {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            other => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "expected a string for `stack`, found {}",
                            check::describe(&other)
                        ),
                    )
                    .label(node.span, "expected a string")
                    .help("write the stack name, e.g. `stack: lemon-mart`"),
                );
                return;
            }
        };
        if !is_stack_name(&name) {
            let fixed: String = name
                .to_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() || c.is_ascii_digit() {
                        c
                    } else {
                        '-'
                    }
                })
                .take(32)
                .collect();
            let help = if is_stack_name(&fixed) {
                format!(
                    "use lowercase letters, digits and `-`, at most 32 characters, e.g. `{fixed}`"
                )
            } else {
                "use lowercase letters, digits and `-`, at most 32 characters".to_string()
            };
            self.error(
                Diag::error(
                    "iac::stack::invalid_name",
                    format!("invalid stack name `{name}`"),
                )
                .label(node.span, "must match `[a-z0-9-]{1,32}`")
                .help(help),
            );
        }
        self.stack_name = name;
    }

    fn region(&mut self, node: Option<&Node>, opts: &LoadOptions, top_span: Span, misspelt: bool) {
        if let Some(r) = &opts.region {
            self.region = Some(r.clone());
            return;
        }
        let Some(node) = node else {
            if misspelt {
                return;
            }
            self.error(
                Diag::error("iac::stack::missing_key", "missing required key `region`")
                    .label(top_span, "this stack has no `region:`")
                    .help("add `region: us-east-1` (or your region), or pass `--region`"),
            );
            return;
        };
        self.region = self.plain_string(node, "region", Scope::REGION);
    }

    fn state(&mut self, node: &Node) -> Option<String> {
        if matches!(node.kind, NodeKind::Null) {
            return None;
        }
        self.plain_string(node, "state", Scope::STATE)
    }

    /// A top-level string setting after interpolation.
    fn plain_string(&mut self, node: &Node, key: &str, scope: Scope) -> Option<String> {
        let mut acc = Acc::default();
        match self.value_of(node, key, scope, &mut acc) {
            Value::Str(s) => Some(s),
            other => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "expected a string for `{key}`, found {}",
                            check::describe(&other)
                        ),
                    )
                    .label(node.span, "expected a string")
                    .help(format!("write `{key}:` as a string")),
                );
                None
            }
        }
    }

    // ----- stack-wide tags ------------------------------------------------------------------

    /// The top-level `tags:`: a map of tag -> string given to every taggable resource. Values
    /// may use vars, `${stack}` and `${region}`, not resource attributes. `Name` and the
    /// `iac:` keys are iac's own, per resource; `aws:` keys are AWS's.
    fn stack_tags(&mut self, node: &Node, spans: &mut HashMap<String, Span>) {
        static TAGS: Kind = Kind::MapOf(&Kind::Str);
        if matches!(node.kind, NodeKind::Null) {
            return;
        }
        let mut acc = Acc::default();
        let mut value = self.value_of(node, "tags", Scope::TAGS, &mut acc);
        self.check(&mut value, &TAGS, "tags", &acc, node.span);
        // Not a map: reported by `check`.
        let Value::Map(tags) = value else {
            return;
        };
        for (key, value) in tags {
            let path = format!("tags.{key}");
            let key_span = acc.keys.get(&path).copied().unwrap_or(node.span);
            let value_span = acc.span_of(&path, node.span);
            let reserved = if key == "Name" {
                Some((
                    "iac sets `Name` on each resource".to_string(),
                    "iac tags every resource `Name=<stack>-<NAME>`; to name one resource otherwise, set `Name` in its own `tags`".to_string(),
                ))
            } else if key.starts_with("iac:") {
                Some((
                    "iac sets its `iac:` tags itself".to_string(),
                    "iac finds its resources by `iac:stack` and `iac:name`; choose a key without the `iac:` prefix".to_string(),
                ))
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                Some((
                    "the `aws:` prefix is reserved by AWS".to_string(),
                    "AWS refuses tag keys starting with `aws:`; choose another key".to_string(),
                ))
            } else {
                None
            };
            if let Some((label, help)) = reserved {
                self.error(
                    Diag::error(
                        "iac::stack::reserved_tag",
                        format!("the stack-wide `tags` cannot set `{key}`"),
                    )
                    .label(key_span, label)
                    .help(help),
                );
                continue;
            }
            spans.insert(path, value_span);
            self.stack_tags.insert(
                key,
                StackTag {
                    value,
                    key_span,
                    value_span,
                },
            );
        }
    }

    /// The stack-wide tags added to a resource's `tags`; the resource's own win.
    fn merge_stack_tags(&self, props: &mut IndexMap<String, Value>, acc: &mut Acc) {
        let own = match props.get("tags") {
            None | Some(Value::Null) => IndexMap::new(),
            Some(Value::Map(m)) => m.clone(),
            // Not a map: already reported.
            Some(_) => return,
        };
        let mut merged = IndexMap::new();
        for (key, tag) in &self.stack_tags {
            if own.contains_key(key) {
                continue;
            }
            merged.insert(key.clone(), tag.value.clone());
            let path = format!("tags.{key}");
            acc.props.insert(path.clone(), tag.value_span);
            acc.keys.insert(path, tag.key_span);
        }
        merged.extend(own);
        props.insert("tags".to_string(), Value::Map(merged));
    }

    // ----- resources -----------------------------------------------------------------------

    fn resources(&mut self, node: &Node) -> IndexMap<String, Resource> {
        let entries = match &node.kind {
            NodeKind::Map(e) => e.as_slice(),
            NodeKind::Null => &[],
            _ => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "`resources` must be a map of NAME -> resource, found {}",
                            node.describe()
                        ),
                    )
                    .label(node.span, "expected a map")
                    .help(
                        "write each resource as `NAME:` with `type:` and its properties below it",
                    ),
                );
                return IndexMap::new();
            }
        };
        // Pass 1: names and types, so references may point anywhere in the file.
        let mut bodies = Vec::new();
        for (k, body) in entries {
            let name = k.key_text().unwrap_or_default();
            if !is_ident(&name) {
                let fixed: String = name
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let help = if is_ident(&fixed) {
                    format!("use lowercase letters, digits and `_`, starting with a letter, e.g. `{fixed}`")
                } else {
                    "use lowercase letters, digits and `_`, starting with a letter".to_string()
                };
                self.error(
                    Diag::error(
                        "iac::resource::invalid_name",
                        format!("invalid resource name `{name}`"),
                    )
                    .label(k.span, "must match `[a-z][a-z0-9_]*`")
                    .help(help),
                );
            }
            let schema = self.resource_type(&name, k.span, body);
            self.types.insert(
                name.clone(),
                Declared {
                    schema,
                    name_span: k.span,
                },
            );
            bodies.push((name, k, body, schema));
        }
        // Pass 2: bodies.
        let mut out = IndexMap::new();
        for (name, k, body, schema) in bodies {
            if let Some(r) = self.resource(&name, k, body, schema) {
                out.insert(name, r);
            }
        }
        out
    }

    /// The schema named by a resource's `type:`, reporting a missing or unknown type.
    fn resource_type(
        &mut self,
        name: &str,
        name_span: Span,
        body: &Node,
    ) -> Option<&'static TypeSchema> {
        let Some(entries) = body.as_map() else {
            self.error(
                Diag::error(
                    "iac::value::wrong_type",
                    format!(
                        "resource `{name}` must be a map with `type:` and properties, found {}",
                        body.describe()
                    ),
                )
                .label(body.span, "expected a map")
                .help("write `type: aws.TYPE` and the properties indented under the resource name"),
            );
            return None;
        };
        let Some((_, tnode)) = entries.iter().find(|(k, _)| k.as_str() == Some("type")) else {
            self.error(
                Diag::error(
                    "iac::resource::missing_type",
                    format!("resource `{name}` has no `type`"),
                )
                .label(name_span, "no `type:` here")
                .help("add `type: aws.TYPE`, e.g. `type: aws.vpc`"),
            );
            return None;
        };
        let Some(tname) = tnode.as_str() else {
            self.error(
                Diag::error(
                    "iac::value::wrong_type",
                    format!(
                        "expected a type name for `type` of `{name}`, found {}",
                        tnode.describe()
                    ),
                )
                .label(tnode.span, "expected a type name")
                .help("write `type: aws.TYPE`, e.g. `type: aws.vpc`"),
            );
            return None;
        };
        if let Some(s) = (self.lookup)(tname) {
            return Some(s);
        }
        let help = suggest(tname, self.type_names.iter().copied(), || {
            "see docs/stack-reference.md (or `iac schema`) for the resource types".to_string()
        });
        self.error(
            Diag::error(
                "iac::resource::unknown_type",
                format!("unknown resource type `{tname}`"),
            )
            .label(tnode.span, "unknown type")
            .help(help),
        );
        None
    }

    fn resource(
        &mut self,
        name: &str,
        key: &Node,
        body: &Node,
        schema: Option<&'static TypeSchema>,
    ) -> Option<Resource> {
        let entries = body.as_map()?;
        let mut acc = Acc {
            resource: name.to_string(),
            // 255 is the loosest AWS name limit; a type with an AwsName default and no
            // `aws_name` entry is a schema slip, not a user error.
            max_name_len: schema.and_then(|s| s.aws_name).map_or(255, |a| a.max_len),
            ..Acc::default()
        };
        let mut spans = ResourceSpans {
            name: key.span,
            body: body.span,
            ..ResourceSpans::default()
        };
        let mut props: IndexMap<String, Value> = IndexMap::new();
        let mut depends_on = Vec::new();
        let mut protect = false;
        let mut existing = false;
        let mut lookup_id: Option<String> = None;
        let mut by_props = false;
        let mut import: Option<String> = None;
        let mut ignore_changes: Vec<(String, Span)> = Vec::new();
        self.defaulted.clear();
        let scope = Scope::resource(name);
        for (k, v) in entries {
            let Some(pkey) = k.as_str() else {
                self.error(
                    Diag::error(
                        "iac::resource::unknown_property",
                        format!("property names must be strings, found {}", k.describe()),
                    )
                    .label(k.span, "not a property name")
                    .help("write property names as plain words, e.g. `cidr:`"),
                );
                continue;
            };
            match pkey {
                "type" => spans.rtype = v.span,
                "depends_on" => {
                    for (dep, span) in self.string_list(v, "depends_on", name) {
                        spans.depends_on.push(span);
                        self.check_dependency(name, &dep, span);
                        depends_on.push(dep);
                    }
                }
                "ignore_changes" => ignore_changes = self.string_list(v, "ignore_changes", name),
                "protect" => protect = self.bool_meta(v, "protect", name),
                "existing" => {
                    spans.existing = Some(v.span);
                    by_props = matches!(v.kind, NodeKind::Bool(true));
                    (existing, lookup_id) = self.existing_meta(v, name, schema);
                }
                "import" => {
                    spans.import = Some(v.span);
                    import = self.import_meta(v, name, schema);
                }
                _ => {
                    // Convert even when the type is unknown: reference errors still count.
                    acc.keys.insert(pkey.to_string(), k.span);
                    let mut value = self.value_of(v, pkey, scope, &mut acc);
                    let Some(schema) = schema else { continue };
                    match prop_kind(schema, pkey) {
                        Some(kind) => {
                            self.check(&mut value, kind, pkey, &acc, key.span);
                            props.insert(pkey.to_string(), value);
                        }
                        None => self.unknown_property(schema, pkey, k.span, name),
                    }
                }
            }
        }
        let schema = schema?;
        // Another stack's outputs are only ever read.
        let existing = existing || schema::is_stack_ref(schema.name);
        if schema::lookup_only(schema.name) && !existing {
            self.error(
                Diag::error(
                    "iac::existing::lookup_only",
                    format!(
                        "`{name}` is an `{}`, which iac only looks up and never creates",
                        schema.name
                    ),
                )
                .label(spans.rtype, "looked up only")
                .help("add `existing: true` (found by `name`) or `existing: { id: ID }`"),
            );
        }
        if schema::is_stack_ref(schema.name)
            && props.get("stack").and_then(Value::as_str) == Some(self.stack_name.as_str())
        {
            let span = acc.props.get("stack").copied().unwrap_or(key.span);
            self.error(
                Diag::error(
                    "iac::stack_ref::self",
                    format!("`{name}` reads the outputs of this very stack, `{}`", self.stack_name),
                )
                .label(span, "this stack")
                .help("refer to this stack's own resources as `${NAME.ATTR}`; `iac.stack` is for another stack"),
            );
        }
        for (path, span) in &ignore_changes {
            let first = path.split(['.', '[']).next().unwrap_or_default();
            if prop_kind(schema, first).is_none() {
                let candidates = prop_names(schema);
                let help = suggest(first, candidates.iter().copied(), || {
                    format!(
                        "`{}` has these properties: {}",
                        schema.name,
                        backticked(candidates.iter().copied())
                    )
                });
                self.error(
                    Diag::error(
                        "iac::resource::unknown_property",
                        format!(
                            "`ignore_changes` of `{name}` names `{first}`, not a property of `{}`",
                            schema.name
                        ),
                    )
                    .label(*span, "unknown property")
                    .help(help),
                );
            }
        }
        if let (true, Some(span)) = (by_props, spans.existing) {
            if !schema::is_stack_ref(schema.name) {
                self.check_lookup(name, schema, &props, span);
            }
        }
        if let (true, Some(span)) = (existing, spans.import) {
            self.error(
                Diag::error(
                    "iac::import::existing",
                    format!("`{name}` is `existing: true` and has an `import:` id"),
                )
                .label(span, "import takes an object into the stack")
                .help("`existing: true` only looks an object up and never changes it; `import:` makes iac manage it. Keep one of the two"),
            );
        }
        if !existing {
            for p in schema.props {
                if p.required && !props.contains_key(p.name) {
                    self.error(
                        Diag::error(
                            "iac::resource::missing_property",
                            format!(
                                "resource `{name}` (`{}`) is missing required property `{}`",
                                schema.name, p.name
                            ),
                        )
                        .label(key.span, format!("no `{}:`", p.name))
                        .help(format!(
                            "add `{}:` ({})",
                            p.name,
                            p.doc.trim_end_matches('.')
                        )),
                    );
                }
            }
        }
        // Defaults describe what iac creates; an `existing` resource is only looked up.
        if !existing {
            for p in schema.props {
                let applies = schema::default_applies(schema.name, p.name, &props);
                if let (false, Some(d), true) = (props.contains_key(p.name), p.default, applies) {
                    let v = self.default_value(d, name, acc.max_name_len);
                    props.insert(p.name.to_string(), v);
                    self.defaulted.push(p.name.to_string());
                }
            }
        }
        if schema.taggable && !existing && !self.stack_tags.is_empty() {
            self.merge_stack_tags(&mut props, &mut acc);
        }
        let props = in_schema_order(props, schema.props);
        spans.props = acc.props;
        spans.keys = acc.keys;
        spans.refs = acc.refs;
        Some(Resource {
            name: name.to_string(),
            schema,
            props,
            depends_on,
            protect,
            ignore_changes: ignore_changes.into_iter().map(|(p, _)| p).collect(),
            existing,
            lookup_id,
            import,
            defaulted: std::mem::take(&mut self.defaulted),
            spans,
        })
    }

    fn default_value(&self, d: DefaultValue, name: &str, max_name_len: usize) -> Value {
        match d {
            DefaultValue::Bool(b) => Value::Bool(b),
            DefaultValue::Int(i) => Value::Int(i),
            DefaultValue::Str(s) => Value::Str(s.to_string()),
            DefaultValue::AwsName => {
                Value::Str(schema::aws_name(&self.stack_name, name, max_name_len))
            }
            DefaultValue::Pattern(p) => Value::Str(
                p.replace("{stack}", &self.stack_name)
                    .replace("{name}", name),
            ),
        }
    }

    fn unknown_property(&mut self, schema: &TypeSchema, pkey: &str, span: Span, name: &str) {
        let mut candidates = prop_names(schema);
        candidates.extend(META_KEYS.iter().copied());
        let help = suggest(pkey, candidates.iter().copied(), || {
            format!(
                "`{}` has these properties: {}",
                schema.name,
                backticked(prop_names(schema))
            )
        });
        self.error(
            Diag::error(
                "iac::resource::unknown_property",
                format!(
                    "unknown property `{pkey}` on resource `{name}` (`{}`)",
                    schema.name
                ),
            )
            .label(span, "unknown property")
            .help(help),
        );
    }

    fn check_dependency(&mut self, name: &str, dep: &str, span: Span) {
        if dep == name {
            self.error(
                Diag::error(
                    "iac::reference::self",
                    format!("resource `{name}` depends on itself"),
                )
                .label(span, "its own name")
                .help("remove it from `depends_on`"),
            );
        } else if !self.types.contains_key(dep) {
            let help = suggest(dep, self.types.keys().map(String::as_str), || {
                "name a resource defined under `resources:`".to_string()
            });
            self.error(
                Diag::error(
                    "iac::resource::unknown_dependency",
                    format!("`depends_on` of `{name}` names unknown resource `{dep}`"),
                )
                .label(span, "no such resource")
                .help(help),
            );
        }
    }

    /// A meta key holding a list of strings; each with its span.
    fn string_list(&mut self, node: &Node, key: &str, name: &str) -> Vec<(String, Span)> {
        let items = match &node.kind {
            NodeKind::Seq(items) => items,
            _ => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "expected a list for `{key}` of `{name}`, found {}",
                            node.describe()
                        ),
                    )
                    .label(node.span, "expected a list")
                    .help(format!("write `{key}: [a, b]`")),
                );
                return vec![];
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_str() {
                Some(s) => out.push((s.to_string(), item.span)),
                None => self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "expected a string in `{key}` of `{name}`, found {}",
                            item.describe()
                        ),
                    )
                    .label(item.span, "expected a string")
                    .help(format!("list names in `{key}` as plain strings")),
                ),
            }
        }
        out
    }

    /// The `import:` id of resource `name`: a literal string whose form fits the type.
    fn import_meta(
        &mut self,
        node: &Node,
        name: &str,
        schema: Option<&'static TypeSchema>,
    ) -> Option<String> {
        let Some(id) = node.as_str() else {
            self.error(
                Diag::error(
                    "iac::value::wrong_type",
                    format!(
                        "expected the id of an existing object for `import` of `{name}`, found {}",
                        node.describe()
                    ),
                )
                .label(node.span, "expected a string")
                .help("write the id the AWS console shows, e.g. `import: vpc-0a1b2c3d4e5f60718`"),
            );
            return None;
        };
        if id.contains("${") {
            self.error(
                Diag::error(
                    "iac::import::not_literal",
                    format!("the `import:` id of `{name}` must be written out"),
                )
                .label(node.span, "a reference or var")
                .help("the id names an object that exists before the plan: write it literally"),
            );
            return None;
        }
        if !self.console_id_fits("iac::import::bad_id", node.span, schema, id) {
            return None;
        }
        Some(id.to_string())
    }

    /// Whether `id` has a form of the type's console ids ([`schema::check_import_id`]);
    /// when it does not, `code` is reported at `span` with the forms the type takes.
    pub(super) fn console_id_fits(
        &mut self,
        code: &'static str,
        span: Span,
        schema: Option<&'static TypeSchema>,
        id: &str,
    ) -> bool {
        let Some(schema) = schema else {
            return true;
        };
        match schema::check_import_id(schema.name, id) {
            Ok(()) => true,
            Err(e) => {
                self.error(
                    Diag::error(code, e.message)
                        .label(span, format!("not an `{}` id", schema.name))
                        .help(e.help),
                );
                false
            }
        }
    }

    fn bool_meta(&mut self, node: &Node, key: &str, name: &str) -> bool {
        match node.kind {
            NodeKind::Bool(b) => b,
            _ => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "expected a boolean for `{key}` of `{name}`, found {}",
                            node.describe()
                        ),
                    )
                    .label(node.span, "expected `true` or `false`")
                    .help(format!("write `{key}: true` or `{key}: false`")),
                );
                false
            }
        }
    }

    // ----- outputs -------------------------------------------------------------------------

    fn outputs(&mut self, node: &Node) -> IndexMap<String, Output> {
        let entries = match &node.kind {
            NodeKind::Map(e) => e.as_slice(),
            NodeKind::Null => &[],
            _ => {
                self.error(
                    Diag::error(
                        "iac::value::wrong_type",
                        format!(
                            "`outputs` must be a map of NAME -> value, found {}",
                            node.describe()
                        ),
                    )
                    .label(node.span, "expected a map")
                    .help("write each output as `NAME: ${resource.attr}`"),
                );
                return IndexMap::new();
            }
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

/// The kind of a property, counting `tags` on taggable types that do not list it.
fn prop_kind(schema: &TypeSchema, name: &str) -> Option<&'static Kind> {
    static TAGS: Kind = Kind::MapOf(&Kind::Str);
    match schema.prop(name) {
        Some(p) => Some(&p.kind),
        None if name == "tags" && schema.taggable => Some(&TAGS),
        None => None,
    }
}

fn prop_names(schema: &TypeSchema) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = schema.props.iter().map(|p| p.name).collect();
    if schema.taggable && !names.contains(&"tags") {
        names.push("tags");
    }
    names
}

/// Props in schema order (then `tags` and anything else, in written order).
fn in_schema_order(
    mut props: IndexMap<String, Value>,
    order: &[schema::Prop],
) -> IndexMap<String, Value> {
    let mut out = IndexMap::with_capacity(props.len());
    for p in order {
        if let Some(v) = props.shift_remove(p.name) {
            out.insert(p.name.to_string(), v);
        }
    }
    out.extend(props);
    out
}

#[cfg(test)]
mod tests;
