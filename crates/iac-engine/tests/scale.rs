//! Work that must stay linear in the number of resources, counted (never timed), so that a
//! quadratic step fails here on any machine: what one commit of the walker carries, how
//! many intents are open at once, and the provider calls of a no-op plan.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::*;
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{
    plan, ApplyOptions, Edit, LockInfo, PlanOptions, Provider, State, StateBackend, StateError,
    StateLock,
};
use serde_json::json;

/// A backend that keeps nothing but counts: commits, edits per commit, and the most intents
/// open at once.
#[derive(Default)]
struct Counting {
    seen: Mutex<Seen>,
}

#[derive(Default, Debug)]
struct Seen {
    commits: usize,
    edits: usize,
    max_pending: usize,
    max_edits: usize,
}

#[async_trait]
impl StateBackend for Counting {
    fn location(&self) -> String {
        "counting".into()
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        Ok(None)
    }
    async fn save(&self, _state: &State) -> Result<(), StateError> {
        Ok(())
    }
    async fn commit(&self, state: &State, edits: &[Edit]) -> Result<(), StateError> {
        let mut s = self.seen.lock().unwrap();
        s.commits += 1;
        s.edits += edits.len();
        s.max_edits = s.max_edits.max(edits.len());
        s.max_pending = s.max_pending.max(state.pending.len());
        Ok(())
    }
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        Ok(StateLock::new(LockInfo::here(operation), Box::new(())))
    }
    async fn force_unlock(&self, _id: &str) -> Result<Option<LockInfo>, StateError> {
        Ok(None)
    }
}

fn log_groups(n: usize) -> iac_stack::Stack {
    stack(
        (0..n)
            .map(|i| res(&format!("lg{i:05}"), &LOG, json!({"retention_days": 7})))
            .collect(),
    )
}

/// A VPC, then `n / 2` security groups in it, `n / 2` log groups and `n / 2` repositories
/// (a type named by AWS): a wide graph whose second wave becomes ready all at once.
fn wide(n: usize) -> iac_stack::Stack {
    let mut r = vec![res("vpc", &VPC, json!({"cidr": "10.0.0.0/16"}))];
    for i in 0..n / 2 {
        r.push(res(
            &format!("sg{i:05}"),
            &SG,
            json!({"vpc": "${vpc.id}", "description": "sg"}),
        ));
        r.push(res(
            &format!("lg{i:05}"),
            &LOG,
            json!({"retention_days": 7}),
        ));
        r.push(res(&format!("repo{i:05}"), &ECR, json!({})));
    }
    stack(r)
}

#[tokio::test]
async fn an_apply_commits_a_bounded_amount_per_operation_and_keeps_few_intents_open() {
    for (n, stack) in [200, 2_000]
        .into_iter()
        .flat_map(|n| [(n, log_groups(n)), (n / 2 * 3 + 1, wide(n))])
    {
        let fake = FakeProvider::new().with_schemas(ALL);
        let provider: Arc<dyn Provider> = Arc::new(fake.clone());
        let mut state = State::new(&stack.name);
        let p = plan(&stack, &state, provider.clone(), &PlanOptions::default())
            .await
            .expect("plan");
        let backend = Counting::default();
        let opts = ApplyOptions {
            parallelism: 10,
            ..ApplyOptions::default()
        };
        let report = common::apply_quietly(&p, &mut state, &backend, provider, &opts)
            .await
            .expect("apply");
        assert!(report.success());
        assert_eq!(
            state.resources.len(),
            n,
            "{:?} {:?}",
            p.summary,
            p.changes
                .iter()
                .filter(|c| c.name.starts_with("repo"))
                .map(|c| (c.action, c.reason.clone()))
                .take(2)
                .collect::<Vec<_>>()
        );
        let seen = backend.seen.lock().unwrap();
        // Two commits per create (the intent, then the result) and the outputs: each
        // carries a few edits, whatever the size of the stack.
        assert!(seen.commits <= 2 * n + 2, "{seen:?}");
        assert!(seen.max_edits <= 3, "{seen:?}");
        // Intents are closed as their operations end: never many more open than run at once
        // (an operation's permit is free again before the walker records its end).
        assert!(seen.max_pending <= 2 * opts.parallelism, "{seen:?}");
        assert!(state.pending.is_empty());
    }
}

#[tokio::test]
async fn a_no_op_plan_reads_each_type_once_whatever_the_number_of_resources() {
    let stack = log_groups(2_000);
    let fake = FakeProvider::new().with_schemas(ALL);
    let dir = tempfile::tempdir().unwrap();
    let (_, report, state) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    assert!(report.success());
    fake.clear_calls();
    let provider: Arc<dyn Provider> = Arc::new(fake.clone());
    let p = plan(&stack, &state, provider, &PlanOptions::default())
        .await
        .expect("plan");
    assert!(p.summary.is_empty());
    assert_eq!(fake.calls_of(Method::Read).len(), 1);
    assert!(fake.calls_of(Method::Find).is_empty());
}
