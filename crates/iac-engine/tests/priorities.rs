//! Listener rules without `priority:` (`iac_engine::priorities`), through plan and apply on
//! the fake, with stacks loaded by the real loader: rules created together follow the file,
//! a rule inserted later fits between its neighbours, and existing rules never move.

mod common;

use std::sync::Arc;

use iac_engine::fake::FakeProvider;
use iac_engine::{plan, Action, PlanError, PlanOptions, Provider, State};
use iac_stack::{load_str, LoadOptions, Stack};

const HEAD: &str = "stack: rules
region: us-east-1
resources:
  http:
    type: aws.listener
    load_balancer: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188
    port: 80
    protocol: HTTP
    fixed_response:
      status: 404
";

/// A rule of the listener `http` matching `path`.
fn rule(name: &str, path: &str, priority: Option<i64>) -> String {
    let priority = priority.map_or(String::new(), |p| format!("    priority: {p}\n"));
    format!(
        "  {name}:\n    type: aws.listener_rule\n    listener: ${{http.arn}}\n{priority}    conditions:\n      path_pattern: [\"{path}\"]\n    fixed_response:\n      status: 200\n"
    )
}

fn load(rules: &[String]) -> Stack {
    let text = format!("{HEAD}{}", rules.concat());
    match load_str("rules.yaml", &text, &LoadOptions::default()) {
        Ok(l) => l.stack,
        Err(d) => panic!("{:?}", d.0.iter().map(|d| &d.message).collect::<Vec<_>>()),
    }
}

async fn converge(stack: &Stack, state: &mut State, fake: &FakeProvider) -> iac_engine::Plan {
    let dir = tempfile::tempdir().unwrap();
    common::plan_and_apply(stack, state, fake, dir.path()).await
}

fn priority(plan: &iac_engine::Plan, name: &str) -> i64 {
    let after = plan.change(name).unwrap().after.clone().unwrap();
    after.get("priority").and_then(|p| p.as_int()).unwrap()
}

#[tokio::test]
async fn assigned_priorities_follow_the_file_and_never_move() {
    let fake = FakeProvider::new();
    let mut state = State::new("rules");
    let first = load(&[rule("api", "/api/*", None), rule("web", "/*", None)]);
    let p = converge(&first, &mut state, &fake).await;
    assert_eq!((priority(&p, "api"), priority(&p, "web")), (100, 200));
    assert_eq!(state.resources["api"].inputs["priority"], 100);

    // Unchanged: nothing to do, the recorded priorities are the desired ones.
    let again = converge(&first, &mut state, &fake).await;
    assert!(!again.has_changes(), "{:?}", again.changes);

    // A rule inserted between the two gets a free priority between theirs; they keep theirs.
    let inserted = load(&[
        rule("api", "/api/*", None),
        rule("docs", "/docs/*", None),
        rule("web", "/*", None),
    ]);
    let p = converge(&inserted, &mut state, &fake).await;
    assert_eq!(p.change("docs").unwrap().action, Action::Create);
    assert_eq!(priority(&p, "docs"), 150);
    for kept in ["api", "web"] {
        assert_eq!(p.change(kept).unwrap().action, Action::NoOp, "{kept}");
    }
    assert_eq!((priority(&p, "api"), priority(&p, "web")), (100, 200));

    // Moving a rule in the file does not renumber it (no churn); a written priority is
    // an update of that rule only.
    let moved = load(&[
        rule("web", "/*", None),
        rule("api", "/api/*", None),
        rule("docs", "/docs/*", Some(120)),
    ]);
    let p = converge(&moved, &mut state, &fake).await;
    assert_eq!(p.change("docs").unwrap().action, Action::Update);
    assert_eq!(p.change("docs").unwrap().changed_paths, ["priority"]);
    assert_eq!(p.change("api").unwrap().action, Action::NoOp);
    assert_eq!(p.change("web").unwrap().action, Action::NoOp);

    // The written priority taken out again: the rule keeps the one it has.
    let unwritten = load(&[
        rule("web", "/*", None),
        rule("api", "/api/*", None),
        rule("docs", "/docs/*", None),
    ]);
    let p = converge(&unwritten, &mut state, &fake).await;
    assert!(!p.has_changes(), "{:?}", p.changes);
    assert_eq!(priority(&p, "docs"), 120);

    // A rule removed in the same apply as a new one is created: its priority (200, the next
    // step after 120) is not handed out, the delete may run after the create.
    let replaced = load(&[
        rule("api", "/api/*", None),
        rule("docs", "/docs/*", None),
        rule("late", "/late/*", None),
    ]);
    let p = converge(&replaced, &mut state, &fake).await;
    assert_eq!(p.change("web").unwrap().action, Action::Delete);
    assert_eq!(priority(&p, "late"), 300);
}

#[tokio::test]
async fn no_free_priority_between_the_neighbours_stops_the_plan_before_any_call() {
    let fake = FakeProvider::new();
    let mut state = State::new("rules");
    let written = load(&[rule("a", "/a/*", Some(10)), rule("b", "/b/*", Some(11))]);
    converge(&written, &mut state, &fake).await;
    fake.clear_calls();
    // The priorities are no longer written: the state's are kept, and nothing fits between.
    let squeezed = load(&[
        rule("a", "/a/*", None),
        rule("x", "/x/*", None),
        rule("b", "/b/*", None),
    ]);
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let err = plan(&squeezed, &state, p, &PlanOptions::default())
        .await
        .unwrap_err();
    let PlanError::Priority(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.rule, "x");
    assert!(
        err.to_string()
            .contains("no free priority is left between `a` (priority 10) and `b` (priority 11)"),
        "{err}"
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}
