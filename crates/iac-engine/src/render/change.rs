//! One changed resource as the human plan shows it: the head line, the attributes it sets or
//! changes (multi-line values diffed line by line), and what a delete does to its data.

use std::fmt::Write;

use iac_stack::value::{path_segments, PathSeg};
use iac_stack::Value;
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

use crate::plan::{held_data, Action, Change, HeldData, ReplaceStrategy};
use crate::util;

use super::{display_json, is_multiline, show, show_value, Style, ABSENT, KNOWN_AFTER_APPLY};

/// How an update reads: a new version for a renewing type, else in place.
fn update_verb(c: &Change) -> String {
    // The schema says which types renew (`TypeSchema::renews`: a task definition's
    // revision); the provider says which updates do, in `Change::renewed_attrs`.
    let renewal = iac_stack::schema::lookup(&c.rtype).and_then(|t| t.renews);
    let Some(r) = renewal.filter(|_| !c.renewed_attrs.is_empty()) else {
        return "will be updated in place".to_string();
    };
    let counter = c
        .renewed_attrs
        .get(r.counter)
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Json::String(s) => format!("{} {s} -> {KNOWN_AFTER_APPLY}; ", r.counter),
            other => format!("{} {other} -> {KNOWN_AFTER_APPLY}; ", r.counter),
        })
        .unwrap_or_default();
    format!("will get a new {} ({counter}{})", r.noun, r.old)
}

/// The line under a delete or replace that says what happens to the data the object
/// holds (see [`held_data`]), or nothing.
fn data_note(out: &mut String, st: &Style, c: &Change) {
    // A replacement deletes the old object, a destroy the object itself.
    let (owner, object) = if c.action == Action::Replace {
        ("the old one's", "the old one")
    } else {
        ("its", "it")
    };
    let text = match held_data(c) {
        Some(HeldData::Deleted(what)) => format!("{owner} {what} are deleted with it"),
        Some(HeldData::Refused(what)) => {
            format!("AWS refuses to delete {object} while it holds {what}")
        }
        None => return,
    };
    let _ = writeln!(out, "      {} {text}", st.red("!"));
}

pub(crate) fn render_change(out: &mut String, st: &Style, c: &Change) {
    let head = format!("{} ({})", c.name, c.rtype);
    if let Some(from) = &c.moved_from {
        // Terraform's wording: the object is the same, only its name in the state changes.
        let object = c
            .physical_id
            .as_deref()
            .map(|i| format!(", keeping its object `{i}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {from} -> {} (moved): `{from}` has moved to `{}`{object}",
            st.yellow(">"),
            c.name,
            c.name
        );
    }
    match c.action {
        Action::Import => {
            let _ = writeln!(
                out,
                "  {} {head} will be imported from `{}`{}",
                st.green("<="),
                c.physical_id.as_deref().unwrap_or("?"),
                if c.changed_paths.is_empty() {
                    ""
                } else {
                    " and updated"
                }
            );
            render_paths(out, st, c);
        }
        Action::Adopt => {
            let _ = writeln!(
                out,
                "  {} {head} `{}` will be adopted ({}){}",
                st.green("+"),
                c.physical_id.as_deref().unwrap_or("?"),
                c.reason
                    .as_deref()
                    .unwrap_or("left by an interrupted apply"),
                if c.changed_paths.is_empty() {
                    ""
                } else {
                    " and updated"
                }
            );
            render_paths(out, st, c);
        }
        Action::Create => {
            let why = c
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {} {head} will be created{why}", st.green("+"));
            if let Some(Value::Map(m)) = &c.after {
                let width = m.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in m {
                    let shown = if v.is_known() || !matches!(v, Value::Map(_) | Value::List(_)) {
                        pretty_value(v)
                    } else {
                        show(&display_json(v), true)
                    };
                    let shown = indent_tail(&shown, 10);
                    let _ = writeln!(out, "      {} {k:<width$} = {shown}", st.green("+"));
                }
            }
        }
        Action::Delete => {
            let what = if c.existing {
                "will be forgotten (existing: not deleted)".to_string()
            } else if c.deposed {
                format!(
                    "old object `{}` will be destroyed (left by an interrupted replacement)",
                    c.physical_id.as_deref().unwrap_or("?")
                )
            } else {
                let why = c
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                format!(
                    "`{}` will be destroyed{why}",
                    c.physical_id.as_deref().unwrap_or("?")
                )
            };
            let _ = writeln!(out, "  {} {head} {what}", st.red("-"));
            data_note(out, st, c);
        }
        Action::Update | Action::Replace => {
            let (marker, verb) = if c.action == Action::Update {
                (st.yellow("~"), update_verb(c))
            } else {
                let r = c.replace.as_ref();
                let order = match r.map(|r| r.strategy) {
                    Some(ReplaceStrategy::DestroyBeforeCreate) => {
                        let because = r
                            .and_then(|r| r.because.clone())
                            .map(|b| format!(": {b}"))
                            .unwrap_or_default();
                        format!("destroy before create{because}")
                    }
                    _ => match r.and_then(|r| r.new_name.as_deref()) {
                        Some(n) => format!(
                            "create before destroy: new name `{n}`; the old one is deleted after its dependents move to the new one"
                        ),
                        None => "create before destroy".to_string(),
                    },
                };
                let requested = if r.is_some_and(|r| r.requested) {
                    "replacement requested with --replace; "
                } else {
                    ""
                };
                (
                    st.red("-/+"),
                    format!("must be replaced ({requested}{order})"),
                )
            };
            let id = c
                .physical_id
                .as_deref()
                .map(|i| format!(" `{i}`"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {marker} {head}{id} {verb}");
            data_note(out, st, c);
            render_paths(out, st, c);
        }
        Action::NoOp | Action::Read => {}
    }
}

fn pretty_value(v: &Value) -> String {
    match v {
        Value::Map(_) | Value::List(_) => {
            let j = display_json(v);
            show(
                &j,
                is_multiline(&j) || matches!(j, Json::Object(ref o) if o.len() > 1),
            )
        }
        other => show_value(other),
    }
}

/// Indent every line but the first by `n` spaces.
fn indent_tail(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `v` with the keys of its objects in the order `like` has them (keys `like` lacks
/// last), list items matched by position. Key order means nothing in JSON, but the line
/// diff compares text: a container definition read back from AWS in another key order
/// must still diff as the one line that changed, not as the whole list twice.
fn order_like(v: Json, like: &Json) -> Json {
    match (v, like) {
        (Json::Object(mut m), Json::Object(l)) => {
            let mut out = serde_json::Map::with_capacity(m.len());
            for (k, lv) in l {
                if let Some(x) = m.shift_remove(k) {
                    out.insert(k.clone(), order_like(x, lv));
                }
            }
            out.extend(m);
            Json::Object(out)
        }
        (Json::Array(items), Json::Array(l)) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, x)| match l.get(i) {
                    Some(lv) => order_like(x, lv),
                    None => x,
                })
                .collect(),
        ),
        (v, _) => v,
    }
}

/// The changed paths of an update or replace. Properties whose value is a list of objects
/// (a container definition) are shown as a line diff of their JSON; others path by path.
fn render_paths(out: &mut String, st: &Style, c: &Change) {
    let before = c.before.clone().map(Value::from).unwrap_or_default();
    let after = c.after.clone().unwrap_or_default();
    let forced: Vec<&String> = c
        .replace
        .as_ref()
        .map(|r| r.forced_by.iter().collect())
        .unwrap_or_default();
    let mut done_props: Vec<String> = Vec::new();
    for p in &c.changed_paths {
        let top = path_segments(p)
            .first()
            .map(|s| match s {
                PathSeg::Key(k) => (*k).to_string(),
                PathSeg::Index(i) => i.to_string(),
            })
            .unwrap_or_default();
        let note = if forced.contains(&p) {
            st.red("  # forces replacement")
        } else {
            String::new()
        };
        let a_top = after.at_path(&top).map(display_json);
        let b_top = before
            .at_path(&top)
            .map(display_json)
            .map(|b| match &a_top {
                Some(a) => order_like(b, a),
                None => b,
            });
        let multiline =
            b_top.as_ref().is_some_and(is_multiline) || a_top.as_ref().is_some_and(is_multiline);
        if multiline && matches!(b_top, Some(Json::Array(_))) {
            if done_props.contains(&top) {
                continue;
            }
            done_props.push(top.clone());
            let forced_here = forced.iter().any(|f| util::path_within(f, &top));
            let note = if forced_here {
                st.red("  # forces replacement")
            } else {
                String::new()
            };
            let _ = writeln!(out, "      {} {top}:{note}", st.yellow("~"));
            let old = b_top.map(|v| show(&v, true)).unwrap_or_default();
            let new = a_top.map(|v| show(&v, true)).unwrap_or_default();
            let diff = TextDiff::from_lines(&old, &new);
            for group in diff.grouped_ops(3) {
                for op in group {
                    for ch in diff.iter_changes(&op) {
                        let line = ch.value().trim_end_matches('\n');
                        let text = match ch.tag() {
                            ChangeTag::Delete => st.red(&format!("- {line}")),
                            ChangeTag::Insert => st.green(&format!("+ {line}")),
                            ChangeTag::Equal => format!("  {line}"),
                        };
                        let _ = writeln!(out, "          {text}");
                    }
                }
            }
            continue;
        }
        let b = before
            .at_path(p)
            .map_or_else(|| ABSENT.to_string(), show_value);
        let a = after
            .at_path(p)
            .map_or_else(|| ABSENT.to_string(), show_value);
        let _ = writeln!(out, "      {} {p}: {b} -> {a}{note}", st.yellow("~"));
    }
}
