//! Crash safety and ownership on the fake provider: partial success ("created, then the
//! answer was lost", "created, then a later step failed", "the process died after N calls"),
//! an object of someone else under the stack's name, and interruptions. Each test fails if
//! the journal of intents, the lookup of what a failed create made, or the ownership check
//! is taken away: the failure shows as a duplicate object, a lost one, or a foreign object
//! touched.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{
    plan_destroy_live, Action, ApplyOptions, CancelToken, IntentOp, LocalBackend, PlanOptions,
    Provider, State,
};
use serde_json::json;

const MS100: Duration = Duration::from_millis(100);

/// Every resource of `stack` exists exactly once in the fake world.
fn each_exactly_once(stack: &iac_stack::Stack, fake: &FakeProvider, when: &str) {
    for name in stack.resources.keys() {
        let n = fake.objects_named(name).len();
        assert_eq!(n, 1, "{when}: `{name}` exists {n} times");
    }
}

/// Destroy what the state (and its intents) knows, as `iac destroy` does.
async fn destroy(stack: &iac_stack::Stack, dir: &Path, fake: &FakeProvider) {
    let backend = LocalBackend::new(dir, "demo");
    let mut state = common::stored_or_new(dir).await;
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let plan = plan_destroy_live(stack, &state, p.clone(), &PlanOptions::default())
        .await
        .expect("plan destroy");
    let report = common::apply_quietly(&plan, &mut state, &backend, p, &ApplyOptions::default())
        .await
        .expect("destroy");
    assert!(report.success(), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_answer_keeps_the_one_object_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let stack = stack(network());
    fake.lose_create_answer("aws.vpc", 1);
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the apply");
    // The create was not blindly sent again: the lookup found the object it had made.
    let vpc_creates = fake
        .calls_of(Method::Create)
        .into_iter()
        .filter(|c| c.name == "vpc")
        .count();
    assert_eq!(vpc_creates, 1);
    assert_eq!(
        fake.calls_of(Method::Find)
            .iter()
            .filter(|c| c.name == "vpc")
            .count(),
        1
    );
    assert_eq!(state.resources["vpc"].physical_id, "vpc-0001");
    assert!(!state.resources["vpc"].incomplete);
    assert!(state.pending.is_empty());
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_later_step_failed_is_kept_and_finished_by_the_next_apply() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let stack = stack(network());
    fake.fail_after_create("aws.security_group", 1);
    let (_, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report:?}");
    assert_eq!(failures[0].0, "web_sg");
    assert!(
        failures[0].1.contains("kept in the state as incomplete"),
        "{failures:?}"
    );
    // Saved at once, never forgotten.
    let sg = &common::stored_or_new(dir.path()).await.resources["web_sg"];
    assert!(sg.incomplete);
    assert_eq!(sg.physical_id, state.resources["web_sg"].physical_id);
    let (id, half) = fake.objects_named("web_sg").remove(0);
    assert!(half.inputs.get("ingress").is_none(), "{half:?}");

    let plan = plan_with(&stack, &state, &fake).await;
    let c = plan.change("web_sg").unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.reason.as_deref(), Some("finishing an interrupted create"));
    assert!(c.changed_paths.iter().any(|p| p == "ingress"), "{c:?}");
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the second apply");
    let done = &fake.objects()[&id];
    assert_eq!(
        done.inputs["ingress"],
        json!([{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}])
    );
    assert!(!state.resources["web_sg"].incomplete);
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

/// Runs an apply of the plan for `stack` on the state stored in `dir` until the fake
/// "dies"; what a killed process leaves is what is stored.
async fn apply_until_death(stack: &iac_stack::Stack, dir: &Path, fake: &FakeProvider) -> bool {
    let backend = LocalBackend::new(dir, "demo");
    let mut state = common::stored_or_new(dir).await;
    let plan = plan_with(stack, &state, fake).await;
    let opts = ApplyOptions {
        parallelism: 3,
        ..ApplyOptions::default()
    };
    let run = common::apply_quietly(&plan, &mut state, &backend, Arc::new(fake.clone()), &opts);
    tokio::select! {
        r = run => { r.expect("apply"); false }
        () = fake.died() => true,
    }
}

#[tokio::test(start_paused = true)]
async fn a_process_killed_after_any_call_of_an_apply_loses_and_duplicates_nothing() {
    let stack = stack(network());
    // Five creates: kill the process right after AWS acted on each of them in turn.
    for n in 1..=5 {
        let dir = tempfile::tempdir().unwrap();
        let fake = fake().with_latency(MS100);
        fake.die_after(n);
        assert!(
            apply_until_death(&stack, dir.path(), &fake).await,
            "call {n} never came"
        );
        fake.clear_faults();
        let left = common::stored_or_new(dir.path()).await;
        // The call that took effect and never answered is an intent in the stored state.
        assert!(
            left.pending.iter().any(|i| i.op == IntentOp::Create),
            "kill after call {n}: no intent recorded: {left:?}"
        );
        let plan = plan_with(&stack, &left, &fake).await;
        assert!(
            plan.summary.adopt >= 1,
            "kill after call {n}: nothing adopted: {plan:#?}"
        );
        let (_, report, state) =
            converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
        assert!(report.success(), "kill after call {n}: {report:?}");
        each_exactly_once(&stack, &fake, &format!("kill after call {n}"));
        assert!(state.pending.is_empty());
        assert!(
            !plan_with(&stack, &state, &fake).await.has_changes(),
            "kill after call {n}: the re-plan is not clean"
        );
        destroy(&stack, dir.path(), &fake).await;
        assert!(
            fake.objects().is_empty(),
            "kill after call {n}: {:?}",
            fake.objects()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_process_killed_after_any_call_of_a_destroy_leaves_nothing_behind() {
    let stack = stack(network());
    for n in 1..=5 {
        let dir = tempfile::tempdir().unwrap();
        let fake = fake().with_latency(MS100);
        let (_, report, _) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
        assert!(report.success());
        fake.die_after(n);
        let backend = LocalBackend::new(dir.path(), "demo");
        let mut state = common::stored_or_new(dir.path()).await;
        let p: Arc<dyn Provider> = Arc::new(fake.clone());
        let plan = plan_destroy_live(&stack, &state, p.clone(), &PlanOptions::default())
            .await
            .unwrap();
        let opts = ApplyOptions::default();
        let run = common::apply_quietly(&plan, &mut state, &backend, p, &opts);
        tokio::select! {
            r = run => panic!("destroy finished before call {n}: {r:?}"),
            () = fake.died() => {}
        }
        fake.clear_faults();
        destroy(&stack, dir.path(), &fake).await;
        assert!(
            fake.objects().is_empty(),
            "kill after call {n}: {:?}",
            fake.objects()
        );
        assert!(common::stored_or_new(dir.path()).await.resources.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_destroy_after_a_killed_apply_deletes_what_it_made_too() {
    let stack = stack(network());
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    fake.die_after(1);
    assert!(apply_until_death(&stack, dir.path(), &fake).await);
    fake.clear_faults();
    assert_eq!(fake.objects().len(), 1, "the VPC was made");
    assert!(common::stored_or_new(dir.path()).await.resources.is_empty());
    destroy(&stack, dir.path(), &fake).await;
    assert!(fake.objects().is_empty(), "{:?}", fake.objects());
    assert!(common::stored_or_new(dir.path()).await.pending.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_replacement_killed_after_its_create_adopts_the_new_object() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let first = stack(network());
    let (_, report, _) = converge(&first, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success());
    let old_tg = common::stored_or_new(dir.path()).await.resources["web_tg"]
        .physical_id
        .clone();
    // A new port replaces the target group, create before destroy, under a fresh name.
    let mut resources = network();
    resources[4] = res(
        "web_tg",
        &TG,
        json!({"vpc": "${vpc.id}", "port": 9090, "health_check": {"path": "/health", "interval": 30}}),
    );
    let second = stack(resources);
    fake.die_after(1);
    assert!(apply_until_death(&second, dir.path(), &fake).await);
    fake.clear_faults();
    assert_eq!(fake.objects_named("web_tg").len(), 2);
    let left = common::stored_or_new(dir.path()).await;
    let plan = plan_with(&second, &left, &fake).await;
    let adopt = plan
        .changes
        .iter()
        .find(|c| c.name == "web_tg" && !c.deposed)
        .unwrap();
    assert_eq!(adopt.action, Action::Adopt, "{plan:#?}");
    assert!(plan
        .changes
        .iter()
        .any(|c| c.deposed && c.physical_id.as_deref() == Some(old_tg.as_str())));
    let (_, _, state) = converged(&second, dir.path(), &fake).await;
    each_exactly_once(&second, &fake, "after the replacement");
    assert!(!fake.objects().contains_key(&old_tg));
    assert!(!plan_with(&second, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn an_object_of_someone_else_under_the_stacks_name_is_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let name = iac_stack::schema::aws_name("demo", "web_tg", 32);
    let theirs =
        json!({"name": name, "vpc": "vpc-theirs", "port": 8080, "tags": {"team": "payments"}});
    let id = fake.seed("aws.target_group", "their_tg", theirs.clone());
    let stack = stack(network());
    let (_, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1, "{report:?}");
    assert_eq!(failures[0].0, "web_tg");
    for needle in ["is not this stack's", "team", "existing: true", id.as_str()] {
        assert!(
            failures[0].1.contains(needle),
            "{needle}: {}",
            failures[0].1
        );
    }
    assert!(!state.resources.contains_key("web_tg"));
    assert_eq!(
        fake.objects()[&id].inputs,
        theirs,
        "their object was changed"
    );
    assert!(fake
        .calls()
        .iter()
        .all(|c| !(c.name == "web_tg" && matches!(c.method, Method::Update | Method::Delete))));

    // Now that the target group's inputs are known before apply (its VPC exists), the
    // next plan finds the name taken and refuses at once, before any change.
    let err = common::plan_error(&stack, &common::stored_or_new(dir.path()).await, &fake).await;
    match &err {
        iac_engine::PlanError::Foreign(list) => {
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].name, "web_tg");
            assert_eq!(list[0].physical_id, id);
            assert!(list[0].owner.contains("payments"), "{err}");
        }
        other => panic!("expected Foreign, got {other:?}"),
    }
    // Destroy does not take it either.
    destroy(&stack, dir.path(), &fake).await;
    assert_eq!(fake.objects().len(), 1);
    assert_eq!(fake.objects()[&id].inputs, theirs);
}

#[tokio::test(start_paused = true)]
async fn a_conflict_with_an_object_of_ours_is_adopted_and_finished() {
    // A create that ran into its own object (made by an earlier attempt whose intent was
    // lost with a state restored from a backup, say): the name is taken, but by this
    // stack's resource, so it is taken into the state and brought to the stack.
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let name = iac_stack::schema::aws_name("demo", "web_tg", 32);
    let ours = json!({"name": name, "vpc": "vpc-0001", "port": 8080,
        "tags": {"Name": "demo-web_tg", "iac:stack": "demo", "iac:name": "web_tg"}});
    let id = fake.seed("aws.target_group", "web_tg", ours);
    let stack = stack(network());
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    assert_eq!(state.resources["web_tg"].physical_id, id);
    each_exactly_once(&stack, &fake, "after the apply");
    assert_eq!(
        fake.objects()[&id].inputs["health_check"],
        json!({"path": "/health", "interval": 30})
    );
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_second_interrupt_keeps_the_intents_of_abandoned_creates() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let stack = stack(network());
    let backend = LocalBackend::new(dir.path(), "demo");
    let mut state = State::new("demo");
    let plan = plan_with(&stack, &state, &fake).await;
    let cancel = CancelToken::new();
    let opts = ApplyOptions {
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    let stopper = tokio::spawn(async move {
        // The VPC is done at 100 ms; its four dependents are in flight at 150 ms.
        tokio::time::sleep(Duration::from_millis(150)).await;
        cancel.abort();
    });
    let report = common::apply_quietly(&plan, &mut state, &backend, Arc::new(fake.clone()), &opts)
        .await
        .unwrap();
    stopper.await.unwrap();
    assert!(report.cancelled);
    let left = common::stored_or_new(dir.path()).await;
    assert!(left.resources.contains_key("vpc"));
    assert_eq!(left.pending.len(), 4, "{left:?}");
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the second apply");
    assert!(state.pending.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_create_that_failed_with_an_unknown_outcome_keeps_its_intent() {
    // The create failed and the lookup of what it made failed too: nobody knows whether the
    // object exists, so the intent stays for the next plan, which finds the object.
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let stack = stack(vec![network().remove(0)]);
    fake.lose_create_answer("aws.vpc", 1);
    fake.fail_nth(Method::Find, "aws.vpc", 1, iac_engine::ErrorKind::Fatal);
    let (_, report, _) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(!report.success());
    assert!(report.failures()[0].1.contains("the next plan looks again"));
    let left = common::stored_or_new(dir.path()).await;
    assert_eq!(left.pending.len(), 1);
    let plan = plan_with(&stack, &left, &fake).await;
    assert_eq!(plan.change("vpc").unwrap().action, Action::Adopt);
    converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the second apply");
}

#[tokio::test(start_paused = true)]
async fn objects_tagged_with_the_stack_that_the_state_lost_are_adopted_or_listed_as_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let tags =
        |name: &str| json!({"Name": format!("demo-{name}"), "iac:stack": "demo", "iac:name": name});
    // A VPC made for this stack whose record is gone (a state restored from an old backup,
    // say), and a subnet of a resource no longer in the stack.
    let vpc = fake.seed(
        "aws.vpc",
        "vpc",
        json!({"cidr": "10.0.0.0/16", "tags": tags("vpc")}),
    );
    let old = fake.seed(
        "aws.subnet",
        "old_subnet",
        json!({"vpc": vpc, "cidr": "10.0.9.0/24", "az": "eu-west-1c", "tags": tags("old_subnet")}),
    );
    // Someone else's subnet, tagged for another stack: never listed.
    fake.seed(
        "aws.subnet",
        "theirs",
        json!({"vpc": "vpc-x", "cidr": "10.9.0.0/24", "az": "eu-west-1a",
               "tags": {"iac:stack": "other", "iac:name": "subnet_a"}}),
    );
    let stack = stack(network());
    let plan = plan_with(&stack, &State::new("demo"), &fake).await;
    let c = plan.change("vpc").unwrap();
    assert_eq!(c.action, Action::Adopt, "{plan:#?}");
    assert_eq!(c.physical_id.as_deref(), Some(vpc.as_str()));
    assert_eq!(
        c.reason.as_deref(),
        Some("tagged with this stack, unknown to the state")
    );
    assert_eq!(plan.orphans.len(), 1, "{:?}", plan.orphans);
    assert_eq!(plan.orphans[0].physical_id, old);
    assert_eq!(plan.orphans[0].name.as_deref(), Some("old_subnet"));
    let shown = iac_engine::render_plan(&plan, false);
    assert!(
        shown.contains(&format!("? aws.subnet `{old}` (iac:name `old_subnet`)")),
        "{shown}"
    );

    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the apply");
    assert_eq!(state.resources["vpc"].physical_id, vpc);
    assert!(
        fake.objects().contains_key(&old),
        "apply leaves orphans alone"
    );

    // destroy --keep-orphans keeps it; destroy deletes it (after nothing else uses it).
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    let keep = PlanOptions {
        keep_orphans: true,
        ..PlanOptions::default()
    };
    let plan = plan_destroy_live(&stack, &state, p, &keep).await.unwrap();
    assert_eq!(plan.orphans.len(), 1);
    assert!(plan
        .changes
        .iter()
        .all(|c| c.physical_id.as_deref() != Some(old.as_str())));
    destroy(&stack, dir.path(), &fake).await;
    assert_eq!(fake.objects().len(), 1, "{:?}", fake.objects());
    assert!(fake.objects().values().all(|o| o.name == "theirs"));
}

#[tokio::test(start_paused = true)]
async fn a_named_object_of_the_stack_is_adopted_at_plan_time() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    let first = stack(vec![network().remove(0)]);
    let (_, report, state) = converge(&first, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success());
    let vpc = state.resources["vpc"].physical_id.clone();
    let name = iac_stack::schema::aws_name("demo", "web_tg", 32);
    let tg = fake.seed(
        "aws.target_group",
        "web_tg",
        json!({"name": name, "vpc": vpc, "port": 8080,
               "tags": {"Name": "demo-web_tg", "iac:stack": "demo", "iac:name": "web_tg"}}),
    );
    let stack = stack(network());
    let plan = plan_with(&stack, &state, &fake).await;
    let c = plan.change("web_tg").unwrap();
    assert_eq!(c.action, Action::Adopt, "{plan:#?}");
    assert_eq!(c.physical_id.as_deref(), Some(tg.as_str()));
    assert!(c.changed_paths.iter().any(|p| p == "health_check"), "{c:?}");
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    each_exactly_once(&stack, &fake, "after the apply");
    assert_eq!(state.resources["web_tg"].physical_id, tg);
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

/// A task definition and a service that names its revision (in a tag, for the fake).
fn revisioned() -> (iac_stack::Stack, FakeProvider) {
    let fake = fake()
        .with_latency(MS100)
        .with_reusable_names("aws.task_definition")
        .with_update_changing("aws.task_definition", &["arn"]);
    let stack = stack(vec![
        res("task", &TASK, json!({"cpu": 256, "containers": []})),
        res(
            "web",
            &SERVICE,
            json!({"desired_count": 1, "tags": {"td": "${task.arn}"}}),
        ),
    ]);
    (stack, fake)
}

#[tokio::test(start_paused = true)]
async fn a_found_task_definition_that_matches_the_stack_gets_no_new_revision() {
    // Killed right after the register: the next plan adopts the revision, and since it is
    // exactly what the stack says, nothing updates it (an update would register a second
    // revision and leave the first one active).
    let (stack, fake) = revisioned();
    let dir = tempfile::tempdir().unwrap();
    fake.die_after(1);
    assert!(apply_until_death(&stack, dir.path(), &fake).await);
    fake.clear_faults();
    let left = common::stored_or_new(dir.path()).await;
    let plan = plan_with(&stack, &left, &fake).await;
    let task = plan.change("task").unwrap();
    assert_eq!(task.action, Action::Adopt, "{plan:#?}");
    assert!(task.changed_paths.is_empty(), "{task:?}");
    assert!(task.renewed_attrs.is_empty(), "{task:?}");
    let arn = fake.objects_named("task")[0].1.attrs["arn"].clone();
    let (_, _, state) = converged(&stack, dir.path(), &fake).await;
    assert!(
        fake.calls_of(Method::Update).is_empty(),
        "{:?}",
        fake.calls_of(Method::Update)
    );
    assert_eq!(fake.objects_named("task")[0].1.attrs["arn"], arn);
    assert_eq!(fake.objects_named("web")[0].1.inputs["tags"]["td"], arn);
    each_exactly_once(&stack, &fake, "after the second apply");
    assert!(!plan_with(&stack, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_found_task_definition_that_differs_renews_its_arn_for_the_service() {
    // Killed after the register, then the stack changed: the adopt registers a new
    // revision, and the plan says so, so the service is given the new one.
    let (first, fake) = revisioned();
    let dir = tempfile::tempdir().unwrap();
    fake.die_after(1);
    assert!(apply_until_death(&first, dir.path(), &fake).await);
    fake.clear_faults();
    let mut resources: Vec<_> = first.resources.values().cloned().collect();
    resources[0] = res("task", &TASK, json!({"cpu": 512, "containers": []}));
    let changed = stack(resources);
    let left = common::stored_or_new(dir.path()).await;
    let plan = plan_with(&changed, &left, &fake).await;
    let task = plan.change("task").unwrap();
    assert_eq!(task.action, Action::Adopt, "{plan:#?}");
    assert_eq!(task.changed_paths, ["cpu"], "{task:?}");
    assert!(task.renewed_attrs.contains_key("arn"), "{task:?}");
    let (_, _, state) = converged(&changed, dir.path(), &fake).await;
    let arn = fake.objects_named("task")[0].1.attrs["arn"].clone();
    assert_eq!(fake.objects_named("web")[0].1.inputs["tags"]["td"], arn);
    assert!(!plan_with(&changed, &state, &fake).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn a_found_object_is_given_what_a_read_cannot_see() {
    // A VPC killed between its create and the DNS attributes: its find reports the DNS
    // setting the stack asks for (a read cannot see it), so the adopt must send it anyway.
    let fake = fake()
        .with_latency(MS100)
        .with_unread("aws.vpc", &["dns_hostnames"]);
    let stack = stack(vec![res(
        "vpc",
        &VPC,
        json!({"cidr": "10.0.0.0/16", "dns_hostnames": true}),
    )]);
    let dir = tempfile::tempdir().unwrap();
    fake.die_after(1);
    assert!(apply_until_death(&stack, dir.path(), &fake).await);
    fake.clear_faults();
    let (id, _) = fake.objects_named("vpc").remove(0);
    fake.mutate(&id, |o| {
        o.inputs["dns_hostnames"] = json!(false);
    });
    let left = common::stored_or_new(dir.path()).await;
    let plan = plan_with(&stack, &left, &fake).await;
    let vpc = plan.change("vpc").unwrap();
    assert_eq!(vpc.action, Action::Adopt, "{plan:#?}");
    assert_eq!(vpc.changed_paths, ["dns_hostnames"], "{vpc:?}");
    converged(&stack, dir.path(), &fake).await;
    assert_eq!(fake.objects()[&id].inputs["dns_hostnames"], json!(true));
}
