//! The plan for humans: one block per changed resource, attribute diffs, a summary line.
//! Colour is the caller's decision (TTY and `NO_COLOR` are the binary's business).

use std::collections::HashMap;
use std::fmt::Write;

use iac_stack::{Part, Value};
use owo_colors::OwoColorize;
use serde_json::Value as Json;

use crate::plan::{Action, Change, Plan, PlanKind};

mod change;
mod markdown;
pub(crate) use change::render_change;
pub use markdown::render_markdown;

/// How a value unknown until apply reads.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// Colour on or off, as the caller decided; the text is the same either way.
pub(crate) struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, style: owo_colors::Style, s: &str) -> String {
        if self.color {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().green(), s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().yellow(), s)
    }
    fn red(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().red(), s)
    }
    fn bold(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().bold(), s)
    }
    fn bold_red(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().bold().red(), s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint(owo_colors::Style::new().dimmed(), s)
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

/// The warning under the summary line when the plan deletes data, from
/// [`Plan::data_loss`].
pub(crate) fn data_loss_warning(plan: &Plan) -> Option<String> {
    if plan.data_loss.is_empty() {
        return None;
    }
    let rtype: std::collections::HashMap<&str, &str> = plan
        .changes
        .iter()
        .rev()
        .map(|c| (c.name.as_str(), c.rtype.as_str()))
        .collect();
    let listed: Vec<String> = plan
        .data_loss
        .iter()
        .map(|n| match rtype.get(n.as_str()) {
            Some(t) => format!("{n} ({t})"),
            None => n.clone(),
        })
        .collect();
    let n = listed.len();
    let noun = if n == 1 { "resource" } else { "resources" };
    Some(format!(
        "Warning: {n} {noun} holding data will be deleted: {}.",
        listed.join(", ")
    ))
}

/// How a property that is not set reads.
const ABSENT: &str = "(not set)";

/// Stands for an unknown value inside JSON text until the quotes are taken off.
const MARK: &str = "\u{e000}known after apply\u{e000}";

fn unmark(s: String) -> String {
    if !s.contains(MARK) {
        return s;
    }
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
    // About 300 bytes a change: the text grows in place, not by copying itself over and over.
    let mut out = String::with_capacity(300 * plan.changes.len() + 256);

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
                let a = applied.at_path(p).map_or(ABSENT.into(), show_value);
                let l = live.at_path(p).map_or(ABSENT.into(), show_value);
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

    if !plan.live.is_empty() {
        let _ = writeln!(out, "{}", st.bold("Live now, not planned:"));
        for v in &plan.live {
            let value = show_value(&Value::from(v.value.clone()));
            let _ = writeln!(out, "  {}: {} = {value} ({})", v.resource, v.attr, v.says);
        }
        out.push('\n');
    }

    if plan.refresh_only {
        let _ = writeln!(out, "{}", st.bold(&refresh_line(plan)));
        return out;
    }

    render_stack_reads(&mut out, &st, plan);
    render_lookups(&mut out, &st, plan);

    if !plan.pulled_in.is_empty() {
        let _ = writeln!(out, "{}", st.bold(&targets_note(plan)));
        out.push('\n');
    }

    if !plan.orphans.is_empty() {
        let what = match plan.kind {
            PlanKind::Apply => "left alone; `iac destroy` deletes them",
            PlanKind::Destroy => "kept (`--keep-orphans`)",
        };
        let _ = writeln!(
            out,
            "{}",
            st.bold(&format!(
                "Orphans: objects tagged with stack `{}` that the state does not know ({what}):",
                plan.stack
            ))
        );
        for o in &plan.orphans {
            let name = o
                .name
                .as_deref()
                .map(|n| format!(" (iac:name `{n}`)"))
                .unwrap_or_default();
            let _ = writeln!(out, "  ? {} `{}`{name}", o.rtype, o.physical_id);
        }
        out.push('\n');
    }

    let shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read) || c.moved_from.is_some())
        .collect();
    if shown.is_empty() {
        let _ = writeln!(out, "{}", st.bold("No changes."));
        if plan.kind == PlanKind::Apply && plan.drift.iter().any(|d| !d.ignored.is_empty()) {
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
    let cost_lines = cost_lines(plan);
    for c in shown {
        render_change(&mut out, &st, c);
        if let Some(line) = cost_lines.get(c.name.as_str()) {
            let _ = writeln!(out, "      {}", st.dim(line));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", st.bold(&format!("Plan: {}", summary_line(plan))));
    if let Some(w) = data_loss_warning(plan) {
        let _ = writeln!(out, "{}", st.bold_red(&w));
    }
    if let Some(cost) = &plan.cost {
        let _ = writeln!(out, "{}", st.bold(&cost.total_line()));
        for note in cost.notes() {
            let _ = writeln!(out, "  {note}");
        }
    }
    out
}

/// The outputs read from other stacks (`iac.stack` resources), with where they came from:
///
/// ```text
/// Read from other stacks:
///   <= network: stack `platform-network`, state `.iac/state/platform-network.json`
///        vpc_id = "vpc-0a1b2c3d"
/// ```
fn render_stack_reads(out: &mut String, st: &Style, plan: &Plan) {
    let reads: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Read && iac_stack::schema::is_stack_ref(&c.rtype))
        .collect();
    if reads.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", st.bold("Read from other stacks:"));
    for c in reads {
        let other = c
            .after
            .as_ref()
            .and_then(|a| a.get("stack"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let _ = writeln!(
            out,
            "  {} {}: stack `{other}`, state `{}`",
            st.green("<="),
            c.name,
            c.physical_id.as_deref().unwrap_or("?")
        );
        if let Some(Json::Object(outputs)) = &c.live_attrs {
            for (k, v) in outputs {
                let _ = writeln!(out, "       {k} = {}", show(v, false));
            }
        }
    }
    out.push('\n');
}

/// The monthly cost line of each resource's block, by name, when a cost estimate is
/// attached and the resource's estimate changes (or could not be made): built once per
/// render, so a plan of any size looks each block's line up in constant time.
pub(crate) fn cost_lines(plan: &Plan) -> HashMap<&str, String> {
    plan.cost
        .iter()
        .flat_map(|cost| &cost.resources)
        .filter_map(|r| Some((r.name.as_str(), r.line()?)))
        .collect()
}

/// The `existing` lookups and what each found (Terraform's data sources): read, never
/// created, changed or destroyed, so they count in none of the plan's numbers.
///
/// ```text
/// Looked up:
///   <= shared_vpc (aws.vpc): vpc-0a1b2c3d, by `tags` Name=shared
/// ```
fn render_lookups(out: &mut String, st: &Style, plan: &Plan) {
    let reads: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Read && !iac_stack::schema::is_stack_ref(&c.rtype))
        .collect();
    if reads.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", st.bold("Looked up:"));
    for c in reads {
        let by = match &c.lookup_id {
            Some(id) => format!("by id `{id}`"),
            None => {
                let after = c
                    .after
                    .as_ref()
                    .and_then(Value::to_json)
                    .unwrap_or_default();
                match iac_stack::schema::searched_for(&c.rtype, &after) {
                    Some(s) if !s.is_empty() => format!("by {s}"),
                    _ => "by its properties".into(),
                }
            }
        };
        let _ = writeln!(
            out,
            "  {} {} ({}): {}, {by}",
            st.green("<="),
            c.name,
            c.rtype,
            c.physical_id.as_deref().unwrap_or("?")
        );
    }
    out.push('\n');
}

/// The last line of a refresh-only plan: what applying it records.
pub(crate) fn refresh_line(plan: &Plan) -> String {
    if plan.refreshed.is_empty() {
        return "No changes: the state matches what is live.".into();
    }
    let gone = plan.refreshed.iter().filter(|r| r.deleted()).count();
    let kept = plan.refreshed.len() - gone;
    let mut parts = Vec::new();
    if kept > 0 {
        parts.push(format!("records {kept} resource(s) as they are live"));
    }
    if gone > 0 {
        parts.push(format!(
            "removes {gone} deleted outside iac (the next plan creates them)"
        ));
    }
    format!(
        "Applying with --refresh-only {} in the state; AWS is not changed.",
        parts.join(" and ")
    )
}

/// What `--target` brought into the plan without being named, and why:
/// `--target also plans: task (needed by web), cluster (needed by task)`.
pub(crate) fn targets_note(plan: &Plan) -> String {
    let items: Vec<String> = plan
        .pulled_in
        .iter()
        .map(|p| format!("{} ({} {})", p.name, p.relation, p.by))
        .collect();
    format!("--target also plans: {}", items.join(", "))
}

/// `1 to add, 2 to change, 0 to replace, 1 to destroy.` (adoptions first when there are any).
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    format!(
        "{}{}{}{} to add, {} to change, {} to replace, {} to destroy.",
        if s.moved > 0 {
            format!("{} to move, ", s.moved)
        } else {
            String::new()
        },
        if s.import > 0 {
            format!("{} to import, ", s.import)
        } else {
            String::new()
        },
        if s.adopt > 0 {
            format!("{} to adopt, ", s.adopt)
        } else {
            String::new()
        },
        s.add,
        s.change,
        s.replace,
        s.destroy
    )
}
