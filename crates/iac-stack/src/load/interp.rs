//! `${...}` interpolation in strings: vars, `${region}` and `${stack}` are substituted now;
//! `${NAME.ATTR}` stays a reference, checked against the resources of the file.

use crate::diag::Diag;
use crate::model::RefSite;
use crate::value::{Part, Reference, Value};
use crate::yaml::Node;
use crate::Span;

use super::{backticked, did_you_mean, is_child_name, is_ident, suggest, Acc, Loader};

/// Which substitutions a string may use. `stack:` is resolved first, so it may only use
/// vars; `region:` may use vars and `${stack}`; `state:` everything but references.
#[derive(Clone, Copy)]
pub(super) struct Scope<'s> {
    stack: bool,
    region: bool,
    refs: bool,
    /// The resource the string belongs to, for `iac::reference::self`.
    owner: Option<&'s str>,
    /// How to name the place in messages.
    place: &'static str,
}

impl<'s> Scope<'s> {
    pub(super) const STACK: Scope<'static> = Scope {
        stack: false,
        region: false,
        refs: false,
        owner: None,
        place: "`stack:`",
    };
    pub(super) const REGION: Scope<'static> = Scope {
        stack: true,
        region: false,
        refs: false,
        owner: None,
        place: "`region:`",
    };
    pub(super) const STATE: Scope<'static> = Scope {
        stack: true,
        region: true,
        refs: false,
        owner: None,
        place: "`state:`",
    };
    pub(super) const TAGS: Scope<'static> = Scope {
        stack: true,
        region: true,
        refs: false,
        owner: None,
        place: "the stack-wide `tags`",
    };
    pub(super) const OUTPUT: Scope<'static> = Scope {
        stack: true,
        region: true,
        refs: true,
        owner: None,
        place: "outputs",
    };
    pub(super) fn resource(name: &'s str) -> Scope<'s> {
        Scope {
            stack: true,
            region: true,
            refs: true,
            owner: Some(name),
            place: "resources",
        }
    }
}

/// A piece of a string being interpolated.
enum Piece {
    Text(String),
    /// A var (by name) or `${region}`/`${stack}`, with the span of its `${...}`.
    Value(String, Value, Span),
    Ref(Reference),
}

impl Loader<'_> {
    /// Interpolate the string `s` written at `node`.
    pub(super) fn interpolate(
        &mut self,
        node: &Node,
        s: &str,
        path: &str,
        scope: Scope<'_>,
        acc: &mut Acc,
    ) -> Value {
        if !s.contains("${") {
            return Value::Str(s.to_string());
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        let mut offset = 0;
        while let Some(i) = rest.find("${") {
            if i > 0 && rest.as_bytes()[i - 1] == b'$' {
                // `$${` is a literal `${`.
                text.push_str(&rest[..i - 1]);
                text.push_str("${");
                rest = &rest[i + 2..];
                offset += i + 2;
                continue;
            }
            text.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(close) = after.find('}') else {
                let span = self.inner_span(node, offset + i, s.len());
                self.error(
                    Diag::error(
                        "iac::reference::syntax",
                        format!("unterminated `${{` in `{s}`"),
                    )
                    .label(span, "no closing `}`")
                    .help("close the reference with `}`, or write `$${` for a literal `${`"),
                );
                text.push_str(&rest[i..]);
                acc.poisoned.insert(path.to_string());
                rest = "";
                break;
            };
            let span = self.inner_span(node, offset + i, offset + i + 2 + close + 1);
            let inner = &after[..close];
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            match self.reference(inner, span, path, scope, acc) {
                Some(p) => pieces.push(p),
                // Keep the written text so the value still reads sensibly; the error is out.
                None => {
                    acc.poisoned.insert(path.to_string());
                    pieces.push(Piece::Text(format!("${{{inner}}}")));
                }
            }
            rest = &after[close + 1..];
            offset += i + 2 + close + 1;
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        // A whole-value reference keeps its type.
        if pieces.len() == 1 {
            match pieces.pop() {
                Some(Piece::Value(_, v, _)) => return v,
                Some(Piece::Ref(r)) => return Value::Ref(r),
                Some(Piece::Text(t)) => return Value::Str(t),
                None => {}
            }
        }
        let mut parts: Vec<Part> = Vec::new();
        let push_text = |parts: &mut Vec<Part>, t: &str| match parts.last_mut() {
            Some(Part::Text(prev)) => prev.push_str(t),
            _ => parts.push(Part::Text(t.to_string())),
        };
        for p in pieces {
            match p {
                Piece::Text(t) => push_text(&mut parts, &t),
                Piece::Ref(r) => parts.push(Part::Ref(r)),
                Piece::Value(name, v, span) => match v {
                    Value::Str(t) => push_text(&mut parts, &t),
                    Value::Int(i) => push_text(&mut parts, &i.to_string()),
                    Value::Float(f) => push_text(&mut parts, &f.to_string()),
                    Value::Bool(b) => push_text(&mut parts, &b.to_string()),
                    Value::Null => {}
                    other => {
                        let what = super::check::describe(&other);
                        self.error(
                            Diag::error(
                                "iac::reference::not_text",
                                format!("`{name}` is {what} and cannot be part of a longer string"),
                            )
                            .label(span, "not text")
                            .help(format!(
                                "use `${{{name}}}` as the whole value, or make it a string"
                            )),
                        );
                        acc.poisoned.insert(path.to_string());
                    }
                },
            }
        }
        match parts.as_slice() {
            [] => Value::Str(String::new()),
            [Part::Text(t)] => Value::Str(t.clone()),
            _ => Value::Template(parts),
        }
    }

    /// The span of bytes `start..end` of a string's text, when the text sits verbatim in the
    /// file; otherwise the whole scalar.
    fn inner_span(&self, node: &Node, start: usize, end: usize) -> Span {
        match node.text_start {
            Some(ts) if ts + end <= self.src.text.len() => node.span.within(ts + start, ts + end),
            _ => node.span,
        }
    }

    /// Resolve the inside of one `${...}`.
    fn reference(
        &mut self,
        inner: &str,
        span: Span,
        path: &str,
        scope: Scope<'_>,
        acc: &mut Acc,
    ) -> Option<Piece> {
        let expr = inner.trim();
        match expr {
            "stack" if scope.stack => {
                return Some(Piece::Value(
                    "stack".into(),
                    Value::Str(self.stack_name.clone()),
                    span,
                ))
            }
            "region" if scope.region => {
                let region = self.region.clone().unwrap_or_default();
                return Some(Piece::Value("region".into(), Value::Str(region), span));
            }
            "stack" | "region" => {
                self.error(
                    Diag::error(
                        "iac::reference::not_allowed",
                        format!("`${{{expr}}}` cannot be used in {}", scope.place),
                    )
                    .label(span, "not known yet here")
                    .help("`stack:` may use vars only, `region:` vars and `${stack}`"),
                );
                return None;
            }
            _ => {}
        }
        if let Some(var) = expr.strip_prefix("var.") {
            if let Some(v) = self.vars.get(var) {
                return Some(Piece::Value(format!("var.{var}"), v.clone(), span));
            }
            if self.unset_vars.contains(var) {
                return None;
            }
            let help = suggest(var, self.vars.keys().map(String::as_str), || {
                "declare it under `vars:`".to_string()
            });
            self.error(
                Diag::error(
                    "iac::reference::unknown_var",
                    format!("unknown var `{var}`"),
                )
                .label(span, "no such var")
                .help(help),
            );
            return None;
        }
        // The attribute is after the last dot: `${web.alb.dns_name}` reads `dns_name` of the
        // child `web.alb`; an attribute never has a dot, so this reading is the only one.
        let Some(reference) = Reference::parse(expr)
            .filter(|r| (is_ident(&r.resource) || is_child_name(&r.resource)) && is_ident(&r.attr))
        else {
            self.error(
                Diag::error("iac::reference::syntax", format!("invalid reference `${{{inner}}}`"))
                    .label(span, "not a reference")
                    .help("write `${var.NAME}`, `${region}`, `${stack}` or `${NAME.ATTR}`; `$${` gives a literal `${`"),
            );
            return None;
        };
        let (res, attr) = (reference.resource.as_str(), reference.attr.as_str());
        if !scope.refs {
            self.error(
                Diag::error(
                    "iac::reference::not_allowed",
                    format!(
                        "resource reference `${{{expr}}}` cannot be used in {}",
                        scope.place
                    ),
                )
                .label(span, "only known during apply")
                .help("use a literal value or a var here"),
            );
            return None;
        }
        if scope.owner == Some(res) {
            // A security group rule whose peer is the group itself has its own spelling.
            let sg_rule_source = self
                .types
                .get(res)
                .and_then(|d| d.schema)
                .is_some_and(|s| s.name == "aws.security_group")
                && (path.starts_with("ingress[") || path.starts_with("egress["))
                && path.ends_with(".source");
            let help = if sg_rule_source {
                "a rule whose peer is the group itself (members talking to each other) is written `source: self`"
            } else {
                "a resource cannot read its own attributes; use a literal value or a var"
            };
            self.error(
                Diag::error(
                    "iac::reference::self",
                    format!("resource `{res}` refers to its own attribute `{attr}`"),
                )
                .label(span, "reference to itself")
                .help(help),
            );
            return None;
        }
        let Some(target) = self.types.get(res).copied() else {
            // A web service is not a resource itself: its children are.
            let prefix = format!("{res}.");
            let children: Vec<&str> = self
                .types
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .collect();
            let help = if children.contains(&attr) {
                let attrs = self
                    .types
                    .get(&format!("{res}.{attr}"))
                    .and_then(|d| d.schema)
                    .map(|s| backticked(s.attrs.iter().map(|a| a.name)))
                    .unwrap_or_default();
                format!("`{res}.{attr}` is a resource of the web service `{res}`: read one of its attributes, `${{{res}.{attr}.ATTR}}`: {attrs}")
            } else if !children.is_empty() {
                format!(
                    "`{res}` is a web service: read an attribute of one of its resources, `${{{res}.CHILD.ATTR}}`, e.g. `${{{res}.alb.dns_name}}`; its resources are {}",
                    backticked(children.iter().copied())
                )
            } else {
                suggest(res, self.types.keys().map(String::as_str), || {
                    "name a resource defined under `resources:`".to_string()
                })
            };
            self.error(
                Diag::error(
                    "iac::reference::unknown_resource",
                    format!("`${{{expr}}}` refers to unknown resource `{res}`"),
                )
                .label(span, "no such resource")
                .help(help),
            );
            return None;
        };
        if let Some(schema) = target
            .schema
            .filter(|s| !crate::schema::is_stack_ref(s.name))
        {
            if schema.attr(attr).is_none() {
                let names: Vec<&str> = schema.attrs.iter().map(|a| a.name).collect();
                let listed = format!(
                    "`{}` has the attributes {}",
                    schema.name,
                    backticked(names.iter().copied())
                );
                let help = match did_you_mean(attr, names.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`? {listed}"),
                    None => listed,
                };
                self.error(
                    Diag::error(
                        "iac::reference::unknown_attribute",
                        format!("`{res}` (`{}`) has no attribute `{attr}`", schema.name),
                    )
                    .label(span, "unknown attribute")
                    .label(target.name_span, format!("`{res}` is declared here"))
                    .help(help),
                );
                return None;
            }
        }
        acc.refs.push(RefSite {
            reference: reference.clone(),
            span,
            path: path.to_string(),
        });
        Some(Piece::Ref(reference))
    }
}
