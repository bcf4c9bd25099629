//! `vars:`: declarations with defaults, var files and `--var` values, resolved before
//! anything that may use them.

use super::*;

impl Loader<'_> {
    pub(super) fn vars(
        &mut self,
        node: Option<&Node>,
        opts: &LoadOptions,
        spans: &mut HashMap<String, Span>,
    ) {
        let mut decls: IndexMap<String, VarDecl> = IndexMap::new();
        if let Some(node) = node {
            let entries = self.section_map(
                node,
                "iac::value::wrong_type",
                "`vars` must be a map of NAME -> value",
                "write each var as `NAME: default` under `vars:`",
            );
            for (k, v) in entries.unwrap_or_default() {
                self.declare_var(k, v, &mut decls, spans);
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

    pub(super) fn declare_var(
        &mut self,
        k: &Node,
        v: &Node,
        decls: &mut IndexMap<String, VarDecl>,
        spans: &mut HashMap<String, Span>,
    ) {
        let Some(name) = self.key_text(
            k,
            "iac::value::wrong_type",
            "var names must be strings",
            "not a var name",
            "name vars with letters, digits and `_`, e.g. `domain`",
        ) else {
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
                            self.wrong_kind(
                                ev,
                                "iac::value::wrong_type",
                                &format!("expected {want} for `{field}` of var `{name}`"),
                                &format!("expected {want}"),
                                format!("write `{field}:` as {want}"),
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
    pub(super) fn var_file(&mut self, path: &std::path::Path, decls: &IndexMap<String, VarDecl>) {
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
