//! The cost of a plan: stacks/lemon-mart.yaml planned on the engine's fake cloud, created,
//! scaled from 2 tasks to 4, and destroyed, with the estimate attached as `iac plan` and
//! `iac destroy` attach it.

use std::path::PathBuf;
use std::sync::Arc;

use iac_engine::fake::FakeProvider;
use iac_engine::{apply, plan, plan_destroy, render_plan, ApplyOptions, NullReporter, Plan};
use iac_engine::{PlanOptions, Provider, State};
use iac_stack::{load_file, LoadOptions, Stack};

fn load(tasks: &str) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let opts = LoadOptions {
        vars: vec![("tasks".into(), tasks.into())],
        ..LoadOptions::default()
    };
    load_file(&path, &opts).expect("lemon-mart loads").stack
}

/// The plan with its cost, as the binary makes it.
fn costed(mut p: Plan, stack: &Stack) -> Plan {
    p.cost = Some(iac_cost::plan_cost(&p, &stack.usage));
    p
}

/// The plan of `stack` against `state`, with its cost.
async fn costed_plan(stack: &Stack, state: &State, p: &Arc<dyn Provider>) -> Plan {
    let made = plan(stack, state, p.clone(), &PlanOptions::default())
        .await
        .unwrap();
    costed(made, stack)
}

/// The lines of the rendered plan that speak of cost.
fn cost_lines(p: &Plan) -> Vec<String> {
    render_plan(p, false)
        .lines()
        .filter(|l| {
            l.contains("monthly cost")
                || l.starts_with("Monthly cost")
                || l.starts_with("  ")
                    && (l.contains("Assumed") || l.contains("Not priced") || l.contains("iac cost"))
        })
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[tokio::test]
async fn the_plan_prices_each_change_and_the_total_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::example_world();
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let stack = load("2");
    let mut state = State::new(&stack.name);
    let backend = iac_engine::LocalBackend::new(dir.path(), &stack.name);

    let create = costed_plan(&stack, &state, &p).await;
    // The figures of crates/iac-cost/tests/lemon_mart.rs: alb $16.43 + $0.58 + $7.30,
    // logs $0.50 + $0.03, web $14.78 + $3.24 + $7.30.
    assert_eq!(
        cost_lines(&create),
        [
            "      monthly cost: +$24.31/mo",
            "      monthly cost: +$0.53/mo",
            "      monthly cost: +$25.32/mo",
            "Monthly cost: $0.00 -> $50.16 (+$50.16/mo), estimated",
            "  Assumed usage (set `usage:` in the stack): alb_lcu_per_hour 0.1, log_gb_per_month 1",
            "  `iac cost STACK` shows every line item",
        ]
    );
    let report = apply(
        &create,
        &mut state,
        &backend,
        p.clone(),
        Arc::new(NullReporter),
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.success());

    // Twice the tasks: the service's Fargate and public IPv4 lines double, nothing else moves.
    let bigger = load("4");
    let scale = costed_plan(&bigger, &state, &p).await;
    assert_eq!(
        cost_lines(&scale),
        [
            "      monthly cost: +$25.32/mo ($25.32 -> $50.64)",
            "Monthly cost: $50.16 -> $75.48 (+$25.32/mo), estimated",
            "  Assumed usage (set `usage:` in the stack): alb_lcu_per_hour 0.1, log_gb_per_month 1",
            "  `iac cost STACK` shows every line item",
        ]
    );

    // Destroy brings the estimate to zero.
    let down = costed(
        plan_destroy(&stack, &state, &PlanOptions::default()).unwrap(),
        &stack,
    );
    let total = down.cost.as_ref().unwrap().total_line();
    assert_eq!(
        total,
        "Monthly cost: $50.16 -> $0.00 (-$50.16/mo), estimated"
    );
}
