//! The plan as Markdown (`iac plan --format markdown`), for a pull-request comment or a
//! GitHub job summary: the summary line first, what deletes data or replaces something as
//! alerts on top, one collapsible block per changed resource (the text `iac plan` prints,
//! as a `diff` block so additions and removals are coloured), and the graph of what changes
//! as a Mermaid flowchart, which GitHub renders.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::plan::{Action, Change, Plan, PlanKind};
use crate::render::{
    cost_lines, data_loss_warning, render_change, summary_line, targets_note, Style,
};

/// The plan as Markdown; see the module doc.
pub fn render_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read) || c.moved_from.is_some())
        .collect();
    let verb = match plan.kind {
        PlanKind::Apply if plan.refresh_only => "refresh-only plan",
        PlanKind::Apply => "plan",
        PlanKind::Destroy => "destroy plan",
    };
    if plan.refresh_only {
        let _ = writeln!(
            out,
            "### iac {verb} for `{}`: {}",
            plan.stack,
            crate::render::refresh_line(plan)
        );
    } else if shown.is_empty() {
        let _ = writeln!(out, "### iac {verb} for `{}`: no changes", plan.stack);
    } else {
        let _ = writeln!(
            out,
            "### iac {verb} for `{}`: {}",
            plan.stack,
            summary_line(plan)
        );
    }

    if let Some(w) = data_loss_warning(plan) {
        let _ = writeln!(out, "\n> [!WARNING]\n> {}", escape(&w));
    }
    let replaced: Vec<&&Change> = shown
        .iter()
        .filter(|c| c.action == Action::Replace && !c.deposed)
        .collect();
    if !replaced.is_empty() {
        let _ = writeln!(out, "\n> [!CAUTION]");
        for c in replaced {
            let why = match c.replace.as_ref() {
                Some(r) if r.forced_by.is_empty() && r.requested => {
                    "replacement requested with `--replace`".to_string()
                }
                Some(r) => format!("`{}` cannot change in place", r.forced_by.join(", ")),
                None => String::new(),
            };
            let _ = writeln!(out, "> `{}` ({}) will be replaced ({why})", c.name, c.rtype);
        }
    }
    if !plan.drift.is_empty() {
        let names: Vec<String> = plan.drift.iter().map(|d| format!("`{}`", d.name)).collect();
        let _ = writeln!(
            out,
            "\n> [!NOTE]\n> Changed outside iac since the last apply: {}",
            names.join(", ")
        );
    }
    if !plan.pulled_in.is_empty() {
        let _ = writeln!(out, "\n> [!NOTE]\n> {}", escape(&targets_note(plan)));
    }
    // The `existing` lookups, read and never changed: what each found (beside changes; a
    // plan with none stays one line).
    let found: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Read && !iac_stack::schema::is_stack_ref(&c.rtype))
        .map(|c| {
            format!(
                "`{}` ({}): `{}`",
                c.name,
                c.rtype,
                c.physical_id.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if !found.is_empty() && !shown.is_empty() {
        let _ = writeln!(out, "\n> [!NOTE]\n> Looked up: {}", found.join(", "));
    }
    if !plan.orphans.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!NOTE]\n> {} object(s) tagged with stack `{}` that the state does not know (orphans)",
            plan.orphans.len(),
            plan.stack
        );
    }

    if let Some(cost) = &plan.cost {
        let _ = writeln!(out, "\n**{}**", cost.total_line());
        for note in cost.notes() {
            let _ = writeln!(out, "- {note}");
        }
    }

    if !shown.is_empty() {
        out.push('\n');
        let st = Style { color: false };
        let cost_lines = cost_lines(plan);
        for c in &shown {
            let mut block = String::new();
            render_change(&mut block, &st, c);
            if let Some(line) = cost_lines.get(c.name.as_str()) {
                let _ = writeln!(block, "      {line}");
            }
            let mut lines = block.lines();
            let head = lines.next().unwrap_or_default().trim_start();
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code></summary>\n\n```diff",
                html(head)
            );
            for l in lines {
                let _ = writeln!(out, "{}", diff_line(l));
            }
            let _ = writeln!(out, "```\n\n</details>");
        }
        out.push('\n');
        out.push_str(&mermaid(&shown));
    }
    out
}

/// A line of `iac plan`'s text for a `diff` block, which colours only lines that start
/// with `+` or `-`: a line whose first mark is one of those gets it moved to the front, the
/// indentation kept after it, so columns still line up. `iac plan`'s own two-space indent
/// of a resource's lines is dropped.
fn diff_line(l: &str) -> String {
    let l = l.strip_prefix("  ").unwrap_or(l);
    let body = l.trim_start();
    let indent = l.len() - body.len();
    match body.as_bytes() {
        [m @ (b'+' | b'-'), b' ', ..] if indent > 0 => {
            format!("{}{}{}", *m as char, " ".repeat(indent), &body[1..])
        }
        _ => format!(" {l}"),
    }
}

/// The changed resources and the dependencies between them as a Mermaid flowchart, each
/// node marked and coloured by its action.
fn mermaid(shown: &[&Change]) -> String {
    let mut out = String::from("```mermaid\nflowchart LR\n");
    let names: HashSet<&str> = shown.iter().map(|c| c.name.as_str()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    for c in shown {
        let id = node_id(c);
        if !seen.insert(id.clone()) {
            continue;
        }
        let (mark, class) = match c.action {
            Action::Create | Action::Adopt => ("+", "create"),
            Action::Import => ("<=", "create"),
            Action::Update => ("~", "update"),
            Action::Replace => ("-/+", "replace"),
            Action::Delete => ("-", "delete"),
            Action::NoOp | Action::Read => (">", "update"),
        };
        let _ = writeln!(out, "  {id}[\"{mark} {}\"]:::{class}", c.name);
    }
    for c in shown {
        if c.deposed {
            continue;
        }
        for d in &c.dependencies {
            if names.contains(d.as_str()) {
                let _ = writeln!(out, "  {} --> {}", safe_id(d), node_id(c));
            }
        }
    }
    out.push_str(
        "  classDef create fill:#dafbe1,stroke:#1a7f37\n  classDef update fill:#fff8c5,stroke:#9a6700\n  classDef replace fill:#ffebe9,stroke:#cf222e\n  classDef delete fill:#ffebe9,stroke:#cf222e\n```\n",
    );
    out
}

/// A Mermaid node id: the resource name (`[a-z][a-z0-9_]*`), a deposed object apart.
fn node_id(c: &Change) -> String {
    if c.deposed {
        format!("{}__old", safe_id(&c.name))
    } else {
        safe_id(&c.name)
    }
}

fn safe_id(name: &str) -> String {
    name.chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect()
}

/// Text inside an HTML element.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text inside a Markdown alert: nothing that starts a new block.
fn escape(s: &str) -> String {
    s.replace('\n', " ")
}
