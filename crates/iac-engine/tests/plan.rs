//! Plan output, as humans see it, for each kind of change.

mod common;

use common::*;
use iac_engine::{
    render_plan, Action, ApplyOptions, PlanError, PlanOptions, ReplaceStrategy, State,
};
use serde_json::json;

/// Apply `stack` to a fresh world and return the state and the fake.
async fn applied(
    stack: &iac_stack::Stack,
) -> (State, iac_engine::fake::FakeProvider, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let (_, report, state) = converge(stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success(), "{report:?}");
    (state, fake, dir)
}

#[tokio::test]
async fn create_all() {
    let stack = stack(network());
    let plan = plan_with(&stack, &State::new("demo"), &fake()).await;
    assert_eq!(plan.summary.add, 5);
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn no_op_after_apply() {
    let stack = stack(network());
    let (state, fake, _dir) = applied(&stack).await;
    let plan = plan_with(&stack, &state, &fake).await;
    assert!(!plan.has_changes());
    assert!(plan.changes.iter().all(|c| c.action == Action::NoOp));
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn update_in_place() {
    let (state, fake, _dir) = applied(&stack(network())).await;
    let mut res = network();
    res[4] = res_tg(json!({"path": "/ready", "interval": 30}));
    res[3].props.insert(
        "ingress".into(),
        value(json!([{"protocol": "tcp", "port": 8443, "cidr": "0.0.0.0/0"}])),
    );
    res[0]
        .props
        .insert("tags".into(), value(json!({"team": "web"})));
    let plan = plan_with(&stack(res), &state, &fake).await;
    assert_eq!(
        plan.change("web_tg").unwrap().changed_paths,
        ["health_check.path"]
    );
    assert_eq!(
        plan.change("web_sg").unwrap().changed_paths,
        ["ingress[0].port"]
    );
    assert_eq!(plan.change("vpc").unwrap().changed_paths, ["tags.team"]);
    insta::assert_snapshot!(render_plan(&plan, false));
}

fn res_tg(health: serde_json::Value) -> iac_stack::Resource {
    res(
        "web_tg",
        &TG,
        json!({"vpc": "${vpc.id}", "port": 8080, "health_check": health}),
    )
}

#[tokio::test]
async fn replace_propagates_to_dependents() {
    let (state, fake, _dir) = applied(&stack(network())).await;
    let mut res = network();
    res[0]
        .props
        .insert("cidr".into(), value(json!("10.1.0.0/16")));
    let plan = plan_with(&stack(res), &state, &fake).await;
    // The VPC's new id is unknown, and every `vpc` property is replace-marked.
    for name in ["vpc", "subnet_a", "subnet_b", "web_sg", "web_tg"] {
        assert_eq!(plan.change(name).unwrap().action, Action::Replace, "{name}");
    }
    // The target group's AWS name is not in the stack: the new one gets a fresh name and
    // is created before the old one goes.
    let tg = plan.change("web_tg").unwrap().replace.clone().unwrap();
    assert_eq!(tg.strategy, ReplaceStrategy::CreateBeforeDestroy);
    let fresh = tg.new_name.expect("a fresh name");
    assert!(fresh.starts_with("demo-web-tg-") && fresh.len() == "demo-web-tg-".len() + 6);
    assert_eq!(
        plan.change("vpc")
            .unwrap()
            .replace
            .as_ref()
            .unwrap()
            .strategy,
        ReplaceStrategy::CreateBeforeDestroy
    );
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn delete_gone_resources() {
    let (state, fake, _dir) = applied(&stack(network())).await;
    // Only the VPC's first subnet stays: the rest goes, dependents before the VPC.
    let mut res = network();
    res.truncate(2);
    res.remove(0);
    res[0].props.insert("vpc".into(), value(json!("vpc-0001")));
    let plan = plan_with(&stack(res), &state, &fake).await;
    assert_eq!(plan.summary.destroy, 4);
    assert_eq!(plan.changes.last().unwrap().name, "vpc");
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn drift_is_shown_and_planned_back() {
    let (state, fake, _dir) = applied(&stack(network())).await;
    let vpc = state.resources["vpc"].physical_id.clone();
    fake.mutate(&vpc, |o| o.inputs["dns_hostnames"] = json!(false));
    let gone = state.resources["subnet_b"].physical_id.clone();
    fake.remove(&gone);
    let plan = plan_with(&stack(network()), &state, &fake).await;
    assert_eq!(plan.drift.len(), 2);
    assert_eq!(plan.change("vpc").unwrap().action, Action::Update);
    assert_eq!(plan.change("subnet_b").unwrap().action, Action::Create);
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn ignore_changes_keeps_drift_out_of_the_plan() {
    let mut res = network();
    res[4] = res_tg(json!({"path": "/health", "interval": 30})).ignore(&["health_check"]);
    let stack = stack(res);
    let (state, fake, _dir) = applied(&stack).await;
    let tg = state.resources["web_tg"].physical_id.clone();
    fake.mutate(&tg, |o| o.inputs["health_check"]["interval"] = json!(10));
    let plan = plan_with(&stack, &state, &fake).await;
    assert!(!plan.has_changes());
    assert_eq!(plan.drift[0].ignored, ["health_check.interval"]);
    insta::assert_snapshot!(render_plan(&plan, false));

    // A change the user makes under an ignored path is still planned.
    let mut res = network();
    res[4] = res_tg(json!({"path": "/v2", "interval": 30})).ignore(&["health_check"]);
    let plan = plan_with(&common::stack(res), &state, &fake).await;
    assert_eq!(
        plan.change("web_tg").unwrap().changed_paths,
        ["health_check.path"]
    );
}

#[tokio::test]
async fn protect_refuses_destroy_and_replace() {
    let mut res = network();
    res[0] = res.remove(0).protect();
    let protected = stack(res.clone());
    let (state, fake, _dir) = applied(&protected).await;
    res[0]
        .props
        .insert("cidr".into(), value(json!("10.9.0.0/16")));
    let p: std::sync::Arc<dyn iac_engine::Provider> = std::sync::Arc::new(fake.clone());
    let err = iac_engine::plan(&stack(res), &state, p, &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(&err, PlanError::Protected(v) if v[0].0 == "vpc"));
    let destroy =
        iac_engine::plan_destroy(&protected, &state, &PlanOptions::default()).unwrap_err();
    insta::assert_snapshot!(format!("{err}\n{destroy}"));
}

#[tokio::test]
async fn multi_line_values_diff_line_by_line() {
    let task = |image: &str, extra: bool| {
        let mut containers = vec![json!({"name": "web", "image": image, "port": 80,
            "environment": {"MODE": "prod", "LOG": "info"}})];
        if extra {
            containers.push(json!({"name": "sidecar", "image": "envoy:1", "port": 9901}));
        }
        stack(vec![res(
            "task",
            &TASK,
            json!({"cpu": 256, "containers": containers}),
        )])
    };
    let (state, fake, _dir) = applied(&task("nginx:1.26", false)).await;
    let plan = plan_with(&task("nginx:1.27", true), &state, &fake).await;
    assert_eq!(plan.change("task").unwrap().action, Action::Update);
    insta::assert_snapshot!(render_plan(&plan, false));
}

#[tokio::test]
async fn colour_is_optional() {
    let plan = plan_with(&stack(network()), &State::new("demo"), &fake()).await;
    assert!(!render_plan(&plan, false).contains('\x1b'));
    assert!(render_plan(&plan, true).contains("\x1b[32m+\x1b[0m"));
}

#[tokio::test]
async fn plan_json_round_trips_and_is_versioned() {
    let (state, fake, _dir) = applied(&stack(network())).await;
    let mut res = network();
    res[1]
        .props
        .insert("cidr".into(), value(json!("10.0.9.0/24")));
    res.truncate(4);
    let plan = plan_with(&stack(res), &state, &fake).await;
    let text = plan.to_json();
    assert_eq!(iac_engine::Plan::from_json(&text).unwrap(), plan);
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["format_version"], 1);
    let wrong = text.replace("\"format_version\": 1", "\"format_version\": 7");
    assert!(matches!(
        iac_engine::Plan::from_json(&wrong),
        Err(PlanError::Version(7))
    ));
    // Lineage and serial are not stable across runs; the rest is.
    let mut shown = raw.clone();
    shown["state_lineage"] = json!("<lineage>");
    insta::assert_json_snapshot!(shown);
}

#[tokio::test]
async fn targets_keep_dependents_only() {
    let stack = stack(network());
    let p: std::sync::Arc<dyn iac_engine::Provider> = std::sync::Arc::new(fake());
    let opts = PlanOptions {
        targets: vec!["subnet_a".into()],
    };
    let plan = iac_engine::plan(&stack, &State::new("demo"), p.clone(), &opts)
        .await
        .unwrap();
    let names: Vec<&str> = plan.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["subnet_a"]);
    let opts = PlanOptions {
        targets: vec!["vpc".into()],
    };
    let plan = iac_engine::plan(&stack, &State::new("demo"), p.clone(), &opts)
        .await
        .unwrap();
    assert_eq!(plan.changes.len(), 5);
    let opts = PlanOptions {
        targets: vec!["nope".into()],
    };
    let err = iac_engine::plan(&stack, &State::new("demo"), p, &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, PlanError::UnknownTarget(n) if n == "nope"));
}

#[tokio::test]
async fn existing_resources_are_read_not_created() {
    let fake = fake();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let stack = stack(vec![
        res("zone", &ZONE, json!({"name": "example.com"})).existing(),
        res(
            "www",
            &RECORD,
            json!({"zone": "${zone.id}", "name": "www.example.com", "values": ["1.2.3.4"]}),
        ),
    ]);
    let plan = plan_with(&stack, &State::new("demo"), &fake).await;
    assert_eq!(plan.change("zone").unwrap().action, Action::Read);
    let www = plan.change("www").unwrap();
    assert_eq!(www.action, Action::Create);
    // The zone's id is known at plan time.
    assert_eq!(
        www.after.as_ref().unwrap().get("zone").unwrap().as_str(),
        Some("Z-0001")
    );
    assert_eq!(plan.summary.add, 1);
}

#[tokio::test]
async fn destroy_lists_everything_dependents_first() {
    let (state, _fake, _dir) = applied(&stack(network())).await;
    let plan =
        iac_engine::plan_destroy(&stack(network()), &state, &PlanOptions::default()).unwrap();
    assert_eq!(plan.changes.last().unwrap().name, "vpc");
    insta::assert_snapshot!(render_plan(&plan, false));
}
