//! Property values against their [`Kind`]: types, CIDRs, ports, enums, nested objects.
//! Runs after interpolation, so a whole-value `${var.x}` is checked as the var's value.

use indexmap::IndexMap;
use ipnet::IpNet;

use crate::diag::Diag;
use crate::schema::{AttrKind, Kind, Prop};
use crate::value::{Reference, Value};
use crate::Span;

use super::{backticked, did_you_mean, suggest, Acc, Loader};

/// How a value reads in a message: "a string `abc`", "an integer `3`", "a list".
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean `{b}`"),
        Value::Int(i) => format!("an integer `{i}`"),
        Value::Float(f) => format!("a number `{f}`"),
        Value::Str(s) => format!("a string `{s}`"),
        Value::List(_) => "a list".to_string(),
        Value::Map(_) => "a map".to_string(),
        Value::Ref(r) => format!("a reference `{r}`"),
        Value::Template(_) => "a string with references".to_string(),
    }
}

/// What a kind expects, for messages.
fn expected(kind: &Kind) -> String {
    match kind {
        Kind::Str => "a string".into(),
        Kind::Int => "an integer".into(),
        Kind::Bool => "a boolean (`true` or `false`)".into(),
        Kind::Cidr => "a CIDR block such as `10.0.0.0/16`".into(),
        Kind::Port => "a port number (0-65535)".into(),
        Kind::Enum(allowed) => format!("one of {}", backticked(allowed.iter().copied())),
        Kind::Id { rtype, attr } => {
            format!("a reference such as `${{NAME.{attr}}}` to an `{rtype}`")
        }
        Kind::ListOf(_) => "a list".into(),
        Kind::MapOf(_) => "a map".into(),
        Kind::Object(_) => "a map of fields".into(),
        Kind::OneOf(alts) => alts.iter().map(expected).collect::<Vec<_>>().join(" or "),
        Kind::Any => "any value".into(),
    }
}

/// Whether a reference to an attribute of kind `attr` may stand where `kind` is expected.
fn ref_fits(kind: &Kind, attr: AttrKind) -> bool {
    match kind {
        Kind::Str | Kind::Id { .. } => matches!(attr, AttrKind::Str | AttrKind::Int),
        Kind::Cidr | Kind::Enum(_) => attr == AttrKind::Str,
        Kind::Int | Kind::Port => attr == AttrKind::Int,
        Kind::ListOf(_) => attr == AttrKind::List,
        Kind::Any => true,
        Kind::OneOf(alts) => alts.iter().any(|k| ref_fits(k, attr)),
        Kind::Bool | Kind::MapOf(_) | Kind::Object(_) => false,
    }
}

impl Loader<'_> {
    fn attr_kind(&self, r: &Reference) -> Option<AttrKind> {
        let schema = self.types.get(&r.resource)?.schema?;
        Some(schema.attr(&r.attr)?.kind)
    }

    fn wrong_type(&mut self, value: &Value, kind: &Kind, path: &str, span: Span) {
        let want = expected(kind);
        let help = match (kind, value) {
            (Kind::Str, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
                format!("quote it to make it a string: `\"{}\"`", plain(value))
            }
            (Kind::Int, Value::Str(s)) if s.trim().parse::<i64>().is_ok() => {
                format!("remove the quotes: `{}`", s.trim())
            }
            _ => format!("write {want} for `{path}`"),
        };
        self.error(
            Diag::error(
                "iac::value::wrong_type",
                format!("expected {want} for `{path}`, found {}", describe(value)),
            )
            .label(span, format!("expected {want}"))
            .help(help),
        );
    }

    /// Check (and normalise: enum integers become strings, nested defaults are filled in)
    /// `value` at `path` against `kind`.
    pub(super) fn check(
        &mut self,
        value: &mut Value,
        kind: &Kind,
        path: &str,
        acc: &Acc,
        fallback: Span,
    ) {
        if acc.poisoned.contains(path) {
            return;
        }
        let span = acc.span_of(path, fallback);
        // References and templates: checked by the kind of what they read.
        match value {
            Value::Ref(r) => {
                if let Some(ak) = self.attr_kind(r) {
                    if !ref_fits(kind, ak) {
                        let what = match ak {
                            AttrKind::Str => "a string",
                            AttrKind::Int => "an integer",
                            AttrKind::List => "a list",
                        };
                        let want = expected(kind);
                        self.error(
                            Diag::error(
                                "iac::value::wrong_type",
                                format!(
                                    "expected {want} for `{path}`, found `{r}` which is {what}"
                                ),
                            )
                            .label(span, format!("expected {want}"))
                            .help(format!(
                                "reference an attribute that is {want}, or write a literal value"
                            )),
                        );
                    }
                }
                return;
            }
            Value::Template(_) => {
                if !matches!(
                    kind,
                    Kind::Str | Kind::Id { .. } | Kind::Cidr | Kind::Enum(_) | Kind::Any
                ) && !matches!(kind, Kind::OneOf(alts) if alts.iter().any(|k| matches!(k, Kind::Str | Kind::Id { .. })))
                {
                    self.wrong_type(value, kind, path, span);
                }
                return;
            }
            _ => {}
        }
        match kind {
            Kind::Any => {}
            Kind::OneOf(alts) => {
                let is_map = matches!(value, Value::Map(_));
                let alt = alts
                    .iter()
                    .find(|k| matches!(k, Kind::Object(_) | Kind::MapOf(_)) == is_map);
                match alt {
                    Some(alt) => self.check(value, alt, path, acc, fallback),
                    None => self.wrong_type(value, kind, path, span),
                }
            }
            Kind::Str | Kind::Id { .. } => {
                if !matches!(value, Value::Str(_)) {
                    self.wrong_type(value, kind, path, span);
                }
            }
            Kind::Int => {
                if !matches!(value, Value::Int(_)) {
                    self.wrong_type(value, kind, path, span);
                }
            }
            Kind::Bool => {
                if !matches!(value, Value::Bool(_)) {
                    self.wrong_type(value, kind, path, span);
                }
            }
            Kind::Cidr => match value {
                Value::Str(s) => self.check_cidr(s, path, span),
                _ => self.wrong_type(value, kind, path, span),
            },
            Kind::Port => match value {
                Value::Int(p) if (0..=65535).contains(p) => {}
                Value::Int(p) => self.error(
                    Diag::error(
                        "iac::value::invalid_port",
                        format!("port `{p}` of `{path}` is out of range"),
                    )
                    .label(span, "not in 0-65535")
                    .help("use a port between 0 and 65535"),
                ),
                other => {
                    let help = match other {
                        Value::Str(s) if s.trim().parse::<u16>().is_ok() => {
                            format!("remove the quotes: `{}`", s.trim())
                        }
                        _ => "write the port as a number, e.g. `443`".to_string(),
                    };
                    self.error(
                        Diag::error(
                            "iac::value::invalid_port",
                            format!(
                                "expected a port number for `{path}`, found {}",
                                describe(other)
                            ),
                        )
                        .label(span, "expected a port number")
                        .help(help),
                    );
                }
            },
            Kind::Enum(allowed) => {
                let text = match value {
                    Value::Str(s) => Some(s.clone()),
                    Value::Int(i) => Some(i.to_string()),
                    _ => None,
                };
                match text {
                    Some(t) if allowed.contains(&t.as_str()) => *value = Value::Str(t),
                    _ => {
                        let listed = format!("use one of {}", backticked(allowed.iter().copied()));
                        let help = match value {
                            Value::Str(s) => match did_you_mean(s, allowed.iter().copied()) {
                                Some(near) => format!("did you mean `{near}`? {listed}"),
                                None => listed,
                            },
                            _ => listed,
                        };
                        self.error(
                            Diag::error(
                                "iac::value::invalid_enum",
                                format!("invalid value for `{path}`: {}", describe(value)),
                            )
                            .label(span, "not an allowed value")
                            .help(help),
                        );
                    }
                }
            }
            Kind::ListOf(item) => match value {
                Value::List(items) => {
                    for (i, v) in items.iter_mut().enumerate() {
                        self.check(v, item, &format!("{path}[{i}]"), acc, span);
                    }
                }
                _ => self.wrong_type(value, kind, path, span),
            },
            Kind::MapOf(item) => match value {
                Value::Map(m) => {
                    for (k, v) in m.iter_mut() {
                        self.check(v, item, &format!("{path}.{k}"), acc, span);
                    }
                }
                _ => self.wrong_type(value, kind, path, span),
            },
            Kind::Object(fields) => match value {
                Value::Map(m) => self.check_object(m, fields, path, acc, span),
                _ => self.wrong_type(value, kind, path, span),
            },
        }
    }

    fn check_object(
        &mut self,
        m: &mut IndexMap<String, Value>,
        fields: &'static [Prop],
        path: &str,
        acc: &Acc,
        span: Span,
    ) {
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        for (k, v) in m.iter_mut() {
            let sub = format!("{path}.{k}");
            match fields.iter().find(|f| f.name == k) {
                Some(f) => self.check(v, &f.kind, &sub, acc, span),
                None => {
                    let key_span = acc.keys.get(&sub).copied().unwrap_or(span);
                    let help = suggest(k, names.iter().copied(), || {
                        format!(
                            "`{path}` has the fields {}",
                            backticked(names.iter().copied())
                        )
                    });
                    self.error(
                        Diag::error(
                            "iac::resource::unknown_property",
                            format!("unknown field `{k}` in `{path}`"),
                        )
                        .label(key_span, "unknown field")
                        .help(help),
                    );
                }
            }
        }
        for f in fields {
            if m.contains_key(f.name) {
                continue;
            }
            if f.required {
                self.error(
                    Diag::error(
                        "iac::resource::missing_property",
                        format!("`{path}` is missing required field `{}`", f.name),
                    )
                    .label(span, format!("no `{}:`", f.name))
                    .help(format!(
                        "add `{}:` ({})",
                        f.name,
                        f.doc.trim_end_matches('.')
                    )),
                );
            } else if let Some(d) = f.default {
                let v = self.default_value(d, &acc.resource, acc.max_name_len);
                m.insert(f.name.to_string(), v);
                self.defaulted.push(format!("{path}.{}", f.name));
            }
        }
        // Schema order, unknown fields (already reported) last.
        let mut ordered = IndexMap::with_capacity(m.len());
        for f in fields {
            if let Some(v) = m.shift_remove(f.name) {
                ordered.insert(f.name.to_string(), v);
            }
        }
        ordered.extend(std::mem::take(m));
        *m = ordered;
    }

    fn check_cidr(&mut self, s: &str, path: &str, span: Span) {
        match s.parse::<IpNet>() {
            Err(_) => self.error(
                Diag::error(
                    "iac::value::invalid_cidr",
                    format!("`{s}` is not a valid CIDR block for `{path}`"),
                )
                .label(span, "not a CIDR block")
                .help("write an address and a prefix length, e.g. `10.0.0.0/16`"),
            ),
            Ok(net) if net.trunc() != net => self.error(
                Diag::error(
                    "iac::value::invalid_cidr",
                    format!("CIDR block `{s}` of `{path}` has host bits set"),
                )
                .label(span, "host bits set")
                .help(format!("use the network address `{}`", net.trunc())),
            ),
            Ok(_) => {}
        }
    }
}

/// A scalar as it would be written.
fn plain(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => s.clone(),
        other => describe(other),
    }
}
