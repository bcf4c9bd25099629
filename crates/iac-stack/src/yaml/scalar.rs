//! Scalars and tags: plain scalars resolved with the YAML 1.2 core schema (so `yes` stays a
//! string), quoted ones kept as text, and every tag but the core `!!str`/`!!int`/`!!float`/
//! `!!bool`/`!!null` refused with a message that names it.

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};

use super::{Node, NodeKind};
use crate::diag::{Diag, Diagnostics};
use crate::span::{SourceFile, Span};

/// Resolve a plain (unquoted) scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return NodeKind::Int(i);
            }
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return NodeKind::Int(i);
            }
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(i) => NodeKind::Int(i),
            // Out of i64 range: still a number in YAML's eyes.
            Err(_) => text
                .parse::<f64>()
                .map_or_else(|_| NodeKind::Str(text.to_string()), NodeKind::Float),
        };
    }
    if is_core_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return NodeKind::Float(f);
        }
    }
    NodeKind::Str(text.to_string())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (sign already stripped).
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

pub(super) fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

/// A tag as it was written: `!!foo` for the core namespace, `!Ref` for a local tag.
pub(super) fn show_tag(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

pub(super) fn unsupported_tag(tag: &Tag, span: Span, source: &SourceFile, diags: &mut Diagnostics) {
    diags.push(
        Diag::error(
            "iac::yaml::tag",
            format!("YAML tag `{}` is not supported", show_tag(tag)),
        )
        .in_file(source)
        .label(span, "tagged value")
        .help("remove the tag; references are written `${NAME.ATTR}`, vars `${var.NAME}`"),
    );
}

pub(super) fn check_collection_tag(
    tag: Option<&Tag>,
    suffix: &str,
    span: Span,
    source: &SourceFile,
    diags: &mut Diagnostics,
) -> bool {
    match tag {
        None => true,
        Some(t) if is_core(t, suffix) => true,
        Some(t) => {
            unsupported_tag(t, span, source, diags);
            false
        }
    }
}

pub(super) fn scalar(
    text: &str,
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: Span,
    source: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Node> {
    let kind = match tag {
        Some(t) if is_core(t, "str") => NodeKind::Str(value.to_string()),
        Some(t)
            if t.is_yaml_core_schema()
                && ["int", "float", "bool", "null"].contains(&t.suffix.as_str()) =>
        {
            let k = resolve_plain(&value);
            let fits = matches!(
                (&k, t.suffix.as_str()),
                (NodeKind::Int(_), "int" | "float")
                    | (NodeKind::Float(_), "float")
                    | (NodeKind::Bool(_), "bool")
                    | (NodeKind::Null, "null")
            );
            if !fits {
                diags.push(
                    Diag::error(
                        "iac::yaml::tag",
                        format!("`{value}` is not a valid `!!{}`", t.suffix),
                    )
                    .in_file(source)
                    .label(span, "tagged value")
                    .help("remove the tag or fix the value"),
                );
                return None;
            }
            k
        }
        Some(t) => {
            unsupported_tag(t, span, source, diags);
            return None;
        }
        None if style == ScalarStyle::Plain => resolve_plain(&value),
        None => NodeKind::Str(value.to_string()),
    };
    let mut node = Node::new(kind, span);
    if let NodeKind::Str(s) = &node.kind {
        // Where the text sits verbatim inside the written scalar (after an anchor or an
        // opening quote), if it does at all.
        let raw = text.get(span.start..span.end).unwrap_or("");
        if s.is_empty() {
            node.text_start = Some(span.start);
        } else if let Some(i) = raw.rfind(s.as_str()) {
            node.text_start = Some(span.start + i);
        }
        // A plain empty scalar has an empty span; keep it pointing somewhere visible.
        if node.span.is_empty() {
            node.span = Span::new(span.start, span.start);
        }
    }
    Some(node)
}
