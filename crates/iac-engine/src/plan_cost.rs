//! The monthly cost estimate a caller attaches to a plan ([`Plan::cost`]).
//!
//! The engine knows no prices: the binary computes the estimate (crate `iac-cost`, from its
//! offline price table and the stack's `usage:`) and stores it here, so that the human and
//! Markdown renderings show it and the plan JSON (`--json`, saved plans) carries it.
//!
//! [`Plan::cost`]: crate::Plan::cost

use serde::{Deserialize, Serialize};

/// The estimated monthly cost of what the state holds now and of what it will hold once the
/// plan is applied, in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCost {
    /// Monthly cost of the resources before the plan (what the state holds).
    pub before: f64,
    /// Monthly cost after the plan is applied.
    pub after: f64,
    /// Every resource whose estimate is not zero on either side, or that could not be
    /// priced, in plan order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceCost>,
    /// The usage figures taken by default rather than from the stack's `usage:`, as
    /// `KEY VALUE` (`alb_lcu_per_hour 0.1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<String>,
}

/// The estimate of one resource, before and after the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceCost {
    pub name: String,
    pub before: f64,
    pub after: f64,
    /// Why part of this resource's cost is not in the figures (no price for its type or
    /// region, a size known only after apply), when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_priced: Option<String>,
}

/// `$16.43`: dollars with cents.
pub fn dollars(usd: f64) -> String {
    // -0.004 rounds to "-0.00": print zero as zero.
    let cents = (usd * 100.0).round();
    if cents == 0.0 {
        return "$0.00".into();
    }
    let sign = if cents < 0.0 { "-" } else { "" };
    format!("{sign}${:.2}", cents.abs() / 100.0)
}

/// `+$16.43` or `-$16.43` (or `$0.00`).
pub fn delta(usd: f64) -> String {
    let d = dollars(usd);
    if d == "$0.00" || d.starts_with('-') {
        d
    } else {
        format!("+{d}")
    }
}

impl ResourceCost {
    /// The line the plan prints in the resource's block: `monthly cost: +$16.43/mo`, with
    /// both figures when the resource costs something before and after. `None` when the
    /// estimate does not change.
    pub fn line(&self) -> Option<String> {
        let change = self.after - self.before;
        let figure = if dollars(change) == "$0.00" {
            None
        } else if dollars(self.before) == "$0.00" || dollars(self.after) == "$0.00" {
            Some(format!("{}/mo", delta(change)))
        } else {
            Some(format!(
                "{}/mo ({} -> {})",
                delta(change),
                dollars(self.before),
                dollars(self.after)
            ))
        };
        match (figure, &self.not_priced) {
            (None, None) => None,
            (Some(f), None) => Some(format!("monthly cost: {f}")),
            (None, Some(why)) => Some(format!("monthly cost: not priced ({why})")),
            (Some(f), Some(why)) => Some(format!("monthly cost: {f}, part not priced ({why})")),
        }
    }
}

impl PlanCost {
    /// `Monthly cost: $0.00 -> $50.16 (+$50.16/mo), estimated`.
    pub fn total_line(&self) -> String {
        let change = self.after - self.before;
        let delta = if dollars(change) == "$0.00" {
            "no change".to_string()
        } else {
            format!("{}/mo", delta(change))
        };
        format!(
            "Monthly cost: {} -> {} ({delta}), estimated",
            dollars(self.before),
            dollars(self.after)
        )
    }

    /// The lines after the total: what is not priced, and the usage assumed.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let unpriced: Vec<&str> = self
            .resources
            .iter()
            .filter(|r| r.not_priced.is_some())
            .map(|r| r.name.as_str())
            .collect();
        if !unpriced.is_empty() {
            out.push(format!("Not priced: {}", unpriced.join(", ")));
        }
        if !self.assumed.is_empty() {
            out.push(format!(
                "Assumed usage (set `usage:` in the stack): {}",
                self.assumed.join(", ")
            ));
        }
        out.push("`iac cost STACK` shows every line item".into());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(before: f64, after: f64, not_priced: Option<&str>) -> ResourceCost {
        ResourceCost {
            name: "r".into(),
            before,
            after,
            not_priced: not_priced.map(String::from),
        }
    }

    #[test]
    fn money_reads_with_sign_and_cents() {
        assert_eq!(dollars(16.425), "$16.43");
        assert_eq!(dollars(-0.004), "$0.00");
        assert_eq!(delta(3.65), "+$3.65");
        assert_eq!(delta(-50.0), "-$50.00");
    }

    #[test]
    fn a_resource_line_shows_the_change_and_both_sides_when_both_cost() {
        assert_eq!(
            rc(0.0, 16.425, None).line().unwrap(),
            "monthly cost: +$16.43/mo"
        );
        assert_eq!(
            rc(16.425, 0.0, None).line().unwrap(),
            "monthly cost: -$16.43/mo"
        );
        assert_eq!(
            rc(18.02, 21.67, None).line().unwrap(),
            "monthly cost: +$3.65/mo ($18.02 -> $21.67)"
        );
        assert_eq!(rc(5.0, 5.0, None).line(), None);
        assert_eq!(
            rc(0.0, 0.0, Some("no prices for region `xx-1`"))
                .line()
                .unwrap(),
            "monthly cost: not priced (no prices for region `xx-1`)"
        );
    }

    #[test]
    fn the_total_line_says_no_change_when_there_is_none() {
        let c = PlanCost {
            before: 10.0,
            after: 10.0,
            resources: vec![],
            assumed: vec![],
        };
        assert_eq!(
            c.total_line(),
            "Monthly cost: $10.00 -> $10.00 (no change), estimated"
        );
    }
}
