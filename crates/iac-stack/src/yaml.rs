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
//! - anchors (`&base`) and aliases (`*base`) are resolved here: an alias becomes a copy of
//!   the anchored value. Every copied node keeps the span where it is written (under the
//!   anchor) and records the alias in [`Span::via`], so a diagnostic about it labels both the
//!   definition and the use. An alias inside the value it refers to is an error
//!   (`iac::yaml::alias`). Copies are counted: more than [`MAX_ALIAS_NODES`] copied nodes in
//!   one file ("billion laughs", aliases of aliases of aliases) is an error
//!   (`iac::yaml::alias_limit`) raised before the copy is made, and a copy may not nest
//!   deeper than [`MAX_DEPTH`] either;
//! - merge keys follow YAML 1.1: `<<: *base` (or an inline map) and `<<: [*a, *b]` add the
//!   entries of those maps that the map does not write itself; explicit keys win, and among
//!   the merged maps the first one listed wins. The merged entries take the place of the `<<`
//!   entry. Only a plain `<<` merges (`"<<"` quoted is an ordinary key), and a `<<` whose
//!   value is not a map or a list of maps is an error (`iac::yaml::merge`);
//! - tags are rejected (`iac::yaml::tag`) except the core `!!str`/`!!int`/`!!float`/`!!bool`/
//!   `!!null`, so CloudFormation habits like `!Ref` get a clear message;
//! - duplicate keys in one map are an error with both spans (`iac::yaml::duplicate_key`);
//! - more than one document is an error (`iac::yaml::multiple_documents`);
//! - nesting deeper than [`MAX_DEPTH`] is an error (`iac::yaml::too_deep`), so hostile input
//!   cannot exhaust the stack of the recursive code downstream.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::diag::{Diag, Diagnostics};
use crate::span::{SourceFile, Span};

/// Deepest nesting of sequences and maps accepted; far beyond any real stack file.
pub const MAX_DEPTH: usize = 128;

/// Most values (nodes, map keys included) that aliases may copy into one file, all aliases
/// together. A stack that puts the same tags on every resource copies a few thousand; a
/// "billion laughs" file, whose aliases copy aliases, would need billions.
pub const MAX_ALIAS_NODES: usize = 100_000;

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
        #[cfg(test)]
        tests::KEY_TEXTS.with(|c| c.set(c.get() + 1));
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

/// A collection being built, with the anchor id (0: none) and span of its start event.
enum Open {
    Seq(Span, usize, Vec<Node>),
    /// Entries, the key waiting for its value, and where each key's text is among the
    /// entries (the duplicate-key check looks keys up in it: linear in the map's size).
    Map(
        Span,
        usize,
        Vec<(Node, Node)>,
        Option<Node>,
        HashMap<String, usize>,
    ),
}

/// A finished anchored value (`&name`), ready to be copied by its aliases.
struct Anchored {
    node: Node,
    /// Nodes in it (keys included), which every copy adds to the document.
    size: usize,
    /// Levels of nesting inside it (0 for a scalar).
    height: usize,
}

/// Nodes in a tree, map keys included.
fn count(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(count).sum(),
        NodeKind::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
        _ => 0,
    }
}

/// Levels of nesting below a node.
fn height(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| height(k).max(height(v)))
                .max()
                .unwrap_or(0)
        }
        _ => 0,
    }
}

/// A copy of an anchored value for the alias at `alias`: every node keeps the span where it
/// is written and records the alias it is used through.
fn copy_through(node: &Node, alias: Span) -> Node {
    let kind = match &node.kind {
        NodeKind::Seq(items) => {
            NodeKind::Seq(items.iter().map(|n| copy_through(n, alias)).collect())
        }
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .iter()
                .map(|(k, v)| (copy_through(k, alias), copy_through(v, alias)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        kind,
        span: node.span.through(alias),
        text_start: node.text_start,
    }
}

/// The `&name` (or `*name`) token a span starts with.
fn token_at(text: &str, span: Span) -> Span {
    let rest = text.get(span.start..).unwrap_or("");
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '[' | '{'))
        .unwrap_or(rest.len());
    Span::new(span.start, span.start + len)
}

/// Parse `source` into a node tree. `None` when the text is not usable YAML; the reason is
/// in `diags`. Diagnostics point into `source` (a stack file or a var file).
pub fn parse(source: &SourceFile, diags: &mut Diagnostics) -> Option<Node> {
    let text: &str = &source.text;
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    // Tags, merge keys that merge no map and aliases of an unfinished value leave holes in
    // the tree that would only cause follow-on noise, so they end the load once all of them
    // are reported; a duplicate key is just dropped.
    let mut holes = false;
    let mut documents = 0;
    // Finished anchored values by the parser's anchor id (a redefined name gets a new id),
    // and where the anchors of values still being built are written.
    let mut anchors: HashMap<usize, Anchored> = HashMap::new();
    let mut unfinished: HashMap<usize, Span> = HashMap::new();
    // Nodes copied by aliases so far, against MAX_ALIAS_NODES.
    let mut copied: usize = 0;

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
        let (node, anchor) = match event {
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
            Event::Alias(id) => {
                match anchors.get(&id) {
                    Some(a) if stack.len() + a.height > MAX_DEPTH => {
                        diags.push(too_deep(
                            source,
                            span,
                            "too deep here, once this alias is expanded",
                        ));
                        return None;
                    }
                    Some(a) if copied + a.size > MAX_ALIAS_NODES => {
                        diags.push(
                        Diag::error(
                            "iac::yaml::alias_limit",
                            format!(
                                "aliases copy more than {MAX_ALIAS_NODES} values in this file"
                            ),
                        )
                        .in_file(source)
                        .label(span, format!("this alias would copy {} more values", a.size))
                        .label(
                            token_at(text, a.node.span),
                            "the value it copies is anchored here",
                        )
                        .help("aliases of aliases multiply: write shared values once at one level, or use a var"),
                    );
                        return None;
                    }
                    Some(a) => {
                        copied += a.size;
                        (copy_through(&a.node, span), 0)
                    }
                    None => {
                        let mut d = Diag::error(
                            "iac::yaml::alias",
                            format!(
                                "alias `{}` is used inside the value it refers to",
                                text.get(span.start..span.end).unwrap_or("*")
                            ),
                        )
                        .in_file(source)
                        .label(span, "alias used here");
                        if let Some(anchor) = unfinished.get(&id) {
                            d = d.label(*anchor, "inside the value anchored here");
                        }
                        diags.push(d.help("a value cannot contain itself; move the alias out of the anchored value"));
                        holes = true;
                        (Node::new(NodeKind::Null, span), 0)
                    }
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                diags.push(too_deep(
                    source,
                    Span::new(span.start, next_char_end(text, span.start)),
                    "too deep here",
                ));
                return None;
            }
            Event::SequenceStart(anchor, tag) => {
                if !check_collection_tag(tag.as_deref(), "seq", span, source, diags) {
                    holes = true;
                }
                if anchor != 0 {
                    unfinished.insert(anchor, token_at(text, span));
                }
                stack.push(Open::Seq(span, anchor, Vec::new()));
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                if !check_collection_tag(tag.as_deref(), "map", span, source, diags) {
                    holes = true;
                }
                if anchor != 0 {
                    unfinished.insert(anchor, token_at(text, span));
                }
                stack.push(Open::Map(span, anchor, Vec::new(), None, HashMap::new()));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(start, anchor, items)) => {
                    let end = collection_end(text, start, span, items.last().map(|n| n.span.end));
                    (
                        Node::new(NodeKind::Seq(items), Span::new(start.start, end)),
                        anchor,
                    )
                }
                _ => continue,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(start, anchor, entries, _, _)) => {
                    let end =
                        collection_end(text, start, span, entries.last().map(|(_, v)| v.span.end));
                    let entries = match merge(text, entries, source, diags) {
                        Some(e) => e,
                        None => {
                            holes = true;
                            Vec::new()
                        }
                    };
                    (
                        Node::new(NodeKind::Map(entries), Span::new(start.start, end)),
                        anchor,
                    )
                }
                _ => continue,
            },
            Event::Scalar(value, style, anchor, tag) => {
                match scalar(text, value, style, tag.as_deref(), span, source, diags) {
                    Some(n) => (n, anchor),
                    None => {
                        holes = true;
                        (Node::new(NodeKind::Null, span), anchor)
                    }
                }
            }
        };
        if anchor != 0 {
            unfinished.remove(&anchor);
            anchors.insert(
                anchor,
                Anchored {
                    size: count(&node),
                    height: height(&node),
                    node: node.clone(),
                },
            );
        }
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq(_, _, items)) => items.push(node),
            Some(Open::Map(_, _, entries, pending, keys)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(kt) = key.key_text() {
                        if let Some((first, _)) = keys.get(&kt).map(|&i| &entries[i]) {
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
                        keys.insert(kt, entries.len());
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

fn too_deep(source: &SourceFile, span: Span, label: &str) -> Diag {
    Diag::error(
        "iac::yaml::too_deep",
        format!("values are nested more than {MAX_DEPTH} levels deep"),
    )
    .in_file(source)
    .label(span, label)
    .help("flatten the structure; stack files never need this much nesting")
}

/// A merge key: `<<` written plain (a quoted `"<<"` is an ordinary key).
fn is_merge_key(text: &str, key: &Node) -> bool {
    key.as_str() == Some("<<") && text.get(key.span.start..key.span.end) == Some("<<")
}

/// Resolve the merge keys of a finished map (YAML 1.1 merge semantics): `<<: MAP` or
/// `<<: [MAP, ...]` adds the entries of those maps (usually aliases, `<<: *base`) whose keys
/// the map does not write itself; among the merged maps the first to have a key wins. Merged
/// entries take the place of the `<<` entry. `None` after reporting a `<<` whose value is not
/// a map or a list of maps.
fn merge(
    text: &str,
    entries: Vec<(Node, Node)>,
    source: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Vec<(Node, Node)>> {
    if !entries.iter().any(|(k, _)| is_merge_key(text, k)) {
        return Some(entries);
    }
    let written: HashSet<String> = entries
        .iter()
        .filter(|(k, _)| !is_merge_key(text, k))
        .filter_map(|(k, _)| k.key_text())
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (k, v) in entries {
        if !is_merge_key(text, &k) {
            out.push((k, v));
            continue;
        }
        let sources: Vec<Node> = match v.kind {
            NodeKind::Map(_) => vec![v],
            NodeKind::Seq(items) => items,
            _ => vec![v],
        };
        for src in sources {
            let NodeKind::Map(src_entries) = src.kind else {
                diags.push(
                    Diag::error(
                        "iac::yaml::merge",
                        format!(
                            "a merge key `<<` takes a map or a list of maps, found {}",
                            src.describe()
                        ),
                    )
                    .in_file(source)
                    .label(k.span, "this merge key")
                    .label(src.span, "merges this, which is not a map")
                    .help("write `<<: *anchor` (an anchored map) or `<<: [*a, *b]`; to use `<<` as an ordinary key, quote it"),
                );
                ok = false;
                continue;
            };
            for (mk, mv) in src_entries {
                match mk.key_text() {
                    Some(kt) if written.contains(&kt) => {}
                    Some(kt) => {
                        if seen.insert(kt) {
                            out.push((mk, mv));
                        }
                    }
                    None => out.push((mk, mv)),
                }
            }
        }
    }
    ok.then_some(out)
}

/// End of a collection: a flow collection (`[..]`, `{..}`) ends at its closing bracket, a
/// block one at its last item (the parser's end event sits at the next token, often lines on).
fn collection_end(text: &str, start: Span, end_event: Span, last_child: Option<usize>) -> usize {
    // The start event covers an anchor too (`&base {`): the bracket is its last byte.
    let flow =
        start.end > start.start && matches!(text.as_bytes().get(start.end - 1), Some(b'[' | b'{'));
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

    thread_local! {
        /// Calls of [`Node::key_text`] on this thread: the work the duplicate-key check does.
        pub(super) static KEY_TEXTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn the_duplicate_key_check_is_linear_in_the_size_of_a_map() {
        // Every key's text is taken once, not compared with every key before it: a
        // 10,000-key `resources:` map costs 10,000, not 50 million.
        for n in [1_000, 10_000] {
            let text: String = (0..n).map(|i| format!("k{i}: {i}\n")).collect();
            KEY_TEXTS.with(|c| c.set(0));
            let node = parse_ok(&text);
            assert_eq!(node.as_map().map(<[_]>::len), Some(n));
            let work = KEY_TEXTS.with(std::cell::Cell::get);
            assert!(work <= 2 * n, "{work} key texts for {n} keys");
        }
    }

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

    /// A node written as flow YAML, without spans.
    fn shape(n: &Node) -> String {
        match &n.kind {
            NodeKind::Seq(items) => {
                let items: Vec<String> = items.iter().map(shape).collect();
                format!("[{}]", items.join(", "))
            }
            NodeKind::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", shape(k), shape(v)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            _ => n.key_text().unwrap(),
        }
    }

    fn keys(n: &Node) -> Vec<String> {
        n.as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_text().unwrap())
            .collect()
    }

    fn get<'n>(n: &'n Node, key: &str) -> &'n Node {
        &n.as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .unwrap_or_else(|| panic!("no key `{key}`"))
            .1
    }

    #[test]
    fn aliases_copy_the_anchored_value_and_remember_the_alias() {
        let text = "a: &x {k: v, n: [1, 2]}\nb: *x\nc: &s hello\nd: *s\n";
        let n = parse_ok(text);
        let (a, b) = (get(&n, "a"), get(&n, "b"));
        assert_eq!(shape(a), shape(b));
        assert_eq!(shape(b), "{k: v, n: [1, 2]}");
        // The copy points where the value is written, through the alias.
        let bk = get(b, "k");
        assert_eq!(&text[bk.span.start..bk.span.end], "v");
        let alias = bk.span.alias().unwrap();
        assert_eq!(&text[alias.start..alias.end], "*x");
        assert_eq!(get(a, "k").span.via, None);
        let d = get(&n, "d");
        assert_eq!(d.kind, NodeKind::Str("hello".into()));
        assert_eq!(&text[d.span.start..d.span.end], "&s hello");
        assert_eq!(d.text_start, Some(text.find("hello").unwrap()));
        // A diagnostic about the copy labels both places.
        let diag = Diag::error("iac::test", "x").label(bk.span, "here");
        assert_eq!(diag.labels.len(), 2);
        assert_eq!(diag.labels[1].span, alias);
        // The same alias is labelled once.
        let diag = Diag::error("iac::test", "x")
            .label(bk.span, "here")
            .label(get(b, "n").span, "and here");
        assert_eq!(diag.labels.len(), 3);
    }

    #[test]
    fn nested_aliases_record_the_outermost_use() {
        let text = "t: &t {x: 1}\nbase: &b {tags: *t}\nuse: *b\n";
        let n = parse_ok(text);
        let x = get(get(get(&n, "use"), "tags"), "x");
        let alias = x.span.alias().unwrap();
        assert_eq!(alias.start, text.rfind("*b").unwrap());
        assert_eq!(&text[x.span.start..x.span.end], "1");
    }

    #[test]
    fn a_redefined_anchor_means_the_latest_definition() {
        let n = parse_ok("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
        assert_eq!(get(&n, "b").kind, NodeKind::Int(1));
        assert_eq!(get(&n, "d").kind, NodeKind::Int(2));
    }

    #[test]
    fn merge_keys_follow_yaml_1_1() {
        let text = "\
base: &base {a: 1, b: 2, c: 3}
more: &more {c: 30, d: 40}
one:
  b: 20
  <<: *base
  e: 5
list:
  <<: [*more, *base]
  a: 10
inline:
  <<: {x: 1}
  y: 2
quoted:
  \"<<\": *base
";
        let n = parse_ok(text);
        let one = get(&n, "one");
        // Explicit keys win, wherever they are written; merged ones take the `<<` place.
        assert_eq!(keys(one), ["b", "a", "c", "e"]);
        assert_eq!(get(one, "b").kind, NodeKind::Int(20));
        assert_eq!(get(one, "a").kind, NodeKind::Int(1));
        assert!(get(one, "a").span.via.is_some());
        // The first map listed wins over later ones.
        let list = get(&n, "list");
        assert_eq!(keys(list), ["c", "d", "b", "a"]);
        assert_eq!(get(list, "c").kind, NodeKind::Int(30));
        assert_eq!(get(list, "a").kind, NodeKind::Int(10));
        assert_eq!(keys(get(&n, "inline")), ["x", "y"]);
        // A quoted `<<` is an ordinary key.
        assert_eq!(keys(get(&n, "quoted")), ["<<"]);
    }

    #[test]
    fn a_merge_of_something_else_than_maps_is_an_error() {
        for text in [
            "a: &s x\nb:\n  <<: *s\n",
            "b:\n  <<: [{a: 1}, 3]\n",
            "b:\n  <<:\n",
        ] {
            let d = parse_err(text);
            assert_eq!(d.0[0].code, "iac::yaml::merge", "{text}");
        }
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_an_error() {
        let text = "a: &x\n  b: *x\n";
        let d = parse_err(text);
        assert_eq!(d.0[0].code, "iac::yaml::alias");
        let labels: Vec<&str> = d.0[0]
            .labels
            .iter()
            .map(|l| &text[l.span.start..l.span.end])
            .collect();
        assert_eq!(labels, ["*x", "&x"]);
    }

    #[test]
    fn alias_bombs_stop_at_the_copy_limit() {
        let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let d = parse_err(&text);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].code, "iac::yaml::alias_limit");
        // Stopped before copying, not after.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Within the limit, the same shape parses.
        let small = "l0: &l0 [a, b]\nl1: &l1 [*l0, *l0]\nl2: [*l1, *l1]\n";
        // root + 3 keys, l0 (3), l1 (1 + 2 x 3), l2 (1 + 2 x 7)
        assert_eq!(count(&parse_ok(small)), 4 + 3 + 7 + 15);
    }

    #[test]
    fn an_alias_cannot_nest_deeper_than_the_cap() {
        let deep = format!("{}x{}", "[".repeat(100), "]".repeat(100));
        let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse_err(&text).0[0].code, "iac::yaml::too_deep");
        let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(20), "]".repeat(20));
        parse_ok(&text);
    }

    #[test]
    fn custom_tags_are_rejected() {
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
