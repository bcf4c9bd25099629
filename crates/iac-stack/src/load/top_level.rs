//! The top-level settings: `stack`, `region`, `state`, and the stack-wide `tags:` merged
//! into every taggable resource the stack manages.

use super::*;

impl Loader<'_> {
    pub(super) fn stack_name(&mut self, node: Option<&Node>, top_span: Span, misspelt: bool) {
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

    pub(super) fn region(
        &mut self,
        node: Option<&Node>,
        opts: &LoadOptions,
        top_span: Span,
        misspelt: bool,
    ) {
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

    pub(super) fn state(&mut self, node: &Node) -> Option<String> {
        if matches!(node.kind, NodeKind::Null) {
            return None;
        }
        self.plain_string(node, "state", Scope::STATE)
    }

    /// A top-level string setting after interpolation.
    pub(super) fn plain_string(&mut self, node: &Node, key: &str, scope: Scope) -> Option<String> {
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

    /// The top-level `tags:`: a map of tag -> string given to every taggable resource. Values
    /// may use vars, `${stack}` and `${region}`, not resource attributes. `Name` and the
    /// `iac:` keys are iac's own, per resource; `aws:` keys are AWS's.
    pub(super) fn stack_tags(&mut self, node: &Node, spans: &mut HashMap<String, Span>) {
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
    pub(super) fn merge_stack_tags(&self, props: &mut IndexMap<String, Value>, acc: &mut Acc) {
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
}
