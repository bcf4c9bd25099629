//! A service with `scaling:` is priced at `scaling.min`, and the estimate says so: the
//! fixture tests/fixtures/valid/rule_scaling.yaml (1 to 4 tasks of 0.25 vCPU and 0.5 GB,
//! starting at 2) costs what one task costs, not two.

use std::path::Path;

use iac_cost::{estimate_stack, render, Estimate, ResourceEstimate};
use iac_stack::LoadOptions;

fn estimate(edit: Option<(&str, &str)>) -> Estimate {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/valid/rule_scaling.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    if let Some((from, to)) = edit {
        assert!(text.contains(from));
        text = text.replace(from, to);
    }
    let loaded = iac_stack::load_str("rule_scaling.yaml", &text, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    estimate_stack(&loaded.stack)
}

fn service(e: &Estimate) -> &ResourceEstimate {
    e.resources.iter().find(|r| r.name == "service").unwrap()
}

const HOURS: f64 = 730.0;

#[test]
fn a_scaling_service_is_priced_at_its_minimum_and_says_so() {
    let e = estimate(None);
    let s = service(&e);
    let quantities: Vec<f64> = s.lines.iter().map(|l| l.quantity).collect();
    // One task (scaling.min), not desired_count's two: 0.25 vCPU and 0.5 GB for a month.
    assert_eq!(quantities, [0.25 * HOURS, 0.5 * HOURS]);
    for l in &s.lines {
        assert_eq!(
            l.usage.as_deref(),
            Some("at `scaling.min` (1 task; the scaler may run up to 4, 4.0x this line)"),
            "{}",
            l.what
        );
    }
    let report = render(&e);
    assert!(report.contains("at `scaling.min`"), "{report}");
    // Not usage the stack's `usage:` could set.
    assert!(
        e.assumed.iter().all(|a| !a.contains("scaling")),
        "{:?}",
        e.assumed
    );

    // Without scaling, desired_count is the count again.
    let plain = estimate(Some((
        "    scaling:\n      min: 1\n      max: 4\n      cpu: 60\n      requests_per_target: 1000\n      scale_in_cooldown: 120\n",
        "",
    )));
    let s = service(&plain);
    let quantities: Vec<f64> = s.lines.iter().map(|l| l.quantity).collect();
    assert_eq!(quantities, [2.0 * 0.25 * HOURS, 2.0 * 0.5 * HOURS]);
    assert!(s.lines.iter().all(|l| l.usage.is_none()));
}
