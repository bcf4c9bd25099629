//! The top-level `moved:` list: resources renamed in the stack whose objects the state
//! holds under their former names.
//!
//! ```yaml
//! moved:
//!   - from: web_tg      # the name the state knows
//!     to: api_tg        # the resource of the stack it is now
//! ```
//!
//! Checked here, from the text alone: every entry is a map of `from` and `to` resource
//! names; `to` names a resource of the stack and `from` does not (the old name is gone from
//! `resources:`); each `from` and each `to` appears once; and entries do not chain
//! (`a -> b`, `b -> c`) or form a cycle, since each entry must say in one step where the
//! state's object goes. Whether `from` is in the state is the plan's business: an entry
//! whose `from` the state does not hold (already moved, or never applied) does nothing.

use std::collections::{HashMap, HashSet};

use crate::diag::Diag;
use crate::model::Moved;
use crate::yaml::{Node, NodeKind};
use crate::Span;

use super::{backticked, is_child_name, is_ident, suggest, Loader};

/// The keys of one entry.
const ENTRY_KEYS: &[&str] = &["from", "to"];

impl Loader<'_> {
    /// `moved:`, checked against the resource names of the file.
    pub(super) fn moved(&mut self, node: &Node) -> Vec<Moved> {
        let items = match &node.kind {
            NodeKind::Seq(items) => items.as_slice(),
            NodeKind::Null => &[],
            _ => {
                self.wrong_kind(
                    node,
                    "iac::moved::invalid",
                    "`moved` must be a list of `{from, to}` entries",
                    "expected a list",
                    "write `moved: [{ from: OLD_NAME, to: NEW_NAME }]`",
                );
                return Vec::new();
            }
        };
        let entries: Vec<Moved> = items.iter().filter_map(|i| self.moved_entry(i)).collect();
        self.check_moves(&entries);
        entries
    }

    /// One `{from, to}` entry; `None` (reported) when it is not one.
    fn moved_entry(&mut self, item: &Node) -> Option<Moved> {
        let Some(fields) = item.as_map() else {
            self.wrong_kind(
                item,
                "iac::moved::invalid",
                "an entry of `moved` must be a map with `from` and `to`",
                "expected `{ from: OLD_NAME, to: NEW_NAME }`",
                "write each entry as `- { from: OLD_NAME, to: NEW_NAME }`",
            );
            return None;
        };
        let mut from: Option<(String, Span)> = None;
        let mut to: Option<(String, Span)> = None;
        let mut ok = true;
        for (k, v) in fields {
            let key = k.key_text().unwrap_or_default();
            let slot = match key.as_str() {
                "from" => &mut from,
                "to" => &mut to,
                _ => {
                    self.unknown_key(
                        k,
                        &key,
                        "iac::moved::invalid",
                        format!("unknown key `{key}` in an entry of `moved`"),
                        ENTRY_KEYS.iter().copied(),
                        || {
                            format!(
                                "an entry has exactly {}",
                                backticked(ENTRY_KEYS.iter().copied())
                            )
                        },
                    );
                    ok = false;
                    continue;
                }
            };
            match v.as_str().filter(|s| is_ident(s) || is_child_name(s)) {
                Some(name) => *slot = Some((name.to_string(), v.span)),
                None => {
                    let found = match v.as_str() {
                        Some(s) => format!("`{s}`"),
                        None => v.describe().to_string(),
                    };
                    self.error(
                        Diag::error(
                            "iac::moved::invalid",
                            format!(
                                "`{key}` of a `moved` entry must be a resource name, found {found}"
                            ),
                        )
                        .label(v.span, "expected a resource name")
                        .help(
                            "resource names match `[a-z][a-z0-9_]*`, as written under `resources:`",
                        ),
                    );
                    ok = false;
                }
            }
        }
        for (key, present) in [("from", from.is_some()), ("to", to.is_some())] {
            if !present && ok {
                self.error(
                    Diag::error(
                        "iac::moved::invalid",
                        format!("an entry of `moved` has no `{key}`"),
                    )
                    .label(item.span, format!("no `{key}:` here"))
                    .help("write each entry as `- { from: OLD_NAME, to: NEW_NAME }`"),
                );
                ok = false;
            }
        }
        let ((from, from_span), (to, to_span)) = (from?, to?);
        Some(Moved {
            from,
            to,
            from_span,
            to_span,
        })
    }

    /// The checks across entries and against `resources:`.
    fn check_moves(&mut self, entries: &[Moved]) {
        // Each name once on each side: the first place it is written is the one kept.
        let mut first_from: HashMap<&str, usize> = HashMap::new();
        let mut first_to: HashMap<&str, usize> = HashMap::new();
        let mut bad: HashSet<usize> = HashSet::new();
        for (i, m) in entries.iter().enumerate() {
            for (side, name, span, seen) in [
                ("from", &m.from, m.from_span, &mut first_from),
                ("to", &m.to, m.to_span, &mut first_to),
            ] {
                if let Some(&j) = seen.get(name.as_str()) {
                    let (earlier, what) = if side == "from" {
                        (entries[j].from_span, format!("`{name}` is moved twice"))
                    } else {
                        (
                            entries[j].to_span,
                            format!("two resources are moved to `{name}`"),
                        )
                    };
                    self.error(
                        Diag::error("iac::moved::duplicate", format!("`moved`: {what}"))
                            .label(span, format!("`{side}: {name}` again"))
                            .label(earlier, "first here")
                            .help("a resource's object can go to one place only: keep one of the entries"),
                    );
                    bad.insert(i);
                } else {
                    seen.insert(name, i);
                }
            }
        }
        self.check_chains(entries, &first_from, &first_to, &mut bad);
        for (i, m) in entries.iter().enumerate() {
            if bad.contains(&i) {
                continue;
            }
            if let Some(d) = self.types.get(&m.from).copied() {
                self.error(
                    Diag::error(
                        "iac::moved::from_in_stack",
                        format!("`moved` from `{}`, which is still a resource of the stack", m.from),
                    )
                    .label(m.from_span, "moved from here")
                    .label(d.name_span, "but still declared here")
                    .help(format!(
                        "a move renames a resource: rename `{}` to `{}` under `resources:`, or remove this entry",
                        m.from, m.to
                    )),
                );
            }
            if !self.types.contains_key(&m.to) {
                let help = suggest(&m.to, self.types.keys().map(String::as_str), || {
                    "`to` names the resource of the stack that takes over the object: write its new name under `resources:` too".to_string()
                });
                self.error(
                    Diag::error(
                        "iac::moved::unknown_to",
                        format!(
                            "`moved` to `{}`, which is not a resource of the stack",
                            m.to
                        ),
                    )
                    .label(m.to_span, "no such resource")
                    .help(help),
                );
            }
        }
    }

    /// Entries whose `from` is the `to` of another (or of itself): one diagnostic per chain
    /// or cycle, naming it whole.
    fn check_chains(
        &mut self,
        entries: &[Moved],
        first_from: &HashMap<&str, usize>,
        first_to: &HashMap<&str, usize>,
        bad: &mut HashSet<usize>,
    ) {
        let next = |i: usize| first_from.get(entries[i].to.as_str()).copied();
        let prev = |i: usize| first_to.get(entries[i].from.as_str()).copied();
        let mut done: HashSet<usize> = HashSet::new();
        for start in 0..entries.len() {
            if done.contains(&start) || (next(start).is_none() && prev(start).is_none()) {
                continue;
            }
            // Back to the head of the chain (or once round a cycle).
            let mut head = start;
            let mut seen = HashSet::from([start]);
            while let Some(p) = prev(head) {
                if p == start {
                    // A cycle: named from its first entry in the file.
                    head = start;
                    break;
                }
                if !seen.insert(p) {
                    break;
                }
                head = p;
            }
            let mut path = vec![head];
            let mut cycle = false;
            while let Some(n) = next(*path.last().expect("not empty")) {
                if path.contains(&n) {
                    cycle = true;
                    break;
                }
                path.push(n);
            }
            done.extend(path.iter().copied());
            bad.extend(path.iter().copied());
            let mut names: Vec<&str> = path.iter().map(|&i| entries[i].from.as_str()).collect();
            let last = &entries[*path.last().expect("not empty")];
            names.push(&last.to);
            let shown = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" -> ");
            let (message, help) = if cycle {
                (
                    format!("`moved` entries form a cycle: {shown}"),
                    "a cycle moves nothing anywhere: remove these entries".to_string(),
                )
            } else {
                (
                    format!("`moved` entries chain: {shown}"),
                    format!(
                        "each entry says in one step where the state's object goes: write one entry `{{ from: {}, to: {} }}`",
                        names[0],
                        names[names.len() - 1]
                    ),
                )
            };
            let mut d = Diag::error("iac::moved::chain", message);
            for &i in &path {
                match prev(i).filter(|p| path.contains(p)) {
                    Some(p) if p == i => {
                        d = d.label(
                            entries[i].from_span,
                            format!("moves `{}` to itself", entries[i].from),
                        );
                    }
                    Some(p) => {
                        d = d
                            .label(
                                entries[i].from_span,
                                format!(
                                    "moved from `{}`, which another entry moves to",
                                    entries[i].from
                                ),
                            )
                            .label(entries[p].to_span, "moved to here");
                    }
                    None => {}
                }
            }
            self.error(d.help(help));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{load_str, LoadOptions, Moved};

    const HEAD: &str = "stack: demo\nregion: us-east-1\nresources:\n  a:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n  b:\n    type: aws.vpc\n    cidr: 10.1.0.0/16\n";

    fn codes(moved: &str) -> Vec<(String, String)> {
        let text = format!("{HEAD}moved:\n{moved}");
        match load_str("demo.yaml", &text, &LoadOptions::default()) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .iter()
                .map(|d| (d.code.to_string(), d.message.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_cycle_is_one_diagnostic_naming_it_whole() {
        let got = codes("  - { from: a, to: b }\n  - { from: b, to: a }\n");
        assert_eq!(
            got,
            [(
                "iac::moved::chain".to_string(),
                "`moved` entries form a cycle: `a` -> `b` -> `a`".to_string()
            )]
        );
    }

    #[test]
    fn two_entries_to_one_resource_are_a_duplicate() {
        let got = codes("  - { from: x, to: a }\n  - { from: y, to: a }\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "iac::moved::duplicate");
        assert!(
            got[0].1.contains("two resources are moved to `a`"),
            "{got:?}"
        );
    }

    #[test]
    fn good_entries_reach_the_stack_and_an_empty_list_is_fine() {
        let text = format!("{HEAD}moved:\n  - {{ from: old_a, to: a }}\n");
        let stack = load_str("demo.yaml", &text, &LoadOptions::default())
            .expect("loads")
            .stack;
        let Moved { from, to, .. } = &stack.moved[0];
        assert_eq!((from.as_str(), to.as_str()), ("old_a", "a"));
        let text = format!("{HEAD}moved: []\n");
        assert!(load_str("demo.yaml", &text, &LoadOptions::default()).is_ok());
    }
}
