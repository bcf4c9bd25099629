//! Operating a stack over its life: resources renamed in the stack (`moved:`) keep their
//! objects, `--replace NAME` replaces on purpose, and objects forgotten with `iac state rm`
//! are left alone. The fake refuses deleting a target group in use, so a move planned as a
//! destroy and a create would fail here.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{
    plan_destroy_live, render_markdown, render_plan, state_ops, Action, ApplyOptions, ApplyReport,
    ErrorKind, LocalBackend, Plan, PlanError, PlanOptions, Provider, ReplaceStrategy, State,
};
use iac_stack::{Moved, Stack, Value};
use serde_json::json;

/// The network, a listener forwarding to the target group called `tg`, and a service
/// registering in it.
fn edge(tg: &str) -> Stack {
    let mut r = network();
    r[4] = res(
        tg,
        &TG,
        json!({
            "vpc": "${vpc.id}",
            "port": 8080,
            "health_check": {"path": "/health", "interval": 30}
        }),
    );
    let arn = format!("${{{tg}.arn}}");
    r.push(res(
        "https",
        &LISTENER,
        json!({"port": 443, "forward": arn}),
    ));
    r.push(res(
        "web",
        &SERVICE,
        json!({
            "desired_count": 2,
            "load_balancer": {"target_group": arn, "container": "app", "port": 8080}
        }),
    ));
    stack(r)
}

fn moved(mut s: Stack, from: &str, to: &str) -> Stack {
    s.moved.push(Moved {
        from: from.into(),
        to: to.into(),
        from_span: Default::default(),
        to_span: Default::default(),
    });
    s
}

fn world() -> FakeProvider {
    fake()
        .refusing_deletes_in_use()
        .with_latency(Duration::from_millis(100))
}

/// Apply `plan` to the state stored in `dir`; the report and the state after.
async fn apply_stored(
    plan: &Plan,
    dir: &std::path::Path,
    provider: Arc<dyn Provider>,
    opts: &ApplyOptions,
) -> (ApplyReport, State) {
    let backend = LocalBackend::new(dir, "demo");
    let mut state = common::stored(dir).await;
    let report = common::apply_quietly(plan, &mut state, &backend, provider, opts)
        .await
        .unwrap();
    (report, state)
}

/// `(method, type)` of every create, update and delete the fake saw.
fn changes_sent(fake: &FakeProvider) -> Vec<(Method, String)> {
    fake.calls()
        .into_iter()
        .filter(|c| matches!(c.method, Method::Create | Method::Update | Method::Delete))
        .map(|c| (c.method, c.rtype))
        .collect()
}

fn tag(fake: &FakeProvider, id: &str, key: &str) -> String {
    fake.objects()[id].inputs["tags"][key]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

#[tokio::test(start_paused = true)]
async fn a_moved_target_group_in_use_is_kept_and_only_its_name_tags_are_updated() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let (_, report, state) = converge(&edge("web_tg"), dir.path(), &fake, &opts).await;
    assert!(report.success(), "{report:?}");
    let id = state.resources["web_tg"].physical_id.clone();
    fake.clear_calls();

    // The key is renamed in the stack, with a `moved:` entry.
    let stack = moved(edge("api_tg"), "web_tg", "api_tg");
    // A saved plan made without the entry is not applied with it.
    assert_ne!(
        iac_engine::stack_hash(&stack),
        iac_engine::stack_hash(&edge("api_tg"))
    );
    let plan = plan_with(&stack, &state, &fake).await;
    let tg = plan.change("api_tg").expect("api_tg planned");
    assert_eq!(tg.action, Action::Update);
    assert_eq!(tg.moved_from.as_deref(), Some("web_tg"));
    assert_eq!(tg.physical_id.as_deref(), Some(id.as_str()));
    assert_eq!(tg.changed_paths, ["tags.Name", "tags.iac:name"]);
    // The AWS name iac derived from the old key stays the object's: no replacement.
    assert_eq!(
        tg.after.as_ref().unwrap().get("name"),
        Some(&Value::Str("demo-web-tg".into()))
    );
    for dependent in ["https", "web"] {
        assert_eq!(plan.change(dependent).unwrap().action, Action::NoOp);
    }
    assert!(plan.change("web_tg").is_none(), "no delete of the old name");
    assert_eq!(
        (plan.summary.add, plan.summary.destroy, plan.summary.replace),
        (0, 0, 0)
    );
    assert_eq!((plan.summary.moved, plan.summary.change), (1, 1));
    assert!(plan.has_changes());
    let shown = render_plan(&plan, false);
    assert!(shown.contains("web_tg -> api_tg (moved)"), "{shown}");
    insta::assert_snapshot!(shown);
    let md = render_markdown(&plan);
    assert!(md.contains("web_tg -&gt; api_tg (moved)"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let entry = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "api_tg")
        .unwrap();
    assert_eq!(entry["moved_from"], "web_tg");
    assert_eq!(json["summary"]["moved"], 1);

    let (_, report, state) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(report.done.moved, 1);
    assert_eq!(
        changes_sent(&fake),
        [(Method::Update, "aws.target_group".to_string())],
        "one in-place update, nothing created or deleted"
    );
    assert_eq!(state.resources["api_tg"].physical_id, id);
    assert_eq!(state.resources["api_tg"].former_names, ["web_tg"]);
    assert!(!state.resources.contains_key("web_tg"));
    assert_eq!(state.resources["https"].dependencies, ["api_tg"]);
    assert_eq!(tag(&fake, &id, "iac:name"), "api_tg");
    assert_eq!(tag(&fake, &id, "Name"), "demo-api_tg");

    // Converged: the entry may stay in the file and does nothing more.
    let again = plan_with(&stack, &state, &fake).await;
    assert!(!again.has_changes(), "{}", render_plan(&again, false));
}

#[tokio::test(start_paused = true)]
async fn a_move_is_recorded_before_any_call_so_an_apply_killed_midway_keeps_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let (_, _, state) = converge(&edge("web_tg"), dir.path(), &fake, &opts).await;
    let id = state.resources["web_tg"].physical_id.clone();

    let stack = moved(edge("api_tg"), "web_tg", "api_tg");
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = common::stored(dir.path()).await;
    let plan = plan_with(&stack, &state, &fake).await;
    // The tag update never answers: the process is killed while it is in flight.
    fake.hang(
        Method::Update,
        "aws.target_group",
        Duration::from_secs(3600),
    );
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let run = common::apply_quietly(&plan, &mut state, &backend, p, &opts);
    tokio::select! {
        r = run => panic!("the apply finished: {r:?}"),
        () = tokio::time::sleep(Duration::from_secs(60)) => {}
    }
    fake.clear_faults();

    // The journal holds the move: the object is the state's under its new name.
    let left = common::stored(dir.path()).await;
    assert_eq!(left.resources["api_tg"].physical_id, id);
    assert!(!left.resources.contains_key("web_tg"));
    assert_eq!(tag(&fake, &id, "iac:name"), "web_tg");

    // The next plan finishes the rename in place: nothing created, nothing deleted.
    fake.clear_calls();
    let plan = plan_with(&stack, &left, &fake).await;
    let tg = plan.change("api_tg").unwrap();
    assert_eq!(tg.action, Action::Update);
    assert_eq!(tg.moved_from, None, "already moved");
    assert_eq!(
        plan.summary.add + plan.summary.destroy + plan.summary.replace,
        0
    );
    let (_, report, state) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(tag(&fake, &id, "iac:name"), "api_tg");
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_moved_log_group_keeps_its_name_and_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let opts = ApplyOptions::default();
    let logs = |name: &str| stack(vec![res(name, &LOG, json!({"retention_days": 7}))]);
    let (_, _, state) = converge(&logs("logs"), dir.path(), &fake, &opts).await;
    let stack = moved(logs("app_logs"), "logs", "app_logs");
    let plan = plan_with(&stack, &state, &fake).await;
    let c = plan.change("app_logs").unwrap();
    assert_eq!(c.action, Action::Update, "{}", render_plan(&plan, false));
    assert_eq!(
        c.after.as_ref().unwrap().get("name"),
        Some(&Value::Str("/iac/demo/logs".into()))
    );
    assert!(plan.data_loss.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_move_the_state_cannot_take_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let (_, _, state) = converge(&edge("web_tg"), dir.path(), &fake, &opts).await;

    // The new name is a subnet: a move keeps the object, so the types must match.
    let mut r = network();
    r[1] = res(
        "web_tg",
        &SUBNET,
        json!({"vpc": "${vpc.id}", "cidr": "10.0.9.0/24", "az": "eu-west-1a"}),
    );
    r.remove(4);
    let wrong = moved(stack(r), "subnet_a", "web_tg");
    // `web_tg` is in the state and the stack: the entry is refused for both reasons; the
    // state holding both names is what is said.
    let err = plan_error(&wrong, &state, &fake).await;
    assert!(matches!(err, PlanError::Move { .. }), "{err}");
    assert!(err.to_string().contains("the state holds both"), "{err}");

    let mut r = network();
    r[4] = res(
        "api",
        &SUBNET,
        json!({"vpc": "${vpc.id}", "cidr": "10.0.9.0/24", "az": "eu-west-1a"}),
    );
    let wrong = moved(stack(r), "web_tg", "api");
    let err = plan_error(&wrong, &state, &fake).await;
    assert!(
        err.to_string().contains("the types must be the same"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn state_mv_renames_without_touching_aws_and_the_plan_updates_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let (_, _, _) = converge(&edge("web_tg"), dir.path(), &fake, &opts).await;
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = common::stored(dir.path()).await;
    let edit = state_ops::rename(&state, "web_tg", "api_tg").unwrap();
    state_ops::commit(&backend, &mut state, vec![edit])
        .await
        .unwrap();
    fake.clear_calls();
    let plan = plan_with(&edge("api_tg"), &common::stored(dir.path()).await, &fake).await;
    assert_eq!(plan.change("api_tg").unwrap().action, Action::Update);
    assert_eq!(
        plan.summary.add + plan.summary.destroy + plan.summary.replace,
        0
    );
    assert!(changes_sent(&fake).is_empty());
}

#[tokio::test(start_paused = true)]
async fn replace_requested_creates_the_new_object_before_deleting_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let stack = stack(network());
    let (_, _, state) = converge(&stack, dir.path(), &fake, &opts).await;
    let old = state.resources["web_sg"].physical_id.clone();
    fake.clear_calls();

    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let replace = PlanOptions {
        replace: vec!["web_sg".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan(&stack, &state, p.clone(), &replace)
        .await
        .unwrap();
    let sg = plan.change("web_sg").unwrap();
    assert_eq!(sg.action, Action::Replace);
    let rep = sg.replace.clone().unwrap();
    assert!(rep.requested && rep.forced_by.is_empty(), "{rep:?}");
    assert_eq!(rep.strategy, ReplaceStrategy::CreateBeforeDestroy);
    assert_eq!(plan.summary.replace, 1);
    let shown = render_plan(&plan, false);
    assert!(
        shown.contains("(replacement requested with --replace; create before destroy)"),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
    let md = render_markdown(&plan);
    assert!(
        md.contains("`web_sg` (aws.security_group) will be replaced (replacement requested with `--replace`)"),
        "{md}"
    );

    let (report, state) = apply_stored(&plan, dir.path(), p, &opts).await;
    assert!(report.success(), "{report:?}");
    let sent: Vec<Method> = changes_sent(&fake).into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        sent,
        [Method::Create, Method::Delete],
        "create before destroy"
    );
    let calls = fake.calls();
    let create = calls.iter().find(|c| c.method == Method::Create).unwrap();
    let delete = calls.iter().find(|c| c.method == Method::Delete).unwrap();
    assert!(create.finished.unwrap() <= delete.started);
    assert!(!fake.objects().contains_key(&old));
    assert_ne!(state.resources["web_sg"].physical_id, old);
    // Nothing forces a second one.
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn replace_of_a_target_group_in_use_takes_a_fresh_name_as_a_forced_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let stack = edge("web_tg");
    let (_, _, state) = converge(&stack, dir.path(), &fake, &opts).await;
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let replace = PlanOptions {
        replace: vec!["web_tg".into()],
        ..PlanOptions::default()
    };
    let plan = iac_engine::plan(&stack, &state, p.clone(), &replace)
        .await
        .unwrap();
    let rep = plan.change("web_tg").unwrap().replace.clone().unwrap();
    assert_eq!(rep.strategy, ReplaceStrategy::CreateBeforeDestroy);
    assert!(rep.new_name.unwrap().starts_with("demo-web-tg-"));
    assert_eq!(plan.change("https").unwrap().action, Action::Update);
    let (report, _) = apply_stored(&plan, dir.path(), p, &opts).await;
    assert!(report.success(), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn replace_of_an_unknown_name_fails_before_any_call() {
    let fake = world();
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    for (name, want) in [("nope", "names no resource"), ("zone", "`existing: true`")] {
        let mut r = network();
        r.push(res("zone", &ZONE, json!({"name": "example.com"})).existing());
        let opts = PlanOptions {
            replace: vec![name.into()],
            ..PlanOptions::default()
        };
        let err = iac_engine::plan(&stack(r), &State::new("demo"), p.clone(), &opts)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::UnknownReplace(_) | PlanError::ReplaceExisting(_)
            ),
            "{err}"
        );
        assert!(err.to_string().contains(want), "{err}");
    }
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test(start_paused = true)]
async fn forgotten_objects_are_left_alone_by_plans_and_by_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let stack = edge("web_tg");
    let (_, _, _) = converge(&stack, dir.path(), &fake, &opts).await;
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = common::stored(dir.path()).await;
    let tg = state.resources["web_tg"].physical_id.clone();
    let sg = state.resources["web_sg"].physical_id.clone();
    let (edits, forgotten) =
        state_ops::forget(&state, &["web_tg".into(), "web_sg".into()]).unwrap();
    assert_eq!(forgotten.len(), 2);
    state_ops::commit(&backend, &mut state, edits)
        .await
        .unwrap();
    fake.clear_calls();

    // Both are still in the stack: each is a create, never an adoption of the object left
    // behind (it keeps the stack's tags), and neither is an orphan.
    let plan = plan_with(&stack, &common::stored(dir.path()).await, &fake).await;
    for name in ["web_tg", "web_sg"] {
        assert_eq!(plan.change(name).unwrap().action, Action::Create, "{name}");
    }
    assert!(plan.orphans.is_empty(), "{:?}", plan.orphans);
    assert!(changes_sent(&fake).is_empty(), "planning changed nothing");
    // The forgotten target group still holds `demo-web-tg`: the new one gets a fresh name.
    let name = plan
        .change("web_tg")
        .unwrap()
        .after
        .as_ref()
        .unwrap()
        .get("name");
    match name {
        Some(Value::Str(n)) => assert!(n.starts_with("demo-web-tg-"), "{n}"),
        other => panic!("{other:?}"),
    }
    let (_, report, state) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert!(fake.objects().contains_key(&tg) && fake.objects().contains_key(&sg));
    assert_ne!(state.resources["web_tg"].physical_id, tg);

    // Destroy deletes what the stack has, and not what it forgot.
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let plan = plan_destroy_live(&stack, &state, p, &PlanOptions::default())
        .await
        .unwrap();
    let ids: Vec<&str> = plan
        .changes
        .iter()
        .filter_map(|c| c.physical_id.as_deref())
        .collect();
    assert!(
        !ids.contains(&tg.as_str()) && !ids.contains(&sg.as_str()),
        "{ids:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_forgotten_object_holding_a_name_the_stack_sets_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let mut r = network();
    r[4] = res(
        "web_tg",
        &TG,
        json!({"name": "shop-web", "vpc": "${vpc.id}", "port": 8080}),
    );
    let stack = stack(r);
    let (_, _, _) = converge(&stack, dir.path(), &fake, &opts).await;
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = common::stored(dir.path()).await;
    let (edits, _) = state_ops::forget(&state, &["web_tg".into()]).unwrap();
    state_ops::commit(&backend, &mut state, edits)
        .await
        .unwrap();
    let err = plan_error(&stack, &state, &fake).await;
    assert!(matches!(err, PlanError::NameHeld(_)), "{err}");
    assert!(
        err.to_string().contains("forgotten by `iac state rm`"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_lookup_finds_a_forgotten_object_leaves_it_alone() {
    // A subnet is found by its tags, which the forgotten one still has: when the create
    // of the new one fails, the lookup must not take the forgotten object for it.
    let dir = tempfile::tempdir().unwrap();
    let fake = world();
    let opts = ApplyOptions::default();
    let stack = stack(network());
    let (_, _, _) = converge(&stack, dir.path(), &fake, &opts).await;
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = common::stored(dir.path()).await;
    let old = state.resources["subnet_a"].physical_id.clone();
    let (edits, _) = state_ops::forget(&state, &["subnet_a".into()]).unwrap();
    state_ops::commit(&backend, &mut state, edits)
        .await
        .unwrap();
    fake.fail_nth(Method::Create, "aws.subnet", 1, ErrorKind::Fatal);
    let (_, report, state) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(!report.success());
    let (_, error) = report.failures()[0];
    assert!(error.contains("`iac state rm` forgot"), "{error}");
    assert!(!state.resources.contains_key("subnet_a"));
    assert!(fake.objects().contains_key(&old));
}
