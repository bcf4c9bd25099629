//! Test stacks built in code: the test resource types (`schema.rs`: a few shaped like the
//! real ones), builders for `Stack` and `Resource`, and the plan and apply steps the engine's
//! tests share (`plan_and_apply`, `converge`, `stored`, the fake world checked against state).

#![allow(dead_code)]

mod schema;

pub use schema::*;

use std::sync::Arc;

use iac_engine::fake::FakeProvider;
use iac_engine::{
    ApplyOptions, ApplyReport, LocalBackend, Plan, PlanOptions, Provider, RecordingReporter, State,
};
use iac_stack::schema::TypeSchema;
use iac_stack::{Resource, SourceFile, Stack, Value};
use indexmap::IndexMap;

/// A fake provider that knows the test types.
pub fn fake() -> FakeProvider {
    FakeProvider::new().with_schemas(ALL)
}

/// JSON with `${NAME.ATTR}` strings turned into references, as the loader would.
pub fn value(j: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::String(s) => Value::with_refs(&s),
        J::Array(a) => Value::List(a.into_iter().map(value).collect()),
        J::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, value(v))).collect()),
        other => Value::from(other),
    }
}

/// A resource of `schema` with the given properties (a JSON object).
pub fn res(name: &str, schema: &'static TypeSchema, props: serde_json::Value) -> Resource {
    let Value::Map(props) = value(props) else {
        panic!("props must be an object")
    };
    Resource {
        name: name.into(),
        schema,
        props,
        depends_on: Vec::new(),
        protect: false,
        ignore_changes: Vec::new(),
        existing: false,
        lookup_id: None,
        import: None,
        defaulted: Vec::new(),
        implied: Vec::new(),
        spans: Default::default(),
    }
}

pub trait ResourceExt {
    fn protect(self) -> Self;
    fn ignore(self, paths: &[&str]) -> Self;
    fn existing(self) -> Self;
    fn depends_on(self, names: &[&str]) -> Self;
}

impl ResourceExt for Resource {
    fn protect(mut self) -> Self {
        self.protect = true;
        self
    }
    fn ignore(mut self, paths: &[&str]) -> Self {
        self.ignore_changes = paths.iter().map(|s| s.to_string()).collect();
        self
    }
    fn existing(mut self) -> Self {
        self.existing = true;
        self
    }
    fn depends_on(mut self, names: &[&str]) -> Self {
        self.depends_on = names.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// A stack named `demo` of these resources, with outputs.
pub fn stack_with_outputs(resources: Vec<Resource>, outputs: &[(&str, &str)]) -> Stack {
    let mut out = IndexMap::new();
    for (k, v) in outputs {
        out.insert(
            k.to_string(),
            iac_stack::Output {
                value: Value::with_refs(v),
                span: Default::default(),
                refs: Vec::new(),
            },
        );
    }
    Stack {
        source: SourceFile::new("demo.yaml", ""),
        name: "demo".into(),
        region: Some("eu-west-1".into()),
        state: None,
        vars: IndexMap::new(),
        resources: resources.into_iter().map(|r| (r.name.clone(), r)).collect(),
        outputs: out,
        moved: Vec::new(),
        usage: Default::default(),
        spans: Default::default(),
    }
}

pub fn stack(resources: Vec<Resource>) -> Stack {
    stack_with_outputs(resources, &[])
}

/// The small network most tests use: a VPC with two subnets, a security group, and a
/// target group.
pub fn network() -> Vec<Resource> {
    vec![
        res("vpc", &VPC, serde_json::json!({"cidr": "10.0.0.0/16"})),
        res(
            "subnet_a",
            &SUBNET,
            serde_json::json!({"vpc": "${vpc.id}", "cidr": "10.0.1.0/24", "az": "eu-west-1a"}),
        ),
        res(
            "subnet_b",
            &SUBNET,
            serde_json::json!({"vpc": "${vpc.id}", "cidr": "10.0.2.0/24", "az": "eu-west-1b"}),
        ),
        res(
            "web_sg",
            &SG,
            serde_json::json!({
                "vpc": "${vpc.id}",
                "description": "web",
                "ingress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]
            }),
        ),
        res(
            "web_tg",
            &TG,
            serde_json::json!({
                "vpc": "${vpc.id}",
                "port": 8080,
                "health_check": {"path": "/health", "interval": 30}
            }),
        ),
    ]
}

/// An `existing` zone `zone` (example.com) and a record `www` of it.
pub fn existing_zone_and_record() -> Vec<Resource> {
    vec![
        res("zone", &ZONE, serde_json::json!({"name": "example.com"})).existing(),
        res(
            "www",
            &RECORD,
            serde_json::json!({"zone": "${zone.id}", "name": "www.example.com", "values": ["1.2.3.4"]}),
        ),
    ]
}

/// Plan with the fake.
pub async fn plan_with(stack: &Stack, state: &State, fake: &FakeProvider) -> Plan {
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    iac_engine::plan(stack, state, p, &PlanOptions::default())
        .await
        .expect("plan")
}

/// The error that planning `stack` against `state` with the fake ends in.
pub async fn plan_error(
    stack: &Stack,
    state: &State,
    fake: &FakeProvider,
) -> iac_engine::PlanError {
    let p: Arc<dyn Provider> = Arc::new(fake.clone());
    iac_engine::plan(stack, state, p, &PlanOptions::default())
        .await
        .unwrap_err()
}

/// Apply `plan` with no reporter.
pub async fn apply_quietly(
    plan: &Plan,
    state: &mut State,
    backend: &dyn iac_engine::StateBackend,
    provider: Arc<dyn Provider>,
    opts: &iac_engine::ApplyOptions,
) -> Result<iac_engine::ApplyReport, iac_engine::ApplyError> {
    iac_engine::apply(
        plan,
        state,
        backend,
        provider,
        Arc::new(iac_engine::NullReporter),
        opts,
    )
    .await
}

/// The state of stack `demo` stored in `dir` as the next run loads it (the file plus the
/// journal); there must be one.
pub async fn stored(dir: &std::path::Path) -> State {
    use iac_engine::StateBackend;
    iac_engine::LocalBackend::new(dir, "demo")
        .load()
        .await
        .expect("load")
        .expect("a state")
}

/// [`stored`], or a new state when none was stored yet.
pub async fn stored_or_new(dir: &std::path::Path) -> State {
    use iac_engine::StateBackend;
    iac_engine::LocalBackend::new(dir, "demo")
        .load()
        .await
        .expect("load")
        .unwrap_or_else(|| State::new("demo"))
}

/// Plan `stack` against `state` with the fake and apply the plan with local state in `dir`;
/// the apply must succeed.
pub async fn plan_and_apply(
    stack: &Stack,
    state: &mut State,
    fake: &FakeProvider,
    dir: &std::path::Path,
) -> Plan {
    let backend = iac_engine::LocalBackend::new(dir, &stack.name);
    let plan = plan_with(stack, state, fake).await;
    let report = apply_quietly(
        &plan,
        state,
        &backend,
        Arc::new(fake.clone()),
        &iac_engine::ApplyOptions::default(),
    )
    .await
    .expect("apply");
    assert!(report.success(), "{report:?}");
    plan
}

/// Lock, load, plan and apply `stack` with local state in `dir`, as the binary does.
pub async fn converge(
    stack: &Stack,
    dir: &std::path::Path,
    fake: &FakeProvider,
    opts: &iac_engine::ApplyOptions,
) -> (Plan, iac_engine::ApplyReport, State) {
    try_converge(stack, dir, fake, opts).await.expect("lock")
}

/// [`converge`] with the default options; the apply must succeed.
pub async fn converged(
    stack: &Stack,
    dir: &std::path::Path,
    fake: &FakeProvider,
) -> (Plan, iac_engine::ApplyReport, State) {
    let (plan, report, state) =
        converge(stack, dir, fake, &iac_engine::ApplyOptions::default()).await;
    assert!(report.success(), "{report:?}");
    (plan, report, state)
}

/// [`converge`], returning a lock failure.
pub async fn try_converge(
    stack: &Stack,
    dir: &std::path::Path,
    fake: &FakeProvider,
    opts: &iac_engine::ApplyOptions,
) -> Result<(Plan, iac_engine::ApplyReport, State), iac_engine::StateError> {
    use iac_engine::StateBackend;
    let backend = iac_engine::LocalBackend::new(dir, &stack.name);
    let _lock = backend.lock("apply").await?;
    let mut state = backend
        .load()
        .await
        .expect("load")
        .unwrap_or_else(|| State::new(&stack.name));
    let plan = plan_with(stack, &state, fake).await;
    let report = apply_quietly(&plan, &mut state, &backend, Arc::new(fake.clone()), opts)
        .await
        .expect("apply");
    Ok((plan, report, state))
}

/// The network plus a second chain (zone -> record) and a task depending on the target
/// group: 8 resources, longest chain 3 (vpc -> web_tg -> task).
pub fn wide_stack() -> iac_stack::Stack {
    let mut r = network();
    r.push(res(
        "zone",
        &ZONE,
        serde_json::json!({"name": "example.com"}),
    ));
    r.push(res(
        "www",
        &RECORD,
        serde_json::json!({"zone": "${zone.id}", "name": "www.example.com", "values": ["1.2.3.4"]}),
    ));
    r.push(
        res(
            "task",
            &TASK,
            serde_json::json!({"cpu": 256, "containers": []}),
        )
        .depends_on(&["web_tg"]),
    );
    stack(r)
}

/// The state on disk names exactly the objects that exist in the fake world.
pub fn assert_state_matches_world(state: &State, fake: &FakeProvider) {
    let mut in_state: Vec<(String, String)> = state
        .resources
        .iter()
        .map(|(n, r)| (n.clone(), r.physical_id.clone()))
        .chain(
            state
                .deposed
                .iter()
                .map(|d| (d.name.clone(), d.physical_id.clone())),
        )
        .collect();
    let mut in_world: Vec<(String, String)> = fake
        .objects()
        .into_iter()
        .map(|(id, o)| (o.name, id))
        .collect();
    in_state.sort();
    in_world.sort();
    assert_eq!(in_state, in_world);
}

/// Apply `plan` with the default options, recording what the reporter hears.
pub async fn apply_recorded(
    plan: &Plan,
    state: &mut State,
    backend: &LocalBackend,
    fake: &FakeProvider,
) -> (ApplyReport, Arc<RecordingReporter>) {
    let rec = Arc::new(RecordingReporter::default());
    let report = iac_engine::apply(
        plan,
        state,
        backend,
        Arc::new(fake.clone()),
        rec.clone(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    (report, rec)
}
