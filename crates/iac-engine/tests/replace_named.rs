//! Replacing a resource with a unique AWS name that others point at (issue 5 item 6): a
//! target group a listener and a service use. AWS refuses to delete a target group in use
//! and to create a second one under the same name, so a name iac chose changes (create the
//! new one under a fresh name, move the dependents, delete the old one), and a name the
//! stack sets means destroy-before-create, said in the plan. The fake refuses both a
//! clashing name and deleting a target group in use, so a wrong order fails these tests.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{
    render_plan, Action, ApplyOptions, ErrorKind, OpContext, Plan, Provider, ReplaceStrategy,
};
use serde_json::json;

/// The network, a listener forwarding to the target group, and a service registering in
/// it; the target group on `port`, named by the stack when `name` is given.
fn edge(port: u16, name: Option<&str>) -> iac_stack::Stack {
    let mut r = network();
    let mut tg = json!({
        "vpc": "${vpc.id}",
        "port": port,
        "health_check": {"path": "/health", "interval": 30}
    });
    if let Some(n) = name {
        tg["name"] = json!(n);
    }
    r[4] = res("web_tg", &TG, tg);
    r.push(res(
        "https",
        &LISTENER,
        json!({"port": 443, "forward": "${web_tg.arn}"}),
    ));
    r.push(res(
        "web",
        &SERVICE,
        json!({
            "desired_count": 2,
            "load_balancer": {"target_group": "${web_tg.arn}", "container": "app", "port": port}
        }),
    ));
    stack(r)
}

/// A fake that refuses deletes of objects in use and records the AWS names of target
/// groups as they are created and the ids of target groups as they are deleted.
struct Recorder {
    fake: FakeProvider,
    /// `create NAME` / `delete ID` for target groups, plus `update NAME` for everything,
    /// in the order the calls reached the fake.
    log: Arc<Mutex<Vec<String>>>,
}

fn recorder() -> Recorder {
    let fake = fake()
        .refusing_deletes_in_use()
        .with_latency(Duration::from_millis(100));
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    fake.on_create(move |rtype, _name, inputs| {
        if rtype == "aws.target_group" {
            let n = inputs["name"].as_str().unwrap_or("?");
            l.lock().unwrap().push(format!("create tg {n}"));
        }
        None
    });
    let l = log.clone();
    fake.on_update(move |rtype, _id, _inputs| {
        l.lock().unwrap().push(format!("update {rtype}"));
        None
    });
    let l = log.clone();
    fake.on_delete(move |rtype, _name, id| {
        if rtype == "aws.target_group" {
            l.lock().unwrap().push(format!("delete tg {id}"));
        }
        None
    });
    Recorder { fake, log }
}

impl Recorder {
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
    /// The AWS names of the live target groups.
    fn tg_names(&self) -> Vec<String> {
        self.fake
            .objects()
            .values()
            .filter(|o| o.rtype == "aws.target_group")
            .map(|o| o.inputs["name"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

fn tg_replacement(plan: &Plan) -> iac_engine::Replacement {
    let c = plan.change("web_tg").expect("web_tg in the plan");
    assert_eq!(c.action, Action::Replace);
    c.replace.clone().expect("replace details")
}

#[tokio::test(start_paused = true)]
async fn a_target_group_in_use_is_replaced_under_a_fresh_name_and_the_old_one_goes_last() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder();
    let opts = ApplyOptions::default();
    let (_, report, state) = converge(&edge(8080, None), dir.path(), &rec.fake, &opts).await;
    assert!(report.success(), "{report:?}");
    let old_id = state.resources["web_tg"].physical_id.clone();
    assert_eq!(rec.tg_names(), ["demo-web-tg"]);
    rec.take_log();

    // The port changes: the target group must be replaced.
    let stack = edge(9090, None);
    let plan = plan_with(&stack, &state, &rec.fake).await;
    let rep = tg_replacement(&plan);
    assert_eq!(rep.forced_by, ["port"]);
    assert_eq!(rep.strategy, ReplaceStrategy::CreateBeforeDestroy);
    let fresh = rep.new_name.clone().expect("a fresh name");
    assert!(
        fresh.starts_with("demo-web-tg-") && fresh.len() == "demo-web-tg-".len() + 6,
        "{fresh}"
    );
    let tg = plan.change("web_tg").unwrap();
    assert_eq!(
        tg.after.as_ref().unwrap().get("name"),
        Some(&iac_stack::Value::Str(fresh.clone()))
    );
    // The listener and the service point at the new one: unknown until apply, moved in
    // place.
    let https = plan.change("https").unwrap();
    assert_eq!(https.action, Action::Update);
    assert_eq!(https.changed_paths, ["forward"]);
    assert!(!https
        .after
        .as_ref()
        .unwrap()
        .get("forward")
        .unwrap()
        .is_known());
    let web = plan.change("web").unwrap();
    assert_eq!(web.action, Action::Update);
    assert_eq!(
        web.changed_paths,
        ["load_balancer.target_group", "load_balancer.port"]
    );
    assert_eq!(plan.summary.replace, 1);
    assert_eq!(plan.summary.change, 2);
    insta::assert_snapshot!(render_plan(&plan, false));

    // The saved plan says the same.
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let tg_json = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web_tg")
        .unwrap();
    assert_eq!(
        tg_json["replace"],
        json!({"forced_by": ["port"], "strategy": "create_before_destroy", "new_name": fresh})
    );
    assert_eq!(tg_json["after"]["name"], json!(fresh));
    // The name is deterministic: planning again picks the same one.
    let again = plan_with(&stack, &state, &rec.fake).await;
    assert_eq!(tg_replacement(&again).new_name.as_deref(), Some(&*fresh));

    // Apply: the new target group, then the dependents move, then the old one goes.
    let (applied, report, state) = converge(&stack, dir.path(), &rec.fake, &opts).await;
    assert_eq!(applied, plan);
    assert!(report.success(), "{report:?}");
    let log = rec.take_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[0], format!("create tg {fresh}"));
    let mut moved = log[1..3].to_vec();
    moved.sort();
    assert_eq!(moved, ["update aws.ecs_service", "update aws.listener"]);
    assert_eq!(log[3], format!("delete tg {old_id}"));
    // Each step waited for the one before to finish, not only to start.
    let calls = rec.fake.calls();
    let finished = |m: Method, rtype: &str| {
        calls
            .iter()
            .filter(|c| c.method == m && c.rtype == rtype)
            .map(|c| c.finished.unwrap())
            .max()
            .unwrap()
    };
    let delete_started = calls
        .iter()
        .find(|c| c.method == Method::Delete)
        .unwrap()
        .started;
    assert!(finished(Method::Update, "aws.listener") <= delete_started);
    assert!(finished(Method::Update, "aws.ecs_service") <= delete_started);

    assert_eq!(state.resources["web_tg"].inputs["name"], json!(fresh));
    assert!(state.deposed.is_empty());
    let new_arn = state.resources["web_tg"].attrs["arn"].clone();
    assert_eq!(state.resources["https"].inputs["forward"], new_arn);
    assert_eq!(rec.tg_names(), [fresh.as_str()]);

    // The fresh name is now the name: no rename back.
    let plan = plan_with(&stack, &state, &rec.fake).await;
    assert!(!plan.has_changes(), "{}", render_plan(&plan, false));

    // Another port change alternates back to the base name.
    let stack = edge(7070, None);
    let plan = plan_with(&stack, &state, &rec.fake).await;
    let rep = tg_replacement(&plan);
    assert_eq!(rep.strategy, ReplaceStrategy::CreateBeforeDestroy);
    assert_eq!(rep.new_name.as_deref(), Some("demo-web-tg"));
    let (_, report, state) = converge(&stack, dir.path(), &rec.fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(rec.tg_names(), ["demo-web-tg"]);
    assert_eq!(
        state.resources["web_tg"].inputs["name"],
        json!("demo-web-tg")
    );
    assert!(!plan_with(&stack, &state, &rec.fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_name_set_in_the_stack_is_replaced_destroy_before_create_and_the_plan_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder();
    let opts = ApplyOptions::default();
    // Only the target group: with a listener on it, AWS would refuse the delete.
    let only_tg = |port| {
        let mut s = edge(port, Some("web"));
        s.resources.shift_remove("https");
        s.resources.shift_remove("web");
        s
    };
    let (_, report, state) = converge(&only_tg(8080), dir.path(), &rec.fake, &opts).await;
    assert!(report.success(), "{report:?}");
    let old_id = state.resources["web_tg"].physical_id.clone();
    rec.take_log();

    let stack = only_tg(9090);
    let plan = plan_with(&stack, &state, &rec.fake).await;
    let rep = tg_replacement(&plan);
    assert_eq!(rep.strategy, ReplaceStrategy::DestroyBeforeCreate);
    assert_eq!(
        rep.because.as_deref(),
        Some("`name` is set in the stack: AWS allows one target group of that name")
    );
    assert_eq!(rep.new_name, None);
    insta::assert_snapshot!(render_plan(&plan, false));

    let (_, report, state) = converge(&stack, dir.path(), &rec.fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(
        rec.take_log(),
        [format!("delete tg {old_id}"), "create tg web".to_string()]
    );
    assert_eq!(rec.tg_names(), ["web"]);
    assert!(!plan_with(&stack, &state, &rec.fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_move_deletes_the_old_target_group_only_after_the_listener_moved() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder();
    let opts = ApplyOptions::default();
    converge(&edge(8080, None), dir.path(), &rec.fake, &opts).await;
    rec.take_log();

    // The listener cannot move: the old target group stays (deposed), still in use.
    rec.fake
        .fail_nth(Method::Update, "aws.listener", 1, ErrorKind::Fatal);
    let stack = edge(9090, None);
    let (_, report, state) = converge(&stack, dir.path(), &rec.fake, &opts).await;
    assert_eq!(report.failures().len(), 1, "{report:?}");
    assert!(report.skipped.iter().any(|(n, _)| n == "web_tg"));
    assert_eq!(state.deposed.len(), 1);
    let old_id = state.deposed[0].physical_id.clone();
    assert_eq!(rec.tg_names().len(), 2);
    rec.take_log();

    // The next plan keeps the fresh name, moves the listener and then deletes the old one.
    let plan = plan_with(&stack, &state, &rec.fake).await;
    assert_eq!(plan.change("web_tg").unwrap().action, Action::NoOp);
    assert_eq!(plan.change("https").unwrap().action, Action::Update);
    let deposed: Vec<_> = plan.changes.iter().filter(|c| c.deposed).collect();
    assert_eq!(deposed.len(), 1);
    assert_eq!(deposed[0].physical_id.as_deref(), Some(old_id.as_str()));
    let (_, report, state) = converge(&stack, dir.path(), &rec.fake, &opts).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(
        rec.take_log(),
        [
            "update aws.listener".to_string(),
            format!("delete tg {old_id}")
        ]
    );
    assert!(state.deposed.is_empty());
    assert_eq!(rec.tg_names().len(), 1);
    assert!(!plan_with(&stack, &state, &rec.fake).await.has_changes());
}

#[tokio::test]
async fn a_name_the_loader_filled_in_counts_as_iacs_to_choose() {
    // The loader writes the default into `props` and lists it in `defaulted`.
    let loaded = |port| {
        let mut s = edge(port, Some("demo-web-tg"));
        s.resources["web_tg"].defaulted = vec!["name".into()];
        s
    };
    let dir = tempfile::tempdir().unwrap();
    let rec = recorder();
    let (_, _, state) = converged(&loaded(8080), dir.path(), &rec.fake).await;
    let plan = plan_with(&loaded(9090), &state, &rec.fake).await;
    let rep = tg_replacement(&plan);
    assert_eq!(rep.strategy, ReplaceStrategy::CreateBeforeDestroy);
    assert!(rep.new_name.unwrap().starts_with("demo-web-tg-"));
}

#[tokio::test]
async fn the_fake_refuses_a_taken_name_and_deleting_a_target_group_in_use() {
    let fake = fake().refusing_deletes_in_use();
    let p: &dyn Provider = &fake;
    let ctx = OpContext::new("t", Arc::new(iac_engine::NullReporter));
    let tg = p
        .create(
            &ctx,
            "aws.target_group",
            "a",
            &json!({"name": "web", "port": 80}),
        )
        .await
        .unwrap();
    let clash = p
        .create(
            &ctx,
            "aws.target_group",
            "b",
            &json!({"name": "web", "port": 81}),
        )
        .await
        .unwrap_err();
    assert_eq!(clash.kind, ErrorKind::Conflict);
    assert!(clash.message.contains("`web`"), "{}", clash.message);
    // Another type may use the name.
    p.create(&ctx, "aws.ecs_service", "s", &json!({"name": "web"}))
        .await
        .unwrap();

    let arn = tg.attrs["arn"].as_str().unwrap().to_string();
    let listener = p
        .create(
            &ctx,
            "aws.listener",
            "l",
            &json!({"port": 443, "forward": arn}),
        )
        .await
        .unwrap();
    let busy = p
        .delete(&ctx, "aws.target_group", "a", &tg.physical_id, &json!({}))
        .await
        .unwrap_err();
    assert_eq!(busy.kind, ErrorKind::Dependency);
    assert!(busy.message.contains("in use"), "{}", busy.message);
    p.delete(&ctx, "aws.listener", "l", &listener.physical_id, &json!({}))
        .await
        .unwrap();
    p.delete(&ctx, "aws.target_group", "a", &tg.physical_id, &json!({}))
        .await
        .unwrap();
    assert!(!fake
        .objects()
        .values()
        .any(|o| o.rtype == "aws.target_group"));
}
