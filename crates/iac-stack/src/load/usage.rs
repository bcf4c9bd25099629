//! The top-level `usage:` section: how much the stack is expected to use of what AWS bills
//! by use (load balancer capacity units, NAT traffic, log ingestion, DNS queries, image
//! storage), for the monthly cost estimate of `iac plan` and `iac cost`.
//!
//! ```yaml
//! usage:
//!   alb_lcu_per_hour: 0.5
//!   log_gb_per_month: 3
//! ```
//!
//! Checked here: a map whose keys are [`USAGE_KEYS`] and whose values are numbers, zero or
//! more. Vars are not substituted in it: it describes traffic, not the deployment.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::schema::USAGE_KEYS;
use crate::yaml::{Node, NodeKind};
use crate::Span;

use super::{backticked, Loader};

fn names() -> impl Iterator<Item = &'static str> + Clone {
    USAGE_KEYS.iter().map(|k| k.name)
}

impl Loader<'_> {
    /// `usage:`, each entry's value span recorded in `spans` as `usage.KEY`.
    pub(super) fn usage(
        &mut self,
        node: &Node,
        spans: &mut HashMap<String, Span>,
    ) -> IndexMap<String, f64> {
        let mut out = IndexMap::new();
        let Some(entries) = self.section_map(
            node,
            "iac::usage::invalid",
            "`usage` must be a map of KEY -> number",
            format!(
                "write e.g. `usage: {{ alb_lcu_per_hour: 0.5 }}`; keys: {}",
                backticked(names())
            ),
        ) else {
            return out;
        };
        for (k, v) in entries {
            let Some(key) = k.as_str().filter(|k| names().any(|n| n == *k)) else {
                let shown = k
                    .as_str()
                    .map_or_else(|| k.describe().to_string(), |s| format!("`{s}`"));
                self.unknown_key(
                    k,
                    k.as_str().unwrap_or(""),
                    "iac::usage::unknown_key",
                    format!("unknown usage key {shown}"),
                    names(),
                    || format!("allowed keys: {}", backticked(names())),
                );
                continue;
            };
            let number = match v.kind {
                NodeKind::Int(i) => Some(i as f64),
                NodeKind::Float(f) => Some(f),
                _ => None,
            };
            match number {
                Some(n) if n >= 0.0 && n.is_finite() => {
                    spans.insert(format!("usage.{key}"), v.span);
                    out.insert(key.to_string(), n);
                }
                _ => self.wrong_kind(
                    v,
                    "iac::usage::invalid",
                    &format!("usage `{key}` must be a number, zero or more"),
                    "expected a number",
                    format!("write e.g. `{key}: 1`"),
                ),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::{load_str, LoadOptions};

    const HEAD: &str = "stack: s\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n";

    #[test]
    fn usage_numbers_are_read_by_key() {
        let text = format!("{HEAD}usage:\n  alb_lcu_per_hour: 0.5\n  ecr_gb: 3\n");
        let loaded = load_str("s.yaml", &text, &LoadOptions::default()).unwrap();
        let usage: Vec<_> = loaded.stack.usage.into_iter().collect();
        assert_eq!(
            usage,
            [
                ("alb_lcu_per_hour".to_string(), 0.5),
                ("ecr_gb".to_string(), 3.0)
            ]
        );
    }

    #[test]
    fn unknown_keys_and_non_numbers_are_errors() {
        let text =
            format!("{HEAD}usage:\n  alb_lcu_per_hr: 1\n  ecr_gb: lots\n  nat_gb_per_month: -2\n");
        let diags = load_str("s.yaml", &text, &LoadOptions::default()).unwrap_err();
        let found: Vec<(&str, String)> = diags
            .iter()
            .map(|d| (d.code, d.help.clone().unwrap_or_default()))
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].0, "iac::usage::unknown_key");
        assert!(found[0].1.contains("alb_lcu_per_hour"), "{}", found[0].1);
        assert_eq!(found[1].0, "iac::usage::invalid");
        assert_eq!(found[2].0, "iac::usage::invalid");
    }
}
