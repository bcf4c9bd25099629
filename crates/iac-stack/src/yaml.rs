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

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser};

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

mod scalar;
#[cfg(test)]
mod tests;

pub use scalar::resolve_plain;
use scalar::{check_collection_tag, scalar};
