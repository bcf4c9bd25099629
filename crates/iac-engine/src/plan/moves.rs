//! Renames without rebuilding: the stack's `moved:` entries planned as moves.
//!
//! A `moved` entry whose `from` the state holds (and the stack no longer has) and whose `to`
//! the stack has (and the state does not yet) is a move: the plan is made against the state
//! with the resource already renamed ([`moved_state`]), so the object is diffed as `to`'s
//! (its `iac:name` and `Name` tags follow the new name, an in-place update) and nothing is
//! created or deleted for it. The change carries [`Change::moved_from`](crate::Change); apply
//! records each move ([`Edit::Move`]) in one commit before any operation starts, so a crash
//! at any point leaves the object in the state under one of its two names, and the next
//! plan carries on from there.
//!
//! Names AWS requires that iac derived from the old name (`<stack>-web-tg`, `/iac/<stack>/
//! logs`) are the object's names, not the stack's: renaming them would replace the object.
//! [`keep_former_names`] keeps them, for as long as the state records the former name.

use std::borrow::Cow;

use iac_stack::schema::DefaultValue;
use iac_stack::{Resource, Stack, Value};
use serde_json::Value as Json;

use crate::plan::{GeneratedName, PlanError};
use crate::state::{Edit, State};

/// One move: the state's resource `from` is the stack's `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// The `moved:` entries that move something in this state, in file order. An entry whose
/// `from` the state does not hold does nothing (it was applied already, or never was);
/// one whose `to` the state holds too, or whose types differ, is an error: the plan cannot
/// tell which object the user means.
pub(crate) fn resolve(stack: &Stack, state: &State) -> Result<Vec<Move>, PlanError> {
    let mut out = Vec::new();
    for m in &stack.moved {
        let Some(old) = state.resources.get(&m.from) else {
            continue;
        };
        // The loader refuses both; a stack built in code may still say so.
        if stack.resources.contains_key(&m.from) {
            continue;
        }
        let Some(new) = stack.resources.get(&m.to) else {
            continue;
        };
        let refuse = |why: String| PlanError::Move {
            from: m.from.clone(),
            to: m.to.clone(),
            why,
        };
        if let Some(taken) = state.resources.get(&m.to) {
            return Err(refuse(format!(
                "the state holds both: `{}` is `{}` and `{}` is `{}`; forget one of them with `iac state rm`, or remove the entry",
                m.from, old.physical_id, m.to, taken.physical_id
            )));
        }
        if old.rtype != new.schema.name {
            return Err(refuse(format!(
                "`{}` is a `{}` in the state and `{}` a `{}` in the stack; a move keeps the object, so the types must be the same",
                m.from, old.rtype, m.to, new.schema.name
            )));
        }
        if old.existing != new.existing {
            return Err(refuse(
                "one of them is an `existing: true` lookup and the other is not; a move keeps what iac manages as it is".to_string(),
            ));
        }
        out.push(Move {
            from: m.from.clone(),
            to: m.to.clone(),
        });
    }
    Ok(out)
}

/// The state the plan diffs against: `state` with every move applied, in memory only.
pub(crate) fn moved_state<'s>(state: &'s State, moves: &[Move]) -> Cow<'s, State> {
    if moves.is_empty() {
        return Cow::Borrowed(state);
    }
    let mut s = state.clone();
    s.apply(&edits(moves));
    Cow::Owned(s)
}

/// The state edits that record `moves`.
pub(crate) fn edits(moves: &[Move]) -> Vec<Edit> {
    moves
        .iter()
        .map(|m| Edit::Move {
            from: m.from.clone(),
            to: m.to.clone(),
        })
        .collect()
}

/// For a resource the state knew under `former` names: every name property the stack
/// leaves to iac (`name:` not written) whose value the object holds was derived from a
/// former name (the base `<stack>-<OLD>`, a fresh name iac gave a replacement of it, or a
/// pattern such as `/iac/<stack>/<OLD>`) stays the object's. `held` is the object's inputs
/// (live, then last applied). True when `desired` changed.
pub(crate) fn keep_former_names(
    stack: &Stack,
    r: &Resource,
    former: &[String],
    held: &[&Json],
    desired: &mut Value,
) -> bool {
    let mut changed = false;
    for p in r.schema.props {
        let Some(default) = p.default else {
            continue;
        };
        if !matches!(default, DefaultValue::AwsName | DefaultValue::Pattern(_))
            || !r.is_defaulted(p.name)
        {
            continue;
        }
        let Some(value) = held
            .iter()
            .find_map(|h| h.get(p.name))
            .and_then(Json::as_str)
        else {
            continue;
        };
        let derived = former.iter().any(|f| match default {
            DefaultValue::AwsName => {
                let max_len = r.schema.aws_name.map_or(255, |a| a.max_len);
                GeneratedName::new(p.name, &stack.name, f, max_len).is_generated(value)
            }
            DefaultValue::Pattern(pat) => {
                value == pat.replace("{stack}", &stack.name).replace("{name}", f)
            }
            _ => false,
        });
        if derived {
            if let Value::Map(m) = desired {
                if m.get(p.name) != Some(&Value::Str(value.to_string())) {
                    m.insert(p.name.to_string(), Value::Str(value.to_string()));
                    changed = true;
                }
            }
        }
    }
    changed
}
