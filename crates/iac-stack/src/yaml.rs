//! YAML text to a tree of nodes that keep their byte spans.
//!
//! Why this parser: stack files are written by hand and every diagnostic must point at the
//! exact place in the file, so the loader needs a byte span on every key and value. The
//! serde-based YAML crates throw spans away, so stack (and var) files are read with
//! `saphyr-parser`, a pure-Rust YAML 1.2 event parser whose events carry source markers; this
//! module turns those events into a small [`Node`] tree and resolves plain scalars with the
//! YAML 1.2 core schema (so `yes`/`no`/`on` stay strings, unlike YAML 1.1). `serde_yaml_ng`
//! remains the tool for plain serde reads where spans do not matter (saved data, for example).
//!
//! Policy decisions made here, so the loader sees a simple tree:
//! - aliases (`*name`) are rejected with `iac::yaml::alias` (anchors alone are harmless and
//!   ignored): resolving them by cloning invites exponential blow-ups ("billion laughs") and
//!   vars already cover sharing a value;
//! - tags are rejected (`iac::yaml::tag`) except the core `!!str`/`!!int`/`!!float`/`!!bool`/
//!   `!!null`, so CloudFormation habits like `!Ref` get a clear message;
//! - duplicate keys in one map are an error with both spans (`iac::yaml::duplicate_key`);
//! - more than one document is an error (`iac::yaml::multiple_documents`);
//! - nesting deeper than [`MAX_DEPTH`] is an error (`iac::yaml::too_deep`), so hostile input
//!   cannot exhaust the stack of the recursive code downstream.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::diag::{Diag, Diagnostics};
use crate::span::{SourceFile, Span};

/// Deepest nesting of sequences and maps accepted; far beyond any real stack file.
pub const MAX_DEPTH: usize = 128;

/// A YAML value with the byte span it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// For strings: the byte offset in the source where the string's text appears verbatim,
    /// so a diagnostic can point inside it. `None` when the text was transformed on the way
    /// (escapes in a quoted scalar, folding of a multi-line scalar).
    pub text_start: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are unique (duplicates are reported and dropped).
    Map(Vec<(Node, Node)>),
}

impl Node {
    fn new(kind: NodeKind, span: Span) -> Self {
        Node {
            kind,
            span,
            text_start: None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The text a scalar key stands for (`1` for the integer key `1`); `None` for a
    /// collection used as a key.
    pub fn key_text(&self) -> Option<String> {
        Some(match &self.kind {
            NodeKind::Null => "null".to_string(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::Float(f) => f.to_string(),
            NodeKind::Str(s) => s.clone(),
            NodeKind::Seq(_) | NodeKind::Map(_) => return None,
        })
    }

    /// What kind of value this is, for messages: "a string", "a list", ...
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }
}

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

/// Maps the parser's character indices to byte offsets.
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of every char, only built when the text is not ASCII.
    table: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let table = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        Offsets { text, table }
    }
    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.text.len()),
            Some(t) => t.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }
    fn span(&self, s: saphyr_parser::Span) -> Span {
        let start = self.byte(s.start.index());
        let end = self.byte(s.end.index()).max(start);
        Span::new(start, end)
    }
}

/// A collection being built.
enum Open {
    Seq(Span, Vec<Node>),
    Map(Span, Vec<(Node, Node)>, Option<Node>),
}

/// Parse `source` into a node tree. `None` when the text is not usable YAML; the reason is
/// in `diags`. Diagnostics point into `source` (a stack file or a var file).
pub fn parse(source: &SourceFile, diags: &mut Diagnostics) -> Option<Node> {
    let text: &str = &source.text;
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    // Aliases and tags leave holes in the tree that would only cause follow-on noise, so
    // they end the load once all of them are reported; a duplicate key is just dropped.
    let mut holes = false;
    let mut documents = 0;

    while let Some(event) = parser.next_event() {
        let (event, raw_span) = match event {
            Ok(e) => e,
            Err(e) => {
                let at = offsets.byte(e.marker().index());
                let end = next_char_end(text, at);
                diags.push(
                    Diag::error("iac::yaml::syntax", format!("invalid YAML: {}", e.info()))
                        .in_file(source)
                        .label(Span::new(at, end), "the parser stopped here")
                        .help("fix the YAML syntax here; indentation and `:` after keys are the usual suspects"),
                );
                return None;
            }
        };
        let span = offsets.span(raw_span);
        let node = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diags.push(
                        Diag::error(
                            "iac::yaml::multiple_documents",
                            "a stack file holds one YAML document, found a second",
                        )
                        .in_file(source)
                        .label(
                            Span::new(span.start, next_char_end(text, span.start)),
                            "second document starts here",
                        )
                        .help("remove the `---` separator and keep one document per file"),
                    );
                    break;
                }
                continue;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
            Event::Alias(_) => {
                diags.push(
                    Diag::error("iac::yaml::alias", "YAML aliases are not supported")
                        .in_file(source)
                        .label(span, "alias used here")
                        .help("write the value out, or put it in a var and use `${var.NAME}`"),
                );
                holes = true;
                Node::new(NodeKind::Null, span)
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                diags.push(
                    Diag::error(
                        "iac::yaml::too_deep",
                        format!("values are nested more than {MAX_DEPTH} levels deep"),
                    )
                    .in_file(source)
                    .label(
                        Span::new(span.start, next_char_end(text, span.start)),
                        "too deep here",
                    )
                    .help("flatten the structure; stack files never need this much nesting"),
                );
                return None;
            }
            Event::SequenceStart(_, tag) => {
                if !check_collection_tag(tag.as_deref(), "seq", span, source, diags) {
                    holes = true;
                }
                stack.push(Open::Seq(span, Vec::new()));
                continue;
            }
            Event::MappingStart(_, tag) => {
                if !check_collection_tag(tag.as_deref(), "map", span, source, diags) {
                    holes = true;
                }
                stack.push(Open::Map(span, Vec::new(), None));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(start, items)) => {
                    let end = collection_end(text, start, span, items.last().map(|n| n.span.end));
                    Node::new(NodeKind::Seq(items), Span::new(start.start, end))
                }
                _ => continue,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(start, entries, _)) => {
                    let end =
                        collection_end(text, start, span, entries.last().map(|(_, v)| v.span.end));
                    Node::new(NodeKind::Map(entries), Span::new(start.start, end))
                }
                _ => continue,
            },
            Event::Scalar(value, style, _, tag) => {
                match scalar(text, value, style, tag.as_deref(), span, source, diags) {
                    Some(n) => n,
                    None => {
                        holes = true;
                        Node::new(NodeKind::Null, span)
                    }
                }
            }
        };
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(kt) = key.key_text() {
                        if let Some((first, _)) = entries
                            .iter()
                            .find(|(k, _)| k.key_text().as_deref() == Some(&kt))
                        {
                            diags.push(
                                Diag::error(
                                    "iac::yaml::duplicate_key",
                                    format!("duplicate key `{kt}`"),
                                )
                                .in_file(source)
                                .label(key.span, "written again here")
                                .label(first.span, "first written here")
                                .help("remove one of the two entries; YAML keys must be unique in a map"),
                            );
                            continue;
                        }
                    }
                    entries.push((key, node));
                }
            },
        }
    }
    if holes {
        return None;
    }
    Some(root.unwrap_or_else(|| Node::new(NodeKind::Null, Span::new(0, 0))))
}

/// End of a collection: a flow collection (`[..]`, `{..}`) ends at its closing bracket, a
/// block one at its last item (the parser's end event sits at the next token, often lines on).
fn collection_end(text: &str, start: Span, end_event: Span, last_child: Option<usize>) -> usize {
    let flow =
        matches!(text.as_bytes().get(start.start), Some(b'[' | b'{')) && start.end > start.start;
    if flow {
        end_event.end.max(start.end)
    } else {
        last_child.unwrap_or(start.end).max(start.start)
    }
}

fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| if c == '\n' { at } else { at + c.len_utf8() })
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

/// A tag as it was written: `!!foo` for the core namespace, `!Ref` for a local tag.
fn show_tag(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn unsupported_tag(tag: &Tag, span: Span, source: &SourceFile, diags: &mut Diagnostics) {
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

fn check_collection_tag(
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

fn scalar(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        let src = SourceFile::new("t.yaml", text);
        let mut d = Diagnostics::default();
        let n = parse(&src, &mut d).expect("parses");
        assert!(!d.has_errors(), "{:?}", d);
        n
    }

    fn parse_err(text: &str) -> Diagnostics {
        let src = SourceFile::new("t.yaml", text);
        let mut d = Diagnostics::default();
        let _ = parse(&src, &mut d);
        assert!(d.has_errors(), "expected an error for {text:?}");
        d
    }

    #[test]
    fn core_schema_resolution() {
        assert_eq!(resolve_plain("~"), NodeKind::Null);
        assert_eq!(resolve_plain("True"), NodeKind::Bool(true));
        assert_eq!(resolve_plain("yes"), NodeKind::Str("yes".into()));
        assert_eq!(resolve_plain("-42"), NodeKind::Int(-42));
        assert_eq!(resolve_plain("0x1F"), NodeKind::Int(31));
        assert_eq!(resolve_plain("0o17"), NodeKind::Int(15));
        assert_eq!(resolve_plain("1.5e3"), NodeKind::Float(1500.0));
        assert_eq!(resolve_plain("1.2.3"), NodeKind::Str("1.2.3".into()));
        assert_eq!(
            resolve_plain("10.0.0.0/16"),
            NodeKind::Str("10.0.0.0/16".into())
        );
        assert_eq!(resolve_plain("e5"), NodeKind::Str("e5".into()));
    }

    #[test]
    fn spans_are_bytes_even_after_multibyte_text() {
        let text = "a: \"héllo\"\nb: 3\n";
        let n = parse_ok(text);
        let m = n.as_map().unwrap();
        let (k, v) = &m[1];
        assert_eq!(&text[k.span.start..k.span.end], "b");
        assert_eq!(&text[v.span.start..v.span.end], "3");
        assert_eq!(v.kind, NodeKind::Int(3));
        let s = &m[0].1;
        assert_eq!(&text[s.span.start..s.span.end], "\"héllo\"");
        assert_eq!(s.text_start, Some(4));
    }

    #[test]
    fn quoted_scalars_are_strings() {
        let n = parse_ok("a: '3'\nb: \"true\"\nc: 3\n");
        let m = n.as_map().unwrap();
        assert_eq!(m[0].1.kind, NodeKind::Str("3".into()));
        assert_eq!(m[1].1.kind, NodeKind::Str("true".into()));
        assert_eq!(m[2].1.kind, NodeKind::Int(3));
    }

    #[test]
    fn collection_spans() {
        let text = "a:\n  - x\n  - [1, 2]\nb: {c: d}\n\n\n";
        let n = parse_ok(text);
        let m = n.as_map().unwrap();
        let seq = &m[0].1;
        assert_eq!(&text[seq.span.start..seq.span.end], "- x\n  - [1, 2]");
        let map = &m[1].1;
        assert_eq!(&text[map.span.start..map.span.end], "{c: d}");
    }

    #[test]
    fn duplicate_keys_name_both_places() {
        let d = parse_err("a: 1\nb: 2\na: 3\n");
        let diag = &d.0[0];
        assert_eq!(diag.code, "iac::yaml::duplicate_key");
        assert_eq!(diag.labels[0].span, Span::new(10, 11));
        assert_eq!(diag.labels[1].span, Span::new(0, 1));
    }

    #[test]
    fn syntax_error_points_at_marker() {
        let d = parse_err("a: [1, 2\nb: 3\n");
        assert_eq!(d.0[0].code, "iac::yaml::syntax");
    }

    #[test]
    fn second_document_is_an_error() {
        let d = parse_err("a: 1\n---\nb: 2\n");
        assert_eq!(d.0[0].code, "iac::yaml::multiple_documents");
    }

    #[test]
    fn aliases_and_custom_tags_are_rejected() {
        assert_eq!(parse_err("a: &x 1\nb: *x\n").0[0].code, "iac::yaml::alias");
        let d = parse_err("a: !Ref vpc\nb: !!binary eA==\n");
        assert_eq!(d.0[0].message, "YAML tag `!Ref` is not supported");
        assert_eq!(d.0[1].message, "YAML tag `!!binary` is not supported");
        let n = parse_ok("a: !!str 12\n");
        assert_eq!(n.as_map().unwrap()[0].1.kind, NodeKind::Str("12".into()));
    }

    #[test]
    fn deep_nesting_is_capped() {
        // Block nesting reaches our cap; flow nesting may hit the scanner's own limit first.
        let text = format!("{}x\n", "- ".repeat(1_000));
        assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
        let text = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
        for text in ["[".repeat(10_000), "{a: ".repeat(10_000)] {
            parse_err(&text);
        }
    }

    #[test]
    fn empty_text_is_null() {
        assert_eq!(parse_ok("").kind, NodeKind::Null);
        assert_eq!(parse_ok("# only a comment\n").kind, NodeKind::Null);
    }
}
