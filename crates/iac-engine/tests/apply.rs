//! The apply walker on the fake provider: order, parallelism, a failure midway, locking,
//! saved plans and crash safety (throttling, timeouts, cancel and abort are in
//! apply_faults.rs). Tests run on tokio's paused clock, so the fake's latency is exact
//! virtual time and the assertions are on recorded instants, not wall-clock thresholds.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use iac_engine::fake::{Call, FakeProvider, Method};
use iac_engine::{
    plan_destroy, Action, ApplyError, ApplyOptions, ApplyReport, Edit, ErrorKind, Event,
    LocalBackend, LockInfo, OpKind, Outcome, Plan, PlanOptions, StalePlan, State, StateBackend,
    StateError, StateLock,
};
use serde_json::json;
use tokio::time::Instant;

const MS100: Duration = Duration::from_millis(100);

/// name -> (started, finished) of the calls of one method.
fn spans(calls: &[Call], method: Method) -> HashMap<String, (Instant, Instant)> {
    calls
        .iter()
        .filter(|c| c.method == method && c.error.is_none())
        .map(|c| (c.name.clone(), (c.started, c.finished.expect("finished"))))
        .collect()
}

async fn destroy(
    stack: &iac_stack::Stack,
    dir: &Path,
    fake: &FakeProvider,
) -> (Plan, iac_engine::ApplyReport, State) {
    let backend = LocalBackend::new(dir, &stack.name);
    let _lock = backend.lock("destroy").await.unwrap();
    let mut state = backend.load().await.unwrap().unwrap();
    let plan = plan_destroy(stack, &state, &PlanOptions::default()).unwrap();
    let report = apply_default(&plan, &mut state, &backend, fake)
        .await
        .unwrap();
    (plan, report, state)
}

/// Apply `plan` with the default options and no reporter.
async fn apply_default(
    plan: &Plan,
    state: &mut State,
    backend: &dyn StateBackend,
    fake: &FakeProvider,
) -> Result<ApplyReport, ApplyError> {
    common::apply_quietly(
        plan,
        state,
        backend,
        Arc::new(fake.clone()),
        &ApplyOptions::default(),
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn nothing_starts_before_its_dependencies_and_destroy_runs_in_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let stack = wide_stack();
    let (plan, _, _) = converged(&stack, dir.path(), &fake).await;
    let created = spans(&fake.calls(), Method::Create);
    assert_eq!(created.len(), 8);
    for c in &plan.changes {
        for d in &c.dependencies {
            assert!(
                created[&c.name].0 >= created[d].1,
                "`{}` started before its dependency `{d}` finished",
                c.name
            );
        }
    }

    let (dplan, report, state) = destroy(&stack, dir.path(), &fake).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(dplan.summary.destroy, 8);
    assert!(state.resources.is_empty());
    assert!(fake.objects().is_empty());
    let deleted = spans(&fake.calls(), Method::Delete);
    for c in &plan.changes {
        for d in &c.dependencies {
            assert!(
                deleted[d].0 >= deleted[&c.name].1,
                "`{d}` was deleted before its dependent `{}`",
                c.name
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn independent_chains_overlap_so_time_follows_the_longest_chain() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let (_, report, _) = converge(&wide_stack(), dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success());
    let calls = fake.calls_of(Method::Create);
    let first = calls.iter().map(|c| c.started).min().unwrap();
    let last = calls.iter().filter_map(|c| c.finished).max().unwrap();
    // 8 resources, longest chain 3: 3 x 100 ms, not 8 x 100 ms.
    assert_eq!(last - first, 3 * MS100);
    // vpc and zone start together; the four vpc dependents run at the same time.
    let s = spans(&calls, Method::Create);
    assert_eq!(s["vpc"].0, s["zone"].0);
    let a = s["subnet_a"];
    for n in ["subnet_b", "web_sg", "web_tg", "www"] {
        assert!(
            s[n].0 < a.1 && a.0 < s[n].1,
            "`{n}` did not overlap `subnet_a`"
        );
    }
    // The task starts when the target group finishes, not when the whole level does.
    assert_eq!(s["task"].0, s["web_tg"].1);

    // With one slot, everything is sequential.
    let dir = tempfile::tempdir().unwrap();
    let fake = common::fake().with_latency(MS100);
    let opts = ApplyOptions {
        parallelism: 1,
        ..ApplyOptions::default()
    };
    converge(&wide_stack(), dir.path(), &fake, &opts).await;
    let calls = fake.calls_of(Method::Create);
    let first = calls.iter().map(|c| c.started).min().unwrap();
    let last = calls.iter().filter_map(|c| c.finished).max().unwrap();
    assert_eq!(last - first, 8 * MS100);
}

#[tokio::test(start_paused = true)]
async fn a_failure_midway_keeps_exact_state_and_a_second_apply_converges() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let mut r = network();
    r.push(
        res(
            "db_sg",
            &SG,
            json!({"vpc": "${vpc.id}", "description": "db"}),
        )
        .depends_on(&["subnet_b"]),
    );
    let stack = stack(r);
    // subnet_a is the first subnet create, subnet_b the second.
    fake.fail_nth(Method::Create, "aws.subnet", 2, ErrorKind::Fatal);
    let (_, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(!report.success());
    assert_eq!(report.failures().len(), 1);
    assert_eq!(report.failures()[0].0, "subnet_b");
    assert_eq!(
        report.skipped,
        [("db_sg".to_string(), "`subnet_b` failed".to_string())]
    );
    // Independent work carried on.
    let on_disk = common::stored(dir.path()).await;
    assert_eq!(on_disk, state);
    let names: Vec<&str> = on_disk.resources.keys().map(String::as_str).collect();
    assert_eq!(names, ["subnet_a", "vpc", "web_sg", "web_tg"]);
    assert_state_matches_world(&on_disk, &fake);

    let (plan, _, state) = converged(&stack, dir.path(), &fake).await;
    assert_eq!(plan.summary.add, 2);
    assert_eq!(
        plan.summary.change + plan.summary.replace + plan.summary.destroy,
        0
    );
    assert_state_matches_world(&state, &fake);
    for name in stack.resources.keys() {
        assert_eq!(fake.objects_named(name).len(), 1, "`{name}` duplicated");
    }
    let again = plan_with(&stack, &state, &fake).await;
    assert!(!again.has_changes());
}

#[tokio::test(start_paused = true)]
async fn two_applies_on_one_stack_cannot_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let stack = stack(network());
    let opts = ApplyOptions::default();
    let (a, b) = tokio::join!(try_converge(&stack, dir.path(), &fake, &opts), async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        try_converge(&stack, dir.path(), &fake, &opts).await
    });
    let (_, report, _) = a.expect("the first apply holds the lock");
    assert!(report.success());
    match b {
        Err(StateError::Locked { holder, stack }) => {
            assert_eq!(stack, "demo");
            assert_eq!(holder.pid, std::process::id());
            assert_eq!(holder.operation, "apply");
        }
        other => panic!("expected the lock error, got {:?}", other.map(|_| ())),
    }
    // Once the first is done, the lock is free again.
    let (plan, _, _) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(!plan.has_changes());
}

#[tokio::test]
async fn a_saved_plan_is_refused_once_the_state_moved_on() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let backend = LocalBackend::new(dir.path(), "demo");
    let stack = stack(network());
    let state = State::new("demo");
    // Saved before the first apply: applies fine to a fresh state (after a round trip).
    let saved = Plan::from_json(&plan_with(&stack, &state, &fake).await.to_json()).unwrap();
    let mut fresh = State::new("demo");
    let report = apply_default(&saved, &mut fresh, &backend, &fake)
        .await
        .unwrap();
    assert!(report.success());
    assert_eq!(fresh.lineage, saved.state_lineage);

    // The same plan again: the state's serial moved on.
    let err = apply_default(&saved, &mut fresh, &backend, &fake)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyError::Stale(StalePlan::Serial { plan: 0, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("make a new plan"));

    // A plan made against another state of the same name.
    let mut elsewhere = State::new("demo");
    elsewhere.serial = fresh.serial;
    let other = plan_with(&stack, &elsewhere, &fake).await;
    let err = apply_default(&other, &mut fresh, &backend, &fake)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyError::Stale(StalePlan::Lineage { .. })),
        "{err}"
    );

    // And one made from another version of the stack.
    let plan = plan_with(&stack, &fresh, &fake).await;
    let mut changed = network();
    changed.pop();
    assert_eq!(plan.check_stack(&stack), Ok(()));
    assert_eq!(
        plan.check_stack(&common::stack(changed)),
        Err(StalePlan::Stack)
    );
}

/// Checks what is durable after every commit (the state file plus its journal, loaded as
/// the next run would) and after the final save (the file alone, the journal folded).
struct CheckingBackend {
    inner: LocalBackend,
    seen: Mutex<Vec<State>>,
    saves: Mutex<usize>,
}

#[async_trait]
impl StateBackend for CheckingBackend {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        self.inner.load().await
    }
    async fn save(&self, state: &State) -> Result<(), StateError> {
        self.inner.save(state).await?;
        let on_disk =
            State::from_json(&std::fs::read_to_string(self.inner.path()).unwrap()).unwrap();
        assert_eq!(&on_disk, state);
        assert!(
            !self.inner.journal_path().exists(),
            "the journal is folded into the state file"
        );
        *self.saves.lock().unwrap() += 1;
        Ok(())
    }
    async fn commit(&self, state: &State, edits: &[Edit]) -> Result<(), StateError> {
        self.inner.commit(state, edits).await?;
        let durable = self.inner.load().await?.expect("a state after a commit");
        assert_eq!(&durable, state);
        let mut seen = self.seen.lock().unwrap();
        if let Some(prev) = seen.last() {
            assert_eq!(durable.serial, prev.serial + 1);
        }
        seen.push(durable);
        Ok(())
    }
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        self.inner.lock(operation).await
    }
    async fn force_unlock(&self, id: &str) -> Result<Option<LockInfo>, StateError> {
        self.inner.force_unlock(id).await
    }
}

#[tokio::test(start_paused = true)]
async fn the_state_is_saved_valid_after_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let backend = CheckingBackend {
        inner: LocalBackend::new(dir.path(), "demo"),
        seen: Mutex::new(Vec::new()),
        saves: Mutex::new(0),
    };
    let stack = stack_with_outputs(
        network(),
        &[("vpc_id", "${vpc.id}"), ("tg", "arn=${web_tg.arn}")],
    );
    let mut state = State::new("demo");
    let plan = plan_with(&stack, &state, &fake).await;
    let report = apply_default(&plan, &mut state, &backend, &fake)
        .await
        .unwrap();
    assert!(report.success());
    let seen = backend.seen.lock().unwrap().clone();
    // Two commits per create: its intent before the call, its object after (which ends
    // the intent); then one save of the whole state, with the outputs.
    assert_eq!(seen.len(), 10);
    let mut objects = 0;
    for s in &seen {
        assert!(s.resources.len() >= objects, "an object was lost");
        objects = s.resources.len();
        // Every create the cloud may be working on is in the state, as an object or an intent.
        assert!(s.pending.len() <= 5);
    }
    assert_eq!(objects, 5);
    assert!(seen.last().unwrap().pending.is_empty());
    assert_eq!(*backend.saves.lock().unwrap(), 1);
    assert_eq!(state.outputs["vpc_id"], json!("vpc-0001"));
    assert_eq!(
        report.outputs["tg"],
        json!("arn=arn:aws:fake:aws.target_group/web_tg/0001")
    );
    assert_eq!(state.outputs, report.outputs);
}

#[tokio::test(start_paused = true)]
async fn replacement_orders_create_and_delete_by_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    converge(
        &stack(network()),
        dir.path(),
        &fake,
        &ApplyOptions::default(),
    )
    .await;
    fake.clear_calls();
    let mut r = network();
    r[0].props
        .insert("cidr".into(), value(json!("10.1.0.0/16")));
    let stack = stack(r);
    let (plan, report, state) = converged(&stack, dir.path(), &fake).await;
    assert_eq!(plan.summary.replace, 5);
    assert_eq!(report.done.replace, 5);
    let calls = fake.calls();
    let created = spans(&calls, Method::Create);
    let deleted = spans(&calls, Method::Delete);
    // Create before destroy: the new VPC and subnets exist before the old ones go, and
    // the old VPC goes only after everything that used it moved or went.
    assert!(created["vpc"].1 <= created["subnet_a"].0);
    assert!(created["subnet_a"].1 <= deleted["subnet_a"].0);
    for n in ["subnet_a", "subnet_b", "web_sg", "web_tg"] {
        assert!(
            deleted[n].1 <= deleted["vpc"].0,
            "old `{n}` outlived the old vpc"
        );
        assert!(
            created[n].1 <= deleted["vpc"].0,
            "new `{n}` came after the old vpc went"
        );
    }
    // The target group's name is iac's to choose: the new one gets a fresh name, so it
    // too is created before the old one goes (the fake refuses a create under a name a
    // live target group holds).
    assert!(created["web_tg"].1 <= deleted["web_tg"].0);
    assert_ne!(
        state.resources["web_tg"].inputs["name"],
        json!("demo-web-tg"),
        "the new target group needs a fresh name"
    );
    assert!(state.deposed.is_empty());
    assert_state_matches_world(&state, &fake);
    assert_eq!(fake.objects().len(), 5);
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_replacement_leaves_a_deposed_object_the_next_apply_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    converge(
        &stack(vec![network().remove(0)]),
        dir.path(),
        &fake,
        &ApplyOptions::default(),
    )
    .await;
    let mut vpc = network().remove(0);
    vpc.props.insert("cidr".into(), value(json!("10.1.0.0/16")));
    let stack = stack(vec![vpc]);
    fake.fail_nth(Method::Delete, "aws.vpc", 1, ErrorKind::Dependency);
    let (_, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert_eq!(report.failures().len(), 1);
    assert_eq!(state.deposed.len(), 1);
    assert_eq!(fake.objects().len(), 2);
    assert_state_matches_world(&state, &fake);

    let (plan, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    let deposed: Vec<_> = plan.changes.iter().filter(|c| c.deposed).collect();
    assert_eq!(deposed.len(), 1);
    assert_eq!(deposed[0].action, Action::Delete);
    assert!(report.success(), "{report:?}");
    assert!(state.deposed.is_empty());
    assert_eq!(fake.objects().len(), 1);
}

#[tokio::test]
async fn existing_resources_are_recorded_and_only_forgotten_on_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let zone_id = fake.seed("aws.hosted_zone", "zone", json!({"name": "example.com"}));
    let stack = stack(existing_zone_and_record());
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    assert!(state.resources["zone"].existing);
    assert_eq!(state.resources["www"].inputs["zone"], json!(zone_id));
    let (plan, report, state) = destroy(&stack, dir.path(), &fake).await;
    assert_eq!(plan.summary.destroy, 1);
    assert!(report.success());
    assert!(state.resources.is_empty());
    assert!(
        fake.objects().contains_key(&zone_id),
        "an existing zone was deleted"
    );
    assert_eq!(fake.objects().len(), 1);
}

#[tokio::test]
async fn reporter_hears_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.fail_nth(Method::Create, "aws.vpc", 1, ErrorKind::Conflict);
    let backend = LocalBackend::new(dir.path(), "demo");
    let stack = stack(network());
    let mut state = State::new("demo");
    let plan = plan_with(&stack, &state, &fake).await;
    let (report, rec) = apply_recorded(&plan, &mut state, &backend, &fake).await;
    let events = rec.events();
    assert_eq!(events[0], Event::Started("vpc".into(), OpKind::Create));
    assert!(
        matches!(&events[1], Event::Finished(n, OpKind::Create, Outcome::Failed { error }) if n == "vpc" && error.contains("Conflict"))
    );
    let skipped: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Skipped(..)))
        .collect();
    assert_eq!(skipped.len(), 4);
    assert_eq!(report.skipped.len(), 4);
}

#[tokio::test]
async fn a_type_change_deletes_the_old_object_before_creating_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    converge(
        &stack(vec![res("thing", &VPC, json!({"cidr": "10.0.0.0/16"}))]),
        dir.path(),
        &fake,
        &ApplyOptions::default(),
    )
    .await;
    let stack = stack(vec![res("thing", &ZONE, json!({"name": "example.com"}))]);
    let (plan, _, state) = converged(&stack, dir.path(), &fake).await;
    let actions: Vec<Action> = plan.changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, [Action::Delete, Action::Create]);
    let calls = fake.calls();
    let ops: Vec<(Method, &str)> = calls.iter().map(|c| (c.method, c.rtype.as_str())).collect();
    assert_eq!(
        ops,
        [
            (Method::Create, "aws.vpc"),
            (Method::Read, "aws.vpc"),
            (Method::Delete, "aws.vpc"),
            (Method::Create, "aws.hosted_zone")
        ]
    );
    assert_eq!(state.resources["thing"].rtype, "aws.hosted_zone");
    assert_state_matches_world(&state, &fake);
}

/// An update starts from the live values the plan read, so drift made outside iac is in the
/// provider's diff and put back; from the last applied values it would be invisible to it.
#[tokio::test]
async fn apply_puts_drift_back() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let opts = iac_engine::ApplyOptions::default();
    let (_, report, state) = converge(&stack(network()), dir.path(), &fake, &opts).await;
    assert!(report.success());
    let vpc = state.resources["vpc"].physical_id.clone();
    fake.mutate(&vpc, |o| o.inputs["dns_hostnames"] = json!(false));

    let (plan, report, state) = converge(&stack(network()), dir.path(), &fake, &opts).await;
    assert!(report.success());
    assert_eq!(plan.change("vpc").unwrap().action, Action::Update);
    assert_eq!(
        fake.objects_named("vpc")[0].1.inputs["dns_hostnames"],
        json!(true)
    );
    let again = plan_with(&stack(network()), &state, &fake).await;
    assert!(
        !again.has_changes(),
        "{}",
        iac_engine::render_plan(&again, false)
    );
}
