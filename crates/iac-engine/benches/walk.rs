//! Engine benchmarks on the fake provider, in real time (`just bench`, or
//! `cargo bench -p iac-engine --bench walk [-- FILTER]`).
//!
//! What they show (docs/benchmarks.md has the numbers and the reading):
//! - apply of 200 independent resources at 20 ms per call: wall time follows
//!   `ceil(200 / parallelism) x 20 ms`, so the semaphore is the bound, not the walker;
//! - chains: apply time follows depth x latency, not the number of resources;
//! - a no-op plan of 500 resources: one batched provider read per type, and the CPU time of
//!   diffing 500 resources;
//! - loading and validating stacks/lemon-mart.yaml.
//!
//! This is a benchmark, not a test: it uses the wall clock and a multi-thread runtime, and
//! asserts only that each run did what it measures (everything created, a clean plan).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{fmt, measure, selected, table, Sample};
use iac_engine::fake::{FakeProvider, Method};
use iac_engine::{
    apply, plan, ApplyOptions, Edit, LocalBackend, LockInfo, NullReporter, Plan, PlanOptions,
    Provider, State, StateBackend, StateError, StateLock,
};
use iac_stack::{load_str, LoadOptions, Stack};

const LATENCY: Duration = Duration::from_millis(20);

/// A state backend that keeps the state in memory, as JSON: the walker's own cost and the
/// serialisation a journalling backend does (the edits of each commit, the whole state at
/// the end), without the fsyncs of a [`LocalBackend`].
#[derive(Default)]
struct MemoryBackend {
    json: Mutex<Option<String>>,
}

#[async_trait]
impl StateBackend for MemoryBackend {
    fn location(&self) -> String {
        "memory".into()
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        let json = self.json.lock().unwrap_or_else(|e| e.into_inner()).clone();
        json.map(|j| State::from_json(&j)).transpose()
    }
    async fn save(&self, state: &State) -> Result<(), StateError> {
        let json = state.to_json();
        *self.json.lock().unwrap_or_else(|e| e.into_inner()) = Some(json);
        Ok(())
    }
    /// What a journalling backend does per operation: serialise the edits (the local
    /// backend appends them to its journal), not the whole state.
    async fn commit(&self, _state: &State, edits: &[Edit]) -> Result<(), StateError> {
        let line = serde_json::to_string(edits).map_err(|e| StateError::Corrupt(e.to_string()))?;
        std::hint::black_box(line);
        Ok(())
    }
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        Ok(StateLock::new(LockInfo::here(operation), Box::new(())))
    }
    async fn force_unlock(&self, _id: &str) -> Result<Option<LockInfo>, StateError> {
        Ok(None)
    }
}

/// Where the state of one apply goes.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    /// `LocalBackend` in a temporary directory: what `iac apply` does.
    Disk,
    Memory,
}

fn load(yaml: &str) -> Stack {
    match load_str("bench.yaml", yaml, &LoadOptions::default()) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("the generated stack does not load: {d:?}\n{yaml}"),
    }
}

/// One plan of `stack` against `state`, which must succeed.
fn plan_once(
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
) -> Plan {
    rt.block_on(plan(stack, state, provider, &PlanOptions::default()))
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

fn header(name: &str) -> String {
    format!("stack: {name}\nregion: us-east-1\nresources:\n")
}

/// `n` log groups with no references between them.
fn independent(n: usize) -> Stack {
    let mut y = header("bench-flat");
    for i in 0..n {
        let _ = writeln!(
            y,
            "  lg{i:04}:\n    type: aws.log_group\n    retention_days: 30"
        );
    }
    load(&y)
}

/// `width` chains of `depth` log groups, each depending on the one before it.
fn chains(width: usize, depth: usize) -> Stack {
    let mut y = header("bench-chains");
    for c in 0..width {
        for d in 0..depth {
            let _ = writeln!(y, "  c{c:02}_d{d:02}:\n    type: aws.log_group");
            if d > 0 {
                let _ = writeln!(y, "    depends_on: [c{c:02}_d{:02}]", d - 1);
            }
        }
    }
    load(&y)
}

/// The types of the no-op plan: none needs another resource, so `per_type` of each is a
/// valid stack on its own.
const PLAN_TYPES: [(&str, &str); 5] = [
    ("aws.log_group", "    retention_days: 30\n"),
    ("aws.ecs_cluster", ""),
    ("aws.ecr_repository", ""),
    ("aws.iam_role", "    assumed_by: ecs-tasks.amazonaws.com\n"),
    ("aws.eip", ""),
];

fn mixed(per_type: usize) -> Stack {
    let mut y = header("bench-plan");
    for (t, (rtype, props)) in PLAN_TYPES.iter().enumerate() {
        for i in 0..per_type {
            let _ = write!(y, "  r{t}_{i:04}:\n    type: {rtype}\n{props}");
        }
    }
    load(&y)
}

/// Plan from `state` and apply; returns the apply's wall time (the plan is not timed) and
/// the state after it.
async fn plan_and_apply(
    stack: &Stack,
    mut state: State,
    fake: &FakeProvider,
    parallelism: usize,
    store: Store,
    dir: &Path,
) -> (Duration, State) {
    let provider: Arc<dyn Provider> = Arc::new(fake.clone());
    let p = plan(stack, &state, provider.clone(), &PlanOptions::default())
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"));
    let backend: Box<dyn StateBackend> = match store {
        Store::Disk => Box::new(LocalBackend::new(dir, &stack.name)),
        Store::Memory => Box::new(MemoryBackend::default()),
    };
    let opts = ApplyOptions {
        parallelism,
        ..ApplyOptions::default()
    };
    let t = Instant::now();
    let report = apply(
        &p,
        &mut state,
        backend.as_ref(),
        provider,
        Arc::new(NullReporter),
        &opts,
    )
    .await
    .unwrap_or_else(|e| panic!("apply: {e}"));
    let took = t.elapsed();
    assert!(report.success(), "{:?}", report.failures());
    assert_eq!(report.done.add, stack.resources.len());
    (took, state)
}

/// One apply benchmark: a stack applied from scratch on a fresh fake cloud.
struct ApplyCase<'a> {
    stack: &'a Stack,
    latency: Duration,
    parallelism: usize,
    store: Store,
    /// The wall time a perfect walker would take, when latency bounds it.
    ideal: Option<Duration>,
}

fn bench_apply(rt: &tokio::runtime::Runtime, case: String, reps: usize, c: ApplyCase) -> Sample {
    let ApplyCase {
        stack,
        latency,
        parallelism,
        store,
        ideal,
    } = c;
    measure(case, 1, reps, |_| {
        let dir = tempfile::tempdir().expect("temporary state directory");
        let fake = FakeProvider::new().with_latency(latency);
        let (took, _) = rt.block_on(plan_and_apply(
            stack,
            State::new(&stack.name),
            &fake,
            parallelism,
            store,
            dir.path(),
        ));
        let note = match ideal {
            Some(ideal) => format!(
                "ideal {}; overhead {:.1} ms",
                fmt(ideal),
                (took.as_secs_f64() - ideal.as_secs_f64()) * 1e3
            ),
            None => format!(
                "{:.0} µs per resource",
                took.as_secs_f64() * 1e6 / stack.resources.len() as f64
            ),
        };
        (took, note)
    })
}

fn apply_flat(rt: &tokio::runtime::Runtime, filter: &Option<String>) -> Vec<Sample> {
    let n = 200;
    let stack = independent(n);
    let mut out = Vec::new();
    for (parallelism, store, reps) in [
        (1, Store::Disk, 3),
        (10, Store::Disk, 5),
        (50, Store::Disk, 5),
        (1, Store::Memory, 3),
        (10, Store::Memory, 5),
        (50, Store::Memory, 5),
    ] {
        let case = format!(
            "apply {n} independent, 20 ms/call, parallelism {parallelism}, {} state",
            if store == Store::Disk {
                "disk"
            } else {
                "memory"
            }
        );
        if !selected(filter, &case) {
            continue;
        }
        let ideal = LATENCY * n.div_ceil(parallelism) as u32;
        let c = ApplyCase {
            stack: &stack,
            latency: LATENCY,
            parallelism,
            store,
            ideal: Some(ideal),
        };
        out.push(bench_apply(rt, case, reps, c));
    }
    // No latency: what is left is the engine's own cost per resource (the walk, the state
    // saves). Two sizes, to show whether it grows with the stack.
    for (size, store) in [(n, Store::Disk), (n, Store::Memory), (500, Store::Memory)] {
        let case = format!(
            "apply {size} independent, 0 ms/call, parallelism 10, {} state",
            if store == Store::Disk {
                "disk"
            } else {
                "memory"
            }
        );
        if selected(filter, &case) {
            let big;
            let stack = if size == n {
                &stack
            } else {
                big = independent(size);
                &big
            };
            let c = ApplyCase {
                stack,
                latency: Duration::ZERO,
                parallelism: 10,
                store,
                ideal: None,
            };
            out.push(bench_apply(rt, case, 5, c));
        }
    }
    out
}

fn apply_chains(rt: &tokio::runtime::Runtime, filter: &Option<String>) -> Vec<Sample> {
    let width = 10;
    let mut out = Vec::new();
    for depth in [1, 5, 10, 20] {
        let case = format!(
            "apply {width} chains x depth {depth}, 20 ms/call, parallelism 10, memory state"
        );
        if !selected(filter, &case) {
            continue;
        }
        let stack = chains(width, depth);
        let ideal = LATENCY * depth as u32;
        let c = ApplyCase {
            stack: &stack,
            latency: LATENCY,
            parallelism: 10,
            store: Store::Memory,
            ideal: Some(ideal),
        };
        out.push(bench_apply(rt, case, 5, c));
    }
    out
}

fn plan_noop(rt: &tokio::runtime::Runtime, filter: &Option<String>) -> Vec<Sample> {
    let per_type = 100;
    let stack = mixed(per_type);
    let total = stack.resources.len();
    let mut out = Vec::new();
    for latency in [Duration::ZERO, LATENCY] {
        let case = format!(
            "no-op plan of {total} resources ({} types), {} ms/call",
            PLAN_TYPES.len(),
            latency.as_millis()
        );
        if !selected(filter, &case) {
            continue;
        }
        // Set-up, untimed: create everything once, keeping the state in memory.
        let fake = FakeProvider::new().with_latency(latency);
        let dir = tempfile::tempdir().expect("temporary state directory");
        let (_, state) = rt.block_on(plan_and_apply(
            &stack,
            State::new(&stack.name),
            &fake,
            50,
            Store::Memory,
            dir.path(),
        ));
        let provider: Arc<dyn Provider> = Arc::new(fake.clone());
        out.push(measure(case, 2, 10, |_| {
            fake.clear_calls();
            let t = Instant::now();
            let p = plan_once(rt, &stack, &state, provider.clone());
            let took = t.elapsed();
            assert!(
                p.summary.is_empty(),
                "the plan is not clean: {:?}",
                p.summary
            );
            let reads = fake.calls_of(Method::Read);
            let mut types: Vec<&str> = reads.iter().map(|c| c.rtype.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            (
                took,
                format!(
                    "{} read calls for {} types ({} resources per call)",
                    reads.len(),
                    types.len(),
                    total / reads.len().max(1)
                ),
            )
        }));
    }
    out
}

fn load_example(filter: &Option<String>) -> Vec<Sample> {
    let case = "load + validate stacks/lemon-mart.yaml";
    if !selected(filter, case) {
        return Vec::new();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    let opts = LoadOptions::default();
    let mut resources = 0;
    vec![measure(case, 20, 200, |_| {
        let t = Instant::now();
        let loaded = load_str("lemon-mart.yaml", &text, &opts)
            .unwrap_or_else(|d| panic!("stacks/lemon-mart.yaml does not load: {d:?}"));
        let took = t.elapsed();
        resources = loaded.stack.resources.len();
        (
            took,
            format!("{resources} resources, {} lines", text.lines().count()),
        )
    })]
}

/// The scale stacks of docs/benchmarks.md: a VPC plus `n / 4` each of security groups,
/// log groups, IAM roles and ECS clusters, each cluster depending on one log group. With
/// `warnings`, every log group lacks `protect: true` (one warning each: `n / 4` warnings).
fn scale_yaml(n: usize, warnings: bool) -> String {
    let mut y = header("bench-scale");
    y.push_str("  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n");
    for i in 0..n / 4 {
        let protect = if warnings { "" } else { "    protect: true\n" };
        let _ = write!(
            y,
            "  sg{i}:\n    type: aws.security_group\n    vpc: ${{vpc.id}}\n    description: sg {i}\n\
             \x20 lg{i}:\n    type: aws.log_group\n    retention_days: 7\n{protect}\
             \x20 role{i}:\n    type: aws.iam_role\n    assumed_by: ecs-tasks.amazonaws.com\n\
             \x20 cl{i}:\n    type: aws.ecs_cluster\n    depends_on: [lg{i}]\n"
        );
    }
    y
}

/// Peak resident memory of this process so far (`VmHWM`), for the notes: the cases run in
/// increasing size, so it is the peak of the largest case run yet.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Every stage at 1,000 and 10,000 resources: load + validate (with and without a warning
/// per log group), the graph as DOT, a no-op plan and an apply on the fake provider with
/// 0 ms calls, and rendering the create plan. The 10,000 row notes its ratio to the 1,000
/// one: about 10 is linear.
fn scale(rt: &tokio::runtime::Runtime, filter: &Option<String>) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    let push = |out: &mut Vec<Sample>, mut s: Sample, n: usize| {
        if n == 10_000 {
            let base = s
                .case
                .replace("10000", "1000")
                .replace("2500 warnings", "250 warnings");
            if let Some(b) = out.iter().find(|b| b.case == base) {
                let ratio = s.median().as_secs_f64() / b.median().as_secs_f64().max(1e-9);
                s.note = format!("{}; x{ratio:.1} of 1,000", s.note);
            }
        }
        out.push(s);
    };
    for n in [1_000, 10_000] {
        for warnings in [false, true] {
            let yaml = scale_yaml(n, warnings);
            let w = if warnings { n / 4 } else { 0 };
            let case = format!("scale {n}: load + validate, {w} warnings");
            if selected(filter, &case) {
                let reps = if n > 1_000 { 5 } else { 20 };
                let s = measure(case, 1, reps, |_| {
                    let t = Instant::now();
                    let loaded = load_str("scale.yaml", &yaml, &LoadOptions::default())
                        .unwrap_or_else(|d| panic!("the scale stack does not load: {d:?}"));
                    let took = t.elapsed();
                    assert_eq!(loaded.warnings.warning_count(), w);
                    // What `iac validate` prints: each diagnostic rendered with its lines.
                    let t2 = Instant::now();
                    let shown = iac_stack::diag::group(
                        &loaded.warnings.iter().collect::<Vec<_>>(),
                        usize::MAX,
                    );
                    let text: usize = shown
                        .iter()
                        .map(|d| match d {
                            iac_stack::diag::Shown::Full(d) => {
                                iac_stack::diag::render(d, false).len()
                            }
                            iac_stack::diag::Shown::More { .. } => 0,
                        })
                        .sum();
                    (
                        took + t2.elapsed(),
                        format!(
                            "{text} bytes of diagnostics rendered; peak RSS {}",
                            peak_rss()
                        ),
                    )
                });
                push(&mut out, s, n);
            }
        }
        let stack = load(&scale_yaml(n, false));
        let case = format!("scale {n}: graph as DOT");
        if selected(filter, &case) {
            let graph =
                iac_stack::StackGraph::build(&stack, &mut iac_stack::Diagnostics::default());
            let s = measure(case, 1, 5, |_| {
                let t = Instant::now();
                let dot = graph.to_dot();
                (t.elapsed(), format!("{} bytes", dot.len()))
            });
            push(&mut out, s, n);
        }
        let fake = FakeProvider::new();
        let dir = tempfile::tempdir().expect("temporary state directory");
        let case = format!("scale {n}: apply, 0 ms/call, parallelism 10, disk state");
        let mut applied = None;
        if selected(filter, &case) {
            let s = measure(case, 0, 3, |_| {
                let fake = FakeProvider::new();
                let dir = tempfile::tempdir().expect("temporary state directory");
                let (took, state) = rt.block_on(plan_and_apply(
                    &stack,
                    State::new(&stack.name),
                    &fake,
                    10,
                    Store::Disk,
                    dir.path(),
                ));
                assert_eq!(state.resources.len(), n + 1);
                (took, format!("peak RSS {}", peak_rss()))
            });
            push(&mut out, s, n);
        }
        let case = format!("scale {n}: no-op plan, 0 ms/call");
        if selected(filter, &case) {
            let (_, state) = rt.block_on(plan_and_apply(
                &stack,
                State::new(&stack.name),
                &fake,
                50,
                Store::Memory,
                dir.path(),
            ));
            let provider: Arc<dyn Provider> = Arc::new(fake.clone());
            let s = measure(case, 1, 5, |_| {
                let t = Instant::now();
                let p = plan_once(rt, &stack, &state, provider.clone());
                let took = t.elapsed();
                assert!(p.summary.is_empty(), "{:?}", p.summary);
                (took, format!("peak RSS {}", peak_rss()))
            });
            push(&mut out, s, n);
            applied = Some(state);
        }
        let case = format!("scale {n}: render the create plan");
        if selected(filter, &case) {
            let provider: Arc<dyn Provider> = Arc::new(FakeProvider::new());
            let p = plan_once(rt, &stack, &State::new(&stack.name), provider);
            let s = measure(case, 1, 5, |_| {
                let t = Instant::now();
                let text = iac_engine::render_plan(&p, false);
                (t.elapsed(), format!("{} lines", text.lines().count()))
            });
            push(&mut out, s, n);
        }
        drop(applied);
    }
    out
}

fn main() {
    let filter = common::filter();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    eprintln!("engine benchmarks on the fake provider (wall clock, multi-thread runtime)");
    let mut report = String::new();
    let sections: [(&str, Vec<Sample>); 5] = [
        ("Apply: parallelism bound", apply_flat(&rt, &filter)),
        ("Apply: depth x latency", apply_chains(&rt, &filter)),
        ("Plan: no-op, batched reads", plan_noop(&rt, &filter)),
        ("Load and validate", load_example(&filter)),
        ("Scale: 1,000 and 10,000 resources", scale(&rt, &filter)),
    ];
    for (title, samples) in &sections {
        if !samples.is_empty() {
            report.push_str(&table(title, samples));
        }
    }
    println!("{report}");
}
