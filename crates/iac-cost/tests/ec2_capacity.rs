//! EC2 capacity of ECS (tests/fixtures/aws/ec2_capacity.yaml): the Auto Scaling group is
//! priced as `desired` (else `min`) instances of its launch template's type when the table
//! has that type's hour, and "not priced" with the reason when it does not; the instance
//! profile, the launch template and the capacity provider are free.

use std::path::Path;

use iac_cost::{
    estimate_stack, estimate_stack_with, Estimate, PriceTable, ResourceEstimate, Status,
};
use iac_stack::LoadOptions;

fn stack(edit: Option<(&str, &str)>) -> iac_stack::Stack {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws/ec2_capacity.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    if let Some((from, to)) = edit {
        assert!(text.contains(from));
        text = text.replace(from, to);
    }
    iac_stack::load_str("ec2_capacity.yaml", &text, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .stack
}

fn get<'e>(e: &'e Estimate, name: &str) -> &'e ResourceEstimate {
    e.resources.iter().find(|r| r.name == name).unwrap()
}

/// The compiled table with a `t3.small` hour added to `us-east-1`.
fn table_with_t3_small() -> PriceTable {
    let mut text = iac_cost::prices::PRICES_YAML.to_owned();
    let at = text.find("  us-east-1:\n").unwrap() + "  us-east-1:\n".len();
    text.insert_str(
        at,
        "    ec2_t3.small_hour: { usd: 0.0208, source: ec2, read: 2026-12-04 }\n",
    );
    PriceTable::parse(&text).unwrap()
}

#[test]
fn the_group_is_priced_at_its_starting_size_when_the_table_has_its_type() {
    let e = estimate_stack_with(&stack(None), &table_with_t3_small());
    let g = get(&e, "asg");
    assert_eq!(g.status, Status::Priced);
    // `desired: 1` instance of t3.small for a month.
    assert_eq!(g.lines.len(), 1);
    assert_eq!(g.lines[0].quantity, 730.0);
    assert!((g.monthly - 730.0 * 0.0208).abs() < 1e-9, "{}", g.monthly);
    assert!(g.note.as_deref().unwrap().contains("starting size"));

    // Without `desired`, `min`: 0 instances cost nothing.
    let e = estimate_stack_with(
        &stack(Some(("    desired: 1\n", ""))),
        &table_with_t3_small(),
    );
    assert_eq!(get(&e, "asg").monthly, 0.0);
}

#[test]
fn a_type_the_table_lacks_is_not_priced_and_the_rest_is_free() {
    let e = estimate_stack(&stack(None));
    let g = get(&e, "asg");
    assert_eq!(g.status, Status::NotPriced);
    assert_eq!(
        g.note.as_deref(),
        Some("no `ec2_t3.small_hour` price for region `us-east-1` in prices/aws.yaml")
    );
    for name in ["instance_profile", "instances", "ec2"] {
        assert_eq!(get(&e, name).status, Status::Free, "{name}");
    }
}
