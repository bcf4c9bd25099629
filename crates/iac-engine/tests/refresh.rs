//! `--refresh-only` and `--refresh=false` on the fake provider.
//!
//! A refresh-only plan shows every change made in AWS since the last apply and plans none;
//! applying it records what is live in the state (a deleted object is removed) and makes no
//! call that changes anything. A plan with `no_refresh` makes no provider call at all: the
//! state stands for what is live, and a state that needs AWS to be planned is refused.

mod common;

use std::sync::Arc;

use common::*;
use iac_engine::fake::Method;
use iac_engine::{
    plan_refresh_only, render_plan, Action, ApplyOptions, Intent, IntentOp, LocalBackend,
    PlanError, PlanOptions, Provider, State,
};
use serde_json::json;

#[tokio::test]
async fn refresh_only_records_what_changed_in_aws_and_changes_nothing_there() {
    let fake = fake();
    let stack = stack(network());
    let dir = tempfile::tempdir().unwrap();
    let (_, _, mut state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    let (sg, subnet) = (
        state.resources["web_sg"].physical_id.clone(),
        state.resources["subnet_b"].physical_id.clone(),
    );
    fake.mutate(&sg, |o| o.inputs["description"] = json!("changed by hand"));
    fake.remove(&subnet);
    fake.clear_calls();

    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let plan = plan_refresh_only(&stack, &state, p.clone())
        .await
        .expect("plan");
    assert!(plan.refresh_only);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    let drift: Vec<(&str, bool, Vec<String>)> = plan
        .drift
        .iter()
        .map(|d| (d.name.as_str(), d.deleted, d.paths.clone()))
        .collect();
    assert_eq!(
        drift,
        vec![
            ("subnet_b", true, vec![]),
            ("web_sg", false, vec!["description".to_string()]),
        ]
    );
    let text = render_plan(&plan, false);
    assert!(
        text.contains("Applying with --refresh-only records 1 resource(s) as they are live and removes 1 deleted outside iac"),
        "{text}"
    );
    assert!(plan.has_changes());

    let backend = LocalBackend::new(dir.path(), "demo");
    let report = common::apply_quietly(
        &plan,
        &mut state,
        &backend,
        p.clone(),
        &ApplyOptions::default(),
    )
    .await
    .expect("apply");
    assert!(report.success());
    assert!(
        fake.calls().iter().all(|c| c.method == Method::Read),
        "only reads: {:?}",
        fake.calls()
    );
    assert_eq!(
        state.resources["web_sg"].inputs["description"],
        "changed by hand"
    );
    assert!(!state.resources.contains_key("subnet_b"));
    assert_eq!(stored(dir.path()).await.resources, state.resources, "saved");

    // Nothing left to record; the normal plan now puts the stack back.
    let again = plan_refresh_only(&stack, &state, p).await.expect("plan");
    assert!(again.drift.is_empty() && again.refreshed.is_empty());
    assert!(!again.has_changes());
    let back = plan_with(&stack, &state, &fake).await;
    let actions: Vec<(&str, Action)> = back
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.name.as_str(), c.action))
        .collect();
    assert!(
        actions.contains(&("subnet_b", Action::Create)),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("web_sg", Action::Update))
            || actions.contains(&("web_sg", Action::Replace)),
        "{actions:?}"
    );
}

#[tokio::test]
async fn no_refresh_plans_from_the_state_with_no_provider_call() {
    let fake = fake();
    let mut resources = network();
    let dir = tempfile::tempdir().unwrap();
    let (_, _, state) = converge(
        &stack(resources.clone()),
        dir.path(),
        &fake,
        &ApplyOptions::default(),
    )
    .await;
    // A change behind iac's back is not seen; a change in the stack is.
    let sg = state.resources["web_sg"].physical_id.clone();
    fake.mutate(&sg, |o| o.inputs["description"] = json!("changed by hand"));
    resources[1] = res(
        "subnet_a",
        &SUBNET,
        json!({"vpc": "${vpc.id}", "cidr": "10.0.1.0/24", "az": "eu-west-1a", "tags": {"team": "web"}}),
    );
    let edited = stack(resources);
    fake.clear_calls();
    let opts = PlanOptions {
        no_refresh: true,
        ..PlanOptions::default()
    };
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let plan = iac_engine::plan(&edited, &state, p.clone(), &opts)
        .await
        .expect("plan");
    assert!(fake.calls().is_empty(), "no call: {:?}", fake.calls());
    assert!(plan.drift.is_empty());
    let changed: Vec<(&str, Action, Vec<String>)> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.name.as_str(), c.action, c.changed_paths.clone()))
        .collect();
    assert_eq!(
        changed,
        vec![("subnet_a", Action::Update, vec!["tags.team".to_string()])],
        "{}",
        render_plan(&plan, false)
    );

    // What needs AWS to be planned is refused, still with no call.
    let mut interrupted = state.clone();
    interrupted.pending.push(Intent {
        token: "0123456789abcdef0123456789abcdef".into(),
        name: "subnet_a".into(),
        rtype: "aws.subnet".into(),
        op: IntentOp::Create,
        physical_id: None,
        inputs: json!({}),
        dependencies: Vec::new(),
    });
    let e = iac_engine::plan(&edited, &interrupted, p.clone(), &opts)
        .await
        .unwrap_err();
    assert!(matches!(e, PlanError::NeedsRefresh(_)), "{e:?}");
    let mut fresh = edited.clone();
    fresh.resources.get_mut("web_tg").unwrap().import = Some("tg-1".into());
    let e = iac_engine::plan(&fresh, &State::new("demo"), p, &opts)
        .await
        .unwrap_err();
    assert!(matches!(e, PlanError::NeedsRefresh(_)), "{e:?}");
    assert!(fake.calls().is_empty(), "no call: {:?}", fake.calls());
}
