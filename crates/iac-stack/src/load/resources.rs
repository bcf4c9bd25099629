//! `resources:`: every resource's name, type, meta keys (`depends_on`, `protect`,
//! `import`, ...) and properties, checked against the schema with defaults filled in.

use super::*;

impl Loader<'_> {
    pub(super) fn resources(&mut self, node: &Node) -> IndexMap<String, Resource> {
        let Some(entries) = self.section_map(
            node,
            "iac::value::wrong_type",
            "`resources` must be a map of NAME -> resource",
            "write each resource as `NAME:` with `type:` and its properties below it",
        ) else {
            return IndexMap::new();
        };
        // Composites first: each becomes its children, named `PARENT.CHILD`.
        let expanded = self.expand(entries);
        // Pass 1: names and types, so references may point anywhere in the file.
        let mut bodies = Vec::new();
        for (k, body, generated) in &expanded {
            let name = k.key_text().unwrap_or_default();
            if !generated && !is_ident(&name) {
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
        let before = self.diags.0.len();
        let mut out = IndexMap::new();
        for (name, k, body, schema) in bodies {
            if let Some(r) = self.resource(&name, k, body, schema) {
                out.insert(name, r);
            }
        }
        // A web service field several children use (`port`) is reported once.
        if expanded.iter().any(|(_, _, generated)| *generated) {
            let mut seen = HashSet::new();
            let mut i = 0;
            self.diags.0.retain(|d| {
                i += 1;
                i <= before || seen.insert((d.code, d.labels.first().map(|l| l.span)))
            });
        }
        out
    }

    /// The schema named by a resource's `type:`, reporting a missing or unknown type.
    pub(super) fn resource_type(
        &mut self,
        name: &str,
        name_span: Span,
        body: &Node,
    ) -> Option<&'static TypeSchema> {
        let entries = self.map_of(
            body,
            "iac::value::wrong_type",
            &format!("resource `{name}` must be a map with `type:` and properties"),
            "write `type: aws.TYPE` and the properties indented under the resource name",
        )?;
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
            self.wrong_kind(
                tnode,
                "iac::value::wrong_type",
                &format!("expected a type name for `type` of `{name}`"),
                "expected a type name",
                "write `type: aws.TYPE`, e.g. `type: aws.vpc`",
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

    pub(super) fn resource(
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
            let Some(pkey) = self.key_text(
                k,
                "iac::resource::unknown_property",
                "property names must be strings",
                "not a property name",
                "write property names as plain words, e.g. `cidr:`",
            ) else {
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
            implied: Vec::new(),
            spans,
        })
    }

    pub(super) fn default_value(&self, d: DefaultValue, name: &str, max_name_len: usize) -> Value {
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

    pub(super) fn unknown_property(
        &mut self,
        schema: &TypeSchema,
        pkey: &str,
        span: Span,
        name: &str,
    ) {
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

    pub(super) fn check_dependency(&mut self, name: &str, dep: &str, span: Span) {
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
    pub(super) fn string_list(
        &mut self,
        node: &Node,
        key: &str,
        name: &str,
    ) -> Vec<(String, Span)> {
        let items = match &node.kind {
            NodeKind::Seq(items) => items,
            _ => {
                self.wrong_kind(
                    node,
                    "iac::value::wrong_type",
                    &format!("expected a list for `{key}` of `{name}`"),
                    "expected a list",
                    format!("write `{key}: [a, b]`"),
                );
                return vec![];
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_str() {
                Some(s) => out.push((s.to_string(), item.span)),
                None => self.wrong_kind(
                    item,
                    "iac::value::wrong_type",
                    &format!("expected a string in `{key}` of `{name}`"),
                    "expected a string",
                    format!("list names in `{key}` as plain strings"),
                ),
            }
        }
        out
    }

    /// The `import:` id of resource `name`: a literal string whose form fits the type.
    pub(super) fn import_meta(
        &mut self,
        node: &Node,
        name: &str,
        schema: Option<&'static TypeSchema>,
    ) -> Option<String> {
        let Some(id) = node.as_str() else {
            self.wrong_kind(
                node,
                "iac::value::wrong_type",
                &format!("expected the id of an existing object for `import` of `{name}`"),
                "expected a string",
                "write the id the AWS console shows, e.g. `import: vpc-0a1b2c3d4e5f60718`",
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

    pub(super) fn bool_meta(&mut self, node: &Node, key: &str, name: &str) -> bool {
        match node.kind {
            NodeKind::Bool(b) => b,
            _ => {
                self.wrong_kind(
                    node,
                    "iac::value::wrong_type",
                    &format!("expected a boolean for `{key}` of `{name}`"),
                    "expected `true` or `false`",
                    format!("write `{key}: true` or `{key}: false`"),
                );
                false
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
