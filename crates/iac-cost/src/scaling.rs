//! A service with `scaling:` is priced at `scaling.min`: the least it costs, and the only
//! count known before the scaler runs. Its line items carry the assumption (shown under each
//! line by `iac cost`), with how far `scaling.max` can take it.

use serde_json::Value as Json;

use crate::price::number;

/// The known bounds of a service's `scaling`.
pub(crate) struct Scaling {
    /// `None` when only apply knows it.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Scaling {
    /// The `scaling` of a service's inputs, when it has one.
    pub fn of(inputs: &Json) -> Option<Scaling> {
        let s = inputs.get("scaling").filter(|s| s.is_object())?;
        Some(Scaling {
            min: number(s.get("min")),
            max: number(s.get("max")),
        })
    }

    /// The line items' note: priced at `min`, and what `max` would be.
    pub fn assumption(&self) -> String {
        let min = self.min.unwrap_or_default();
        let tasks = if min == 1.0 { "task" } else { "tasks" };
        match self.max {
            Some(max) if min > 0.0 && max > min => format!(
                "at `scaling.min` ({min} {tasks}; the scaler may run up to {max}, {:.1}x this line)",
                max / min
            ),
            Some(max) if max > min => format!(
                "at `scaling.min` ({min} {tasks}; the scaler may run up to {max})"
            ),
            _ => format!("at `scaling.min` ({min} {tasks})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_assumption_names_min_and_max() {
        let s = Scaling::of(&json!({"desired_count": 3, "scaling": {"min": 2, "max": 6}})).unwrap();
        assert_eq!(s.min, Some(2.0));
        assert_eq!(
            s.assumption(),
            "at `scaling.min` (2 tasks; the scaler may run up to 6, 3.0x this line)"
        );
        assert!(Scaling::of(&json!({"desired_count": 3})).is_none());
        assert!(Scaling::of(&json!({"scaling": null})).is_none());
    }
}
