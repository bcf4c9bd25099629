//! Plan output, as humans see it, for each kind of change.

mod common;

use common::*;
use iac_engine::{
    render_plan, Action, ApplyOptions, PlanError, PlanOptions, ReplaceStrategy, State,
};
use owo_colors::OwoColorize;
use serde_json::json;

/// Apply `stack` to a fresh world and return the state and the fake.
async fn applied(
    stack: &iac_stack::Stack,
) -> (State, iac_engine::fake::FakeProvider, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let (_, _, state) = converged(stack, dir.path(), &fake).await;
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
async fn drift_the_stack_agrees_with_is_not_shown() {
    // The state's record of the last apply is behind what is live (a change made outside
    // iac and since put back by hand, or one the stack was changed to match): nothing
    // differs between the stack and AWS, so the plan says nothing about drift.
    let (mut state, fake, _dir) = applied(&stack(network())).await;
    state.resources.get_mut("vpc").unwrap().inputs["dns_hostnames"] = json!(false);
    let plan = plan_with(&stack(network()), &state, &fake).await;
    assert!(!plan.has_changes());
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);
    let shown = render_plan(&plan, false);
    assert!(!shown.contains("Changed outside iac"), "{shown}");
    assert!(!shown.contains("ignored drift"), "{shown}");
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
    assert!(render_plan(&plan, false).contains("apart from ignored drift"));
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
    let err = plan_error(&stack(res), &state, &fake).await;
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
    let green = owo_colors::Style::new().green();
    assert!(render_plan(&plan, true).contains(&"+".style(green).to_string()));
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
async fn a_target_brings_in_what_it_needs_and_a_destroy_target_what_needs_it() {
    let stack = stack(network());
    let p: std::sync::Arc<dyn iac_engine::Provider> = std::sync::Arc::new(fake());
    let names = |plan: &iac_engine::Plan| -> Vec<String> {
        plan.changes.iter().map(|c| c.name.clone()).collect()
    };
    // Planning a subnet on a fresh stack: the VPC it needs comes first, and the plan says
    // why it is there.
    let opts = PlanOptions {
        targets: vec!["subnet_a".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan(&stack, &State::new("demo"), p.clone(), &opts)
        .await
        .unwrap();
    assert_eq!(names(&plan), ["vpc", "subnet_a"]);
    assert_eq!(
        plan.pulled_in,
        [iac_engine::PulledIn {
            name: "vpc".into(),
            by: "subnet_a".into(),
            relation: "needed by".into(),
        }]
    );
    let shown = render_plan(&plan, false);
    assert!(
        shown.starts_with("--target also plans: vpc (needed by subnet_a)\n"),
        "{shown}"
    );
    // Applied on the fresh stack: the VPC, then the subnet in it, and nothing else.
    let fresh = tempfile::tempdir().unwrap();
    let world = fake();
    let mut state = State::new("demo");
    let wp: std::sync::Arc<dyn iac_engine::Provider> = std::sync::Arc::new(world.clone());
    let targeted = iac_engine::plan(&stack, &state, wp.clone(), &opts)
        .await
        .unwrap();
    let report = common::apply_quietly(
        &targeted,
        &mut state,
        &iac_engine::LocalBackend::new(fresh.path(), "demo"),
        wp,
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.success(), "{report:?}");
    let made: Vec<&String> = state.resources.keys().collect();
    assert_eq!(made, ["subnet_a", "vpc"]);
    let order: Vec<String> = world
        .calls_of(iac_engine::fake::Method::Create)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(order, ["vpc", "subnet_a"]);
    // The VPC needs nothing: only itself.
    let opts = PlanOptions {
        targets: vec!["vpc".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan(&stack, &State::new("demo"), p.clone(), &opts)
        .await
        .unwrap();
    assert_eq!(names(&plan), ["vpc"]);
    assert!(plan.pulled_in.is_empty());
    let opts = PlanOptions {
        targets: vec!["nope".into()],
        ..PlanOptions::default()
    };
    let err = iac_engine::plan(&stack, &State::new("demo"), p.clone(), &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, PlanError::UnknownTarget(n) if n == "nope"));

    // Destroying the VPC: everything in it goes first.
    let dir = tempfile::tempdir().unwrap();
    let world = fake();
    let (_, _, state) = converged(&stack, dir.path(), &world).await;
    let opts = PlanOptions {
        targets: vec!["vpc".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan_destroy(&stack, &state, &opts).unwrap();
    assert_eq!(plan.changes.len(), 5);
    assert_eq!(plan.changes.last().unwrap().name, "vpc");
    assert!(plan
        .pulled_in
        .iter()
        .all(|p| p.relation == "depends on" && p.by == "vpc"));
    // Destroying a subnet takes nothing else.
    let opts = PlanOptions {
        targets: vec!["subnet_a".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan_destroy(&stack, &state, &opts).unwrap();
    assert_eq!(names(&plan), ["subnet_a"]);
}

#[tokio::test]
async fn existing_resources_are_read_not_created() {
    let fake = fake();
    fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let stack = stack(existing_zone_and_record());
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

/// A container definition shaped like a real one: enough keys that a diff showing the
/// whole list would be noticed.
fn web_container(image: &str) -> serde_json::Value {
    json!({"name": "web", "image": image, "port": 8080,
        "environment": {"MODE": "prod", "LOG": "info", "REGION": "eu-west-1"}})
}

fn task_stack(image: &str) -> iac_stack::Stack {
    let sidecar = json!({"name": "envoy", "image": "envoy:1.30", "port": 9901});
    stack(vec![res(
        "task",
        &TASK,
        json!({"cpu": 256, "containers": [web_container(image), sidecar]}),
    )])
}

/// The `-`/`+` lines of a rendered line diff.
fn diff_lines(rendered: &str) -> Vec<&str> {
    rendered
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
        .collect()
}

#[tokio::test]
async fn a_task_definition_image_change_is_a_new_revision_of_one_changed_line() {
    // A world that renews a task definition's `arn` and `revision` on update, as ECS does.
    let world = fake().with_update_changing("aws.task_definition", &["arn", "revision"]);
    let dir = tempfile::tempdir().unwrap();
    let (_, _, fake_state) = converged(&task_stack("nginx:1.27"), dir.path(), &world).await;
    let revision = fake_state.resources["task"].attrs["revision"].clone();
    // AWS answers the container definitions with its own key order: that is no change.
    let id = fake_state.resources["task"].physical_id.clone();
    world.mutate(&id, |o| {
        let web = o.inputs["containers"][0].as_object().unwrap().clone();
        let reversed: serde_json::Map<String, serde_json::Value> = web.into_iter().rev().collect();
        o.inputs["containers"][0] = serde_json::Value::Object(reversed);
    });
    let plan = plan_with(&task_stack("nginx:1.28"), &fake_state, &world).await;
    let change = plan.change("task").unwrap();
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.changed_paths, ["containers[0].image"]);
    assert_eq!(change.renewed_attrs["revision"], revision);
    let shown = render_plan(&plan, false);
    assert!(
        shown.contains(&format!(
            "will get a new revision (revision {revision} -> (known after apply); the old one is deregistered once no service uses it)"
        )),
        "{shown}"
    );
    assert_eq!(
        diff_lines(&shown),
        [
            "-     \"image\": \"nginx:1.27\",",
            "+     \"image\": \"nginx:1.28\","
        ],
        "{shown}"
    );
    insta::assert_snapshot!(shown);

    // A provider that says the update renews nothing reads as a plain in-place update.
    let (state, plain_world, _dir) = applied(&task_stack("nginx:1.27")).await;
    let plain = plan_with(&task_stack("nginx:1.28"), &state, &plain_world).await;
    assert!(plain.change("task").unwrap().renewed_attrs.is_empty());
    assert!(render_plan(&plain, false).contains("will be updated in place"));
}

/// A stack of every kind of data holder: a log group, a repository deleted with its
/// images and one AWS refuses to delete while it holds any, a zone the stack created and
/// one it only looked up.
fn data_stack() -> iac_stack::Stack {
    stack(vec![
        res("logs", &LOG, json!({"retention_days": 30})),
        res("images", &ECR, json!({"force_delete": true})),
        res("kept_images", &ECR, json!({})),
        res("zone", &ZONE, json!({"name": "example.com"})),
        res("shared_zone", &ZONE, json!({"name": "example.org"})).existing(),
        res("vpc", &VPC, json!({"cidr": "10.0.0.0/16"})),
    ])
}

fn data_world() -> iac_engine::fake::FakeProvider {
    let f = fake();
    f.seed("aws.hosted_zone", "shared", json!({"name": "example.org"}));
    f
}

#[tokio::test]
async fn destroy_says_which_data_goes_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let world = data_world();
    let (_, report, state) =
        converge(&data_stack(), dir.path(), &world, &ApplyOptions::default()).await;
    assert!(report.success(), "{report:?}");
    let plan = iac_engine::plan_destroy(&data_stack(), &state, &PlanOptions::default()).unwrap();
    assert_eq!(plan.data_loss, ["images", "logs", "zone"]);
    let shown = render_plan(&plan, false);
    assert!(shown.contains(
        "Plan: 0 to add, 0 to change, 0 to replace, 5 to destroy.\nWarning: 3 resources holding data will be deleted: images (aws.ecr_repository), logs (aws.log_group), zone (aws.hosted_zone).\n"
    ), "{shown}");
    insta::assert_snapshot!(shown);

    // One resource: the singular, and only what `--target` keeps.
    let opts = PlanOptions {
        targets: vec!["logs".into()],
        ..PlanOptions::default()
    };
    let one = iac_engine::plan_destroy(&data_stack(), &state, &opts).unwrap();
    assert!(
        render_plan(&one, false)
            .ends_with("Warning: 1 resource holding data will be deleted: logs (aws.log_group).\n"),
        "{}",
        render_plan(&one, false)
    );
    // Deleting nothing that holds data warns about nothing.
    let opts = PlanOptions {
        targets: vec!["vpc".into(), "kept_images".into()],
        ..PlanOptions::default()
    };
    let none = iac_engine::plan_destroy(&data_stack(), &state, &opts).unwrap();
    assert!(none.data_loss.is_empty());
    assert!(!render_plan(&none, false).contains("Warning"));
}

#[tokio::test]
async fn plan_json_lists_the_data_a_plan_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let world = data_world();
    let (_, report, state) =
        converge(&data_stack(), dir.path(), &world, &ApplyOptions::default()).await;
    assert!(report.success(), "{report:?}");
    // The log group gets a new name (a replacement: the old group and its events go), the
    // forced repository leaves the stack, the other repository gets a tag.
    let mut res = data_stack().resources.into_values().collect::<Vec<_>>();
    res[0]
        .props
        .insert("name".into(), value(json!("/demo/web")));
    res.remove(1);
    res[1]
        .props
        .insert("tags".into(), value(json!({"team": "web"})));
    let plan = plan_with(&stack(res), &state, &world).await;
    assert_eq!(plan.change("logs").unwrap().action, Action::Replace);
    assert_eq!(plan.data_loss, ["logs", "images"]);
    let shown = render_plan(&plan, false);
    insta::assert_snapshot!("plan_json_lists_the_data_a_plan_deletes_text", shown);

    let text = plan.to_json();
    assert_eq!(iac_engine::Plan::from_json(&text).unwrap(), plan);
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["format_version"], 1, "an added field keeps the version");
    // A plan saved before the field existed reads as deleting no data.
    let mut old = raw.clone();
    old.as_object_mut().unwrap().remove("data_loss");
    let read = iac_engine::Plan::from_json(&old.to_string()).unwrap();
    assert!(read.data_loss.is_empty());
    let mut shown = raw.clone();
    shown["state_lineage"] = json!("<lineage>");
    insta::assert_json_snapshot!(shown);
}

#[tokio::test]
async fn an_http_listener_built_in_code_gets_no_ssl_policy() {
    let listener = iac_stack::schema::lookup("aws.listener").unwrap();
    let props = |protocol: &str| {
        json!({"load_balancer": "arn:lb", "port": 80, "protocol": protocol,
            "forward": "arn:tg"})
    };
    let s = stack(vec![
        res("http", listener, props("HTTP")),
        res("https", listener, props("HTTPS")),
    ]);
    let plan = plan_with(&s, &State::new("demo"), &fake()).await;
    let policy = |name: &str| {
        let after = plan.change(name).unwrap().after.clone().unwrap();
        after.get("ssl_policy").cloned()
    };
    assert_eq!(policy("http"), None);
    assert_eq!(
        policy("https"),
        Some(iac_stack::Value::Str(
            "ELBSecurityPolicy-TLS13-1-2-2021-06".into()
        ))
    );
}

#[tokio::test]
async fn a_provider_may_force_a_replacement_between_two_values_only() {
    // As a service's `launch_type`: one value to another replaces, setting or removing it
    // updates in place.
    let logs = |v: serde_json::Value| stack(vec![res("logs", &LOG, v)]);
    let dir = tempfile::tempdir().unwrap();
    let world = fake().with_replaced_between("aws.log_group", "retention_days");
    let (_, _, state) = converged(&logs(json!({"retention_days": 7})), dir.path(), &world).await;
    let other = plan_with(&logs(json!({"retention_days": 30})), &state, &world).await;
    let change = other.change("logs").unwrap();
    assert_eq!(change.action, Action::Replace);
    assert_eq!(
        change.replace.as_ref().unwrap().forced_by,
        ["retention_days"]
    );
    let removed = plan_with(&logs(json!({})), &state, &world).await;
    assert_eq!(removed.change("logs").unwrap().action, Action::Update);
    // Without the provider's word, the same change is an update.
    let (plain_state, plain, _dir) = applied(&logs(json!({"retention_days": 7}))).await;
    let plan = plan_with(&logs(json!({"retention_days": 30})), &plain_state, &plain).await;
    assert_eq!(plan.change("logs").unwrap().action, Action::Update);
}
