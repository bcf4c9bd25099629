//! The plan for humans: one block per changed resource, attribute diffs, a summary line.
//! Colour is the caller's decision (TTY and `NO_COLOR` are the binary's business).

use std::fmt::Write;

use iac_stack::{Part, Value};
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, Change, Plan, PlanKind, ReplaceStrategy};
use crate::util;

/// How a value unknown until apply reads.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// A value as JSON for display; unknown parts become a marker string.
fn display_json(v: &Value) -> Json {
    match v {
        Value::Ref(_) | Value::Template(_) => Json::String(MARK.into()),
        Value::List(items) => Json::Array(items.iter().map(display_json).collect()),
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), display_json(v)))
                .collect(),
        ),
        other => other.to_json().unwrap_or(Json::Null),
    }
}

/// How a property that is not set reads.
const ABSENT: &str = "(not set)";

/// Stands for an unknown value inside JSON text until the quotes are taken off.
const MARK: &str = "\u{e000}known after apply\u{e000}";

fn unmark(s: String) -> String {
    s.replace(&format!("\"{MARK}\""), KNOWN_AFTER_APPLY)
}

/// One-line or pretty JSON, whichever the value needs.
fn show(v: &Json, pretty: bool) -> String {
    let s = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    }
    .unwrap_or_default();
    unmark(s)
}

/// A template whose references are unknown still shows its text parts.
fn show_value(v: &Value) -> String {
    if let Value::Template(parts) = v {
        let mut s = String::from("\"");
        for p in parts {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Ref(r) => {
                    let _ = write!(s, "${{{}.{}}}", r.resource, r.attr);
                }
            }
        }
        s.push('"');
        return format!("{s} {KNOWN_AFTER_APPLY}");
    }
    show(&display_json(v), false)
}

fn is_multiline(v: &Json) -> bool {
    matches!(v, Json::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()))
        || matches!(v, Json::Object(o) if o.values().any(|x| x.is_object() || x.is_array()))
}

/// Render the plan. `color`: ANSI colours (the caller checks for a TTY and `NO_COLOR`).
pub fn render_plan(plan: &Plan, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();

    if !plan.drift.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            st.bold("Changed outside iac since the last apply:")
        );
        for d in &plan.drift {
            if d.deleted {
                let _ = writeln!(
                    out,
                    "  {} {} ({}) was deleted",
                    st.red("-"),
                    d.name,
                    d.rtype
                );
                continue;
            }
            let _ = writeln!(out, "  {} {} ({})", st.yellow("~"), d.name, d.rtype);
            let applied = Value::from(d.applied.clone());
            let live = d.live.clone().map(Value::from).unwrap_or_default();
            for p in &d.paths {
                let a = util::value_at(&applied, p).map_or(ABSENT.into(), show_value);
                let l = util::value_at(&live, p).map_or(ABSENT.into(), show_value);
                let note = if d.ignored.contains(p) {
                    st.dim("  # ignore_changes: not planned")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "      {} {p}: {a} -> {l}{note}", st.yellow("~"));
            }
        }
        out.push('\n');
    }

    let shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .collect();
    if shown.is_empty() {
        let _ = writeln!(out, "{}", st.bold("No changes."));
        if plan.kind == PlanKind::Apply && !plan.drift.is_empty() {
            let _ = writeln!(
                out,
                "The stack matches what is live, apart from ignored drift."
            );
        }
        return out;
    }
    let _ = match plan.kind {
        PlanKind::Apply => writeln!(out, "iac will change stack `{}`:\n", plan.stack),
        PlanKind::Destroy => writeln!(out, "iac will destroy stack `{}`:\n", plan.stack),
    };
    for c in shown {
        render_change(&mut out, &st, c);
        out.push('\n');
    }
    let s = &plan.summary;
    let _ = writeln!(
        out,
        "{}",
        st.bold(&format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
            s.add, s.change, s.replace, s.destroy
        ))
    );
    out
}

fn render_change(out: &mut String, st: &Style, c: &Change) {
    let head = format!("{} ({})", c.name, c.rtype);
    match c.action {
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
        }
        Action::Update | Action::Replace => {
            let (marker, verb) = if c.action == Action::Update {
                (st.yellow("~"), "will be updated in place".to_string())
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
                (st.red("-/+"), format!("must be replaced ({order})"))
            };
            let id = c
                .physical_id
                .as_deref()
                .map(|i| format!(" `{i}`"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {marker} {head}{id} {verb}");
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
        let top = util::segments(p)
            .first()
            .map(|s| match s {
                util::Seg::Key(k) => (*k).to_string(),
                util::Seg::Index(i) => i.to_string(),
            })
            .unwrap_or_default();
        let note = if forced.contains(&p) {
            st.red("  # forces replacement")
        } else {
            String::new()
        };
        let b_top = util::value_at(&before, &top).map(display_json);
        let a_top = util::value_at(&after, &top).map(display_json);
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
        let b = util::value_at(&before, p).map_or_else(|| ABSENT.to_string(), show_value);
        let a = util::value_at(&after, p).map_or_else(|| ABSENT.to_string(), show_value);
        let _ = writeln!(out, "      {} {p}: {b} -> {a}{note}", st.yellow("~"));
    }
}
