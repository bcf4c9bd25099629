//! A saved plan: its JSON form, the checks that it still fits the state and the stack it
//! was made from, and the stack hash it records for that.

use iac_stack::{Stack, Value};
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::{Plan, PlanError, StalePlan, PLAN_FORMAT_VERSION};
use crate::state::State;
use crate::util;

impl Plan {
    /// Refuse a plan made against another state than `state`.
    pub fn check_fresh(&self, state: &State) -> Result<(), StalePlan> {
        let untouched = state.serial == 0 && state.resources.is_empty() && self.state_serial == 0;
        if state.lineage != self.state_lineage && !untouched {
            return Err(StalePlan::Lineage {
                plan: self.state_lineage.clone(),
                state: state.lineage.clone(),
            });
        }
        if state.serial != self.state_serial {
            return Err(StalePlan::Serial {
                plan: self.state_serial,
                state: state.serial,
            });
        }
        Ok(())
    }

    /// Refuse a plan made from another version of the stack (when the stack is at hand).
    pub fn check_stack(&self, stack: &Stack) -> Result<(), StalePlan> {
        if stack_hash(stack) == self.stack_hash {
            Ok(())
        } else {
            Err(StalePlan::Stack)
        }
    }

    /// The saved-plan / `--json` form.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Read a saved plan, refusing other format versions.
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        let raw: Json =
            serde_json::from_str(text).map_err(|e| PlanError::Corrupt(e.to_string()))?;
        let v = raw
            .get("format_version")
            .and_then(Json::as_u64)
            .unwrap_or(0);
        if v != u64::from(PLAN_FORMAT_VERSION) {
            return Err(PlanError::Version(u32::try_from(v).unwrap_or(u32::MAX)));
        }
        serde_json::from_value(raw).map_err(|e| PlanError::Corrupt(e.to_string()))
    }
}

/// A hash of everything in the stack that a plan depends on (`moved:` included).
pub fn stack_hash(stack: &Stack) -> String {
    /// One resource as hashed; the fields in this order, as the JSON the hash is of.
    #[derive(serde::Serialize)]
    struct Res<'a> {
        #[serde(rename = "type")]
        rtype: &'a str,
        props: &'a IndexMap<String, Value>,
        depends_on: &'a [String],
        protect: bool,
        ignore_changes: &'a [String],
        existing: bool,
    }
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        stack: &'a str,
        region: &'a Option<String>,
        resources: IndexMap<&'a str, Res<'a>>,
        outputs: IndexMap<&'a str, &'a Value>,
        /// `moved:` as `[from, to]` pairs; left out when empty, so the hash of a stack
        /// without moves is what it was before moves existed.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        moved: Vec<[&'a str; 2]>,
    }
    let doc = Doc {
        stack: &stack.name,
        region: &stack.region,
        resources: stack
            .resources
            .iter()
            .map(|(n, r)| {
                let res = Res {
                    rtype: r.schema.name,
                    props: &r.props,
                    depends_on: &r.depends_on,
                    protect: r.protect,
                    ignore_changes: &r.ignore_changes,
                    existing: r.existing,
                };
                (n.as_str(), res)
            })
            .collect(),
        outputs: stack
            .outputs
            .iter()
            .map(|(n, o)| (n.as_str(), &o.value))
            .collect(),
        moved: stack
            .moved
            .iter()
            .map(|m| [m.from.as_str(), m.to.as_str()])
            .collect(),
    };
    // Streamed into the hash: the same bytes as the JSON text, which is never built.
    let mut h = util::Fnv64::default();
    // Writing to a hasher cannot fail, and the document is plain data.
    let _ = serde_json::to_writer(&mut h, &doc);
    format!("{:016x}", h.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_hash_is_of_the_same_json_text_as_before_it_was_streamed() {
        // Saved plans record the hash: streaming it must not change it.
        let yaml = "stack: h\nregion: eu-west-1\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n    tags: {a: b}\n  logs:\n    type: aws.log_group\n    depends_on: [vpc]\n    protect: true\n    ignore_changes: [retention_days]\noutputs:\n  id: ${vpc.id}\n";
        let stack = iac_stack::load_str("h.yaml", yaml, &iac_stack::LoadOptions::default())
            .expect("loads")
            .stack;
        let resources: IndexMap<&str, Json> = stack
            .resources
            .iter()
            .map(|(n, r)| {
                (
                    n.as_str(),
                    serde_json::json!({
                        "type": r.schema.name,
                        "props": r.props,
                        "depends_on": r.depends_on,
                        "protect": r.protect,
                        "ignore_changes": r.ignore_changes,
                        "existing": r.existing,
                    }),
                )
            })
            .collect();
        let outputs: IndexMap<&str, &Value> = stack
            .outputs
            .iter()
            .map(|(n, o)| (n.as_str(), &o.value))
            .collect();
        let doc = serde_json::json!({
            "stack": stack.name,
            "region": stack.region,
            "resources": resources,
            "outputs": outputs,
        });
        let before = format!("{:016x}", util::fnv64(doc.to_string().as_bytes()));
        assert_eq!(stack_hash(&stack), before);
    }
}
