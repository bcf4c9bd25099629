//! Priorities of listener rules (`aws.listener_rule`) the stack leaves out.
//!
//! ELB evaluates a listener's rules by priority (1-50000, lowest first, unique per
//! listener). A stack may write `priority:`; when it does not, the plan assigns one, so that
//! - the rules of a listener are evaluated in the order the file lists them, when they are
//!   created together (100, 200, 300, ...: steps of [`STEP`] leave room for later rules);
//! - a rule that exists keeps the priority the state records for it: adding, removing or
//!   moving other rules never renumbers it (no churn, no moment where two rules swap);
//! - a new rule gets a free priority between those of the rules before and after it in the
//!   file on the same listener (the middle of the free ones), or, after the last one, the
//!   next multiple of [`STEP`].
//!
//! When no free priority is left between its neighbours (or they are not in priority order in
//! the file, because an existing rule was moved), the plan stops with a [`PriorityError`]
//! naming the rule and its neighbours, before any provider call: iac never renumbers an existing
//! rule by itself. Writing `priority:` on the new rule, or on its neighbours, resolves it.
//!
//! The priorities of rules the state has and the stack no longer has are never handed out
//! (whatever their listener): their deletes may run after the new rules' creates.
//!
//! The assigned priority is an ordinary input: the plan shows it, apply sends it, the state
//! records it.

use std::collections::{BTreeSet, HashMap};

use iac_stack::{Stack, Value};

use crate::state::State;

/// The resource type whose priorities are assigned.
pub const RTYPE: &str = "aws.listener_rule";
/// Distance between the priorities of rules created together, and the start.
pub const STEP: i64 = 100;
/// The highest priority ELB accepts.
pub const MAX: i64 = 50_000;

/// Why no priority could be assigned to a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot assign a priority to listener rule `{rule}`: {why}; write `priority:` on it (1-{MAX}, free on its listener)")]
pub struct PriorityError {
    pub rule: String,
    pub why: String,
}

/// The priority each listener rule of the stack that writes none is to have: the one the
/// state records for it, or a new one.
pub fn assign(stack: &Stack, state: &State) -> Result<HashMap<String, i64>, PriorityError> {
    // Rules in file order, per listener (listeners in file order too, for a stable error).
    let mut groups: Vec<Vec<(&str, Slot)>> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for r in stack.resources.values() {
        if r.schema.name != RTYPE || r.existing {
            continue;
        }
        let slot = match r.props.get("priority") {
            Some(Value::Int(p)) => Slot::Written(*p),
            // Known only at apply (a reference): neither an anchor nor assigned.
            Some(v) if !matches!(v, Value::Null) => continue,
            _ => match recorded(state, &r.name) {
                Some(p) => Slot::Kept(p),
                None => Slot::New,
            },
        };
        let key = listener_key(r.props.get("listener"));
        let i = *group_of.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push((r.name.as_str(), slot));
    }
    // Priorities still held by rules on their way out.
    let leaving: BTreeSet<i64> = state
        .resources
        .iter()
        .filter(|(name, _)| !stack.resources.contains_key(*name))
        .filter_map(|(name, _)| recorded(state, name))
        .collect();
    let mut out = HashMap::new();
    for rules in &groups {
        assign_group(rules, &leaving, &mut out)?;
    }
    Ok(out)
}

/// `inputs` (a rule's desired inputs) with the priority [`assign`] chose for `name`, if any.
pub fn fill(mut inputs: Value, assigned: &HashMap<String, i64>, name: &str) -> Value {
    if let (Some(p), Value::Map(m)) = (assigned.get(name), &mut inputs) {
        m.insert("priority".into(), Value::Int(*p));
    }
    inputs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Written(i64),
    Kept(i64),
    New,
}

impl Slot {
    fn known(self) -> Option<i64> {
        match self {
            Slot::Written(p) | Slot::Kept(p) => Some(p),
            Slot::New => None,
        }
    }
}

/// The priority the state records for a listener rule.
fn recorded(state: &State, name: &str) -> Option<i64> {
    let r = state.resources.get(name)?;
    (r.rtype == RTYPE && !r.existing)
        .then(|| r.inputs.get("priority").and_then(serde_json::Value::as_i64))
        .flatten()
}

/// What identifies a rule's listener before apply: the resource its `listener` references,
/// or the value written.
fn listener_key(v: Option<&Value>) -> String {
    match v {
        Some(Value::Ref(r)) => format!("resource {}", r.resource),
        Some(Value::Str(s)) => format!("arn {s}"),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn assign_group(
    rules: &[(&str, Slot)],
    leaving: &BTreeSet<i64>,
    out: &mut HashMap<String, i64>,
) -> Result<(), PriorityError> {
    let mut used: BTreeSet<i64> = leaving.clone();
    // A kept priority that a written one now takes (or two kept ones: a rule moved between
    // listeners) cannot be kept.
    let mut holder: HashMap<i64, (&str, Slot)> = HashMap::new();
    for &(name, slot) in rules {
        let Some(p) = slot.known() else { continue };
        if let Slot::Kept(p) = slot {
            out.insert(name.to_string(), p);
        }
        if let Some((other, other_slot)) = holder.insert(p, (name, slot)) {
            // Two written ones are the stack's rule `iac::listener_rule::duplicate_priority`.
            let (kept, taker) = match (slot, other_slot) {
                (Slot::Kept(_), _) => (name, other),
                (_, Slot::Kept(_)) => (other, name),
                _ => continue,
            };
            return Err(PriorityError {
                rule: kept.to_string(),
                why: format!("it has priority {p} in the state, which `{taker}` now has too"),
            });
        }
        used.insert(p);
    }
    let mut i = 0;
    while i < rules.len() {
        if rules[i].1 != Slot::New {
            i += 1;
            continue;
        }
        let start = i;
        while i < rules.len() && rules[i].1 == Slot::New {
            i += 1;
        }
        let run = &rules[start..i];
        let before = rules[..start]
            .iter()
            .rev()
            .find_map(|(n, s)| s.known().map(|p| (*n, p)));
        let after = rules[i..]
            .iter()
            .find_map(|(n, s)| s.known().map(|p| (*n, p)));
        let lo = before.map_or(0, |(_, p)| p);
        let chosen = match after {
            None => after_last(lo, run.len(), &used).ok_or_else(|| PriorityError {
                rule: run[0].0.to_string(),
                why: format!("no priority up to {MAX} is free after {lo}"),
            })?,
            Some((next, hi)) => between(lo, hi, run.len(), &used).ok_or_else(|| {
                let prev = before.map_or_else(
                    || "the start".to_string(),
                    |(n, p)| format!("`{n}` (priority {p})"),
                );
                let why = if hi <= lo {
                    format!(
                        "it comes between {prev} and `{next}` (priority {hi}) in the file, which are not in priority order"
                    )
                } else {
                    format!(
                        "no free priority is left between {prev} and `{next}` (priority {hi}) for {} new rule(s)",
                        run.len()
                    )
                };
                PriorityError {
                    rule: run[0].0.to_string(),
                    why,
                }
            })?,
        };
        for ((name, _), p) in run.iter().zip(chosen) {
            used.insert(p);
            out.insert(name.to_string(), p);
        }
    }
    Ok(())
}

/// `n` free priorities after `lo`: the next multiples of [`STEP`].
fn after_last(lo: i64, n: usize, used: &BTreeSet<i64>) -> Option<Vec<i64>> {
    let mut out = Vec::with_capacity(n);
    let mut p = (lo / STEP + 1) * STEP;
    while out.len() < n {
        if p > MAX {
            return None;
        }
        if !used.contains(&p) {
            out.push(p);
        }
        p += STEP;
    }
    Some(out)
}

/// `n` free priorities strictly between `lo` and `hi`, spread evenly over the free ones.
fn between(lo: i64, hi: i64, n: usize, used: &BTreeSet<i64>) -> Option<Vec<i64>> {
    if hi <= lo {
        return None;
    }
    let free: Vec<i64> = (lo + 1..hi).filter(|p| !used.contains(p)).collect();
    if free.len() < n {
        return None;
    }
    Some((1..=n).map(|i| free[free.len() * i / (n + 1)]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rules: &[(&str, Slot)], leaving: &[i64]) -> Result<Vec<(String, i64)>, PriorityError> {
        let mut out = HashMap::new();
        assign_group(rules, &leaving.iter().copied().collect(), &mut out)?;
        let mut v: Vec<(String, i64)> = out.into_iter().collect();
        v.sort();
        Ok(v)
    }

    fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(n, p)| (n.to_string(), *p)).collect()
    }

    #[test]
    fn rules_created_together_follow_the_file_in_steps() {
        let got = run(&[("a", Slot::New), ("b", Slot::New), ("c", Slot::New)], &[]);
        assert_eq!(got.unwrap(), pairs(&[("a", 100), ("b", 200), ("c", 300)]));
    }

    #[test]
    fn a_new_rule_between_two_existing_ones_takes_the_middle_and_they_keep_theirs() {
        let got = run(
            &[
                ("a", Slot::Kept(100)),
                ("x", Slot::New),
                ("b", Slot::Kept(200)),
            ],
            &[],
        );
        // The others keep what the state has.
        assert_eq!(got.unwrap(), pairs(&[("a", 100), ("b", 200), ("x", 150)]));
        let got = run(
            &[
                ("a", Slot::Kept(100)),
                ("x", Slot::New),
                ("y", Slot::New),
                ("b", Slot::Kept(200)),
            ],
            &[],
        );
        assert_eq!(
            got.unwrap(),
            pairs(&[("a", 100), ("b", 200), ("x", 134), ("y", 167)])
        );
        // First and last.
        let got = run(
            &[("x", Slot::New), ("a", Slot::Written(10)), ("y", Slot::New)],
            &[],
        );
        assert_eq!(got.unwrap(), pairs(&[("x", 5), ("y", 100)]));
    }

    #[test]
    fn no_gap_left_is_an_error_naming_the_neighbours() {
        let err = run(
            &[
                ("a", Slot::Kept(100)),
                ("x", Slot::New),
                ("b", Slot::Kept(101)),
            ],
            &[],
        )
        .unwrap_err();
        assert_eq!(err.rule, "x");
        assert!(
            err.why.contains("`a` (priority 100)") && err.why.contains("`b` (priority 101)"),
            "{}",
            err.why
        );
        // Neighbours out of priority order (an existing rule moved in the file).
        let err = run(
            &[
                ("b", Slot::Kept(200)),
                ("x", Slot::New),
                ("a", Slot::Kept(100)),
            ],
            &[],
        )
        .unwrap_err();
        assert!(err.why.contains("not in priority order"), "{}", err.why);
        // Past the maximum.
        let err = run(&[("a", Slot::Written(MAX)), ("x", Slot::New)], &[]).unwrap_err();
        assert_eq!(err.rule, "x");
    }

    #[test]
    fn priorities_of_leaving_rules_and_of_others_are_never_handed_out() {
        let got = run(&[("a", Slot::Kept(100)), ("x", Slot::New)], &[200]);
        assert_eq!(got.unwrap(), pairs(&[("a", 100), ("x", 300)]));
        let got = run(
            &[
                ("a", Slot::Kept(100)),
                ("x", Slot::New),
                ("b", Slot::Kept(103)),
                ("c", Slot::Written(102)),
            ],
            &[101],
        );
        assert_eq!(got.unwrap_err().rule, "x");
    }

    #[test]
    fn a_kept_priority_a_written_one_now_takes_is_an_error() {
        for rules in [
            [("a", Slot::Written(100)), ("b", Slot::Kept(100))],
            [("b", Slot::Kept(100)), ("a", Slot::Written(100))],
        ] {
            let err = run(&rules, &[]).unwrap_err();
            assert_eq!(err.rule, "b");
            assert!(err.why.contains("`a` now has too"), "{}", err.why);
        }
    }
}
