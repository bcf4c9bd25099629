//! The AWS provider through the engine against the local emulator (moto), timed: apply of
//! stacks/lemon-mart.yaml, no-op plans, and destroy, with the HTTP requests each sends
//! (`just bench`, or `IAC_MOTO_SERVER=.venv/bin/moto_server cargo run --example
//! bench_emulator -p iac-aws [-- REPS]`).
//!
//! An example rather than a `[[bench]]` target on purpose: `cargo bench` builds the bench
//! profile (release), which would compile the whole AWS SDK a second time (about 12 minutes
//! on two cores). The dev build of the SDK is already there, and the wall time measured here
//! is dominated by the emulator (a Python process answering every request), not by our code.
//!
//! The hosted zone `example.com` is created first with the SDK, as the stack only looks it
//! up (`existing: true`). Certificates are issued at once (`MOTO_ACM_VALIDATION_WAIT=0`):
//! the benchmark measures iac and the emulator, not a configured delay.

#[path = "../../iac-engine/benches/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fmt, Sample};
use iac_aws::{AwsConfig, AwsContext, AwsProvider, ConfigSource, OperationName};
use iac_engine::{
    apply, plan, plan_destroy, ApplyOptions, LocalBackend, NullReporter, Plan, PlanOptions,
    Provider, State,
};
use iac_stack::{load_file, load_str, LoadOptions, Stack};
use iac_testkit::{Emulator, EmulatorOptions};

/// Requests sent, per operation, since the counter was last reset.
type Requests = Vec<(OperationName, u64)>;

/// stacks/lemon-mart.yaml as stack `name`, and a provider for it.
///
/// Every cycle deploys under a new stack name, so each measures a first deploy: certificate
/// requests of one stack walk a short sequence of idempotency tokens (resources/acm.rs),
/// and a token of a certificate deleted in an earlier cycle costs an extra round trip.
fn instance(aws: &AwsContext, name: &str) -> (Stack, Arc<dyn Provider>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stacks/lemon-mart.yaml");
    let opts = LoadOptions {
        vars: vec![("name".into(), name.into())],
        ..LoadOptions::default()
    };
    let stack = match load_file(&path, &opts) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("stacks/lemon-mart.yaml does not load: {d:?}"),
    };
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    (stack, provider)
}

async fn make_plan(stack: &Stack, state: &State, provider: &Arc<dyn Provider>) -> Plan {
    plan(stack, state, provider.clone(), &PlanOptions::default())
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

async fn run(plan: &Plan, state: &mut State, dir: &Path, provider: &Arc<dyn Provider>) {
    let backend = LocalBackend::new(dir, &plan.stack);
    let report = apply(
        plan,
        state,
        &backend,
        provider.clone(),
        Arc::new(NullReporter),
        &ApplyOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("apply: {e}"));
    assert!(report.success(), "{:?}", report.failures());
}

fn total(requests: &Requests) -> u64 {
    requests.iter().map(|(_, n)| n).sum()
}

/// `ec2 31, ecs 9, ...`: requests per service.
fn per_service(requests: &Requests) -> String {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for (op, n) in requests {
        *by.entry(op.service.as_str()).or_default() += n;
    }
    by.iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One apply (plan included, as `iac apply` does) and one destroy, from an empty state.
struct Cycle {
    apply: Duration,
    apply_requests: Requests,
    plans: Vec<Duration>,
    plan_requests: Requests,
    destroy: Duration,
    destroy_requests: Requests,
    /// The sweep that ends `iac destroy` (every taggable type listed and read).
    sweep: Duration,
    sweep_requests: Requests,
}

async fn cycle(aws: &AwsContext, name: &str, noop_plans: usize) -> Cycle {
    let (stack, provider) = instance(aws, name);
    let (stack, provider) = (&stack, &provider);
    let tmp = tempfile::tempdir().expect("state directory");
    let mut state = State::new(&stack.name);
    let counter = aws.requests();

    counter.reset();
    let t = Instant::now();
    let first = make_plan(stack, &state, provider).await;
    run(&first, &mut state, tmp.path(), provider).await;
    let apply = t.elapsed();
    let apply_requests = counter.snapshot();

    let mut plans = Vec::new();
    let mut plan_requests = Vec::new();
    for _ in 0..noop_plans {
        counter.reset();
        let t = Instant::now();
        let again = make_plan(stack, &state, provider).await;
        plans.push(t.elapsed());
        assert!(
            again.summary.is_empty() && again.drift.is_empty(),
            "the plan after apply is not clean: {:?} {:?}",
            again.summary,
            again.drift
        );
        plan_requests = counter.snapshot();
    }

    counter.reset();
    let t = Instant::now();
    let destroy = plan_destroy(stack, &state, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("plan destroy: {e}"));
    run(&destroy, &mut state, tmp.path(), provider).await;
    let destroy_took = t.elapsed();
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let destroy_requests = counter.snapshot();

    counter.reset();
    let t = Instant::now();
    let left = iac_engine::sweep::sweep(&stack.name, Some(&state), provider.clone())
        .await
        .unwrap_or_else(|e| panic!("sweep: {e}"));
    let sweep_took = t.elapsed();
    assert!(left.left.is_empty(), "the sweep found objects left");
    Cycle {
        sweep: sweep_took,
        sweep_requests: counter.snapshot(),
        apply,
        apply_requests,
        plans,
        plan_requests,
        destroy: destroy_took,
        destroy_requests,
    }
}

/// One type's batched read: resources read, requests sent, and the requests by operation.
struct TypeRead {
    rtype: String,
    resources: usize,
    requests: u64,
    operations: Requests,
    /// Wall time of the read.
    took: Duration,
}

/// `per_type` resources of each of eight types that need nothing but a VPC: stack
/// `reads-<per_type>`, to see which reads grow with the number of resources of a type.
fn generated(aws: &AwsContext, per_type: usize) -> (Stack, Arc<dyn Provider>) {
    let mut y = format!(
        "stack: reads-{per_type}\nregion: us-east-1\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n"
    );
    for i in 0..per_type {
        y.push_str(&format!(
            "  subnet{i}:\n    type: aws.subnet\n    vpc: ${{vpc.id}}\n    cidr: 10.0.{i}.0/24\n    az: ${{region}}a\n\
             \x20 sg{i}:\n    type: aws.security_group\n    vpc: ${{vpc.id}}\n    description: group {i}\n\
             \x20 tg{i}:\n    type: aws.target_group\n    vpc: ${{vpc.id}}\n    port: 80\n    protocol: HTTP\n\
             \x20 logs{i}:\n    type: aws.log_group\n    retention_days: 30\n\
             \x20 role{i}:\n    type: aws.iam_role\n    assumed_by: ecs-tasks.amazonaws.com\n\
             \x20 cluster{i}:\n    type: aws.ecs_cluster\n\
             \x20 repo{i}:\n    type: aws.ecr_repository\n\
             \x20 ip{i}:\n    type: aws.eip\n"
        ));
    }
    let stack = match load_str("reads.yaml", &y, &LoadOptions::default()) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("the generated stack does not load: {d:?}\n{y}"),
    };
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    (stack, provider)
}

/// Applies `stack`, reads every type of it one at a time as one batch each (what the
/// engine's plan does in parallel), counts the requests each batch takes, and destroys it.
async fn reads_per_type(
    aws: &AwsContext,
    (stack, provider): (Stack, Arc<dyn Provider>),
) -> Vec<TypeRead> {
    let (stack, provider) = (&stack, &provider);
    let tmp = tempfile::tempdir().expect("state directory");
    let mut state = State::new(&stack.name);
    let first = make_plan(stack, &state, provider).await;
    run(&first, &mut state, tmp.path(), provider).await;

    let by_type = state.read_requests();
    let mut out = Vec::new();
    for (rtype, reqs) in by_type {
        aws.requests().reset();
        let t = Instant::now();
        let found = provider
            .read(&rtype, &reqs)
            .await
            .unwrap_or_else(|e| panic!("read `{rtype}`: {e}"));
        assert!(
            found.iter().all(|f| f.live.is_some()),
            "a `{rtype}` is missing"
        );
        let took = t.elapsed();
        let operations = aws.requests().snapshot();
        out.push(TypeRead {
            rtype,
            resources: reqs.len(),
            requests: total(&operations),
            operations,
            took,
        });
    }

    let destroy = plan_destroy(stack, &state, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("plan destroy: {e}"));
    run(&destroy, &mut state, tmp.path(), provider).await;
    out
}

fn sample(case: &str, times: &[Duration], note: String) -> Sample {
    let mut times = times.to_vec();
    times.sort();
    Sample {
        case: case.into(),
        times,
        note,
    }
}

/// `ec2:DescribeVpcs x1, ...`
fn op_list(requests: &Requests) -> String {
    requests
        .iter()
        .map(|(o, c)| format!("{o} x{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_reads(reads: &[TypeRead]) -> String {
    let mut out = String::from(
        "| type | resources | requests | time | operations |\n|---|---:|---:|---:|---|\n",
    );
    for t in reads {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            t.rtype,
            t.resources,
            t.requests,
            fmt(t.took),
            op_list(&t.operations)
        ));
    }
    out
}

fn operations(requests: &Requests) -> String {
    let mut out = String::from("| operation | requests |\n|---|---:|\n");
    for (op, n) in requests {
        out.push_str(&format!("| {op} | {n} |\n"));
    }
    out.push_str(&format!("| **total** | **{}** |\n", total(requests)));
    out
}

fn main() {
    let reps: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| {
            a.parse()
                .expect("the argument is the number of repetitions")
        })
        .unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let t = Instant::now();
    let emulator = Emulator::start_with(EmulatorOptions {
        acm_validation_wait_secs: 0,
        ..EmulatorOptions::default()
    });
    let started = t.elapsed();
    eprintln!("emulator up at {} in {}", emulator.url(), fmt(started));

    rt.block_on(async {
        let config = AwsConfig {
            source: ConfigSource::Vars(emulator.aws_env()),
            ..AwsConfig::default()
        };
        let aws = AwsContext::load(&config).await.expect("config loads");
        aws.clients()
            .route53
            .create_hosted_zone()
            .name("example.com")
            .caller_reference("iac-bench")
            .send()
            .await
            .expect("CreateHostedZone");
        let (stack, _) = instance(&aws, "lemon-mart");
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for r in stack.resources.values() {
            *types.entry(r.schema.name).or_default() += 1;
        }
        eprintln!(
            "stacks/lemon-mart.yaml: {} resources of {} types; {reps} apply/plan/destroy cycles",
            stack.resources.len(),
            types.len()
        );

        // One untimed cycle first: moto loads its IAM managed policies and warms its
        // backends on first use.
        cycle(&aws, "lemon-mart-warm-up", 1).await;
        let mut cycles = Vec::new();
        for i in 0..reps {
            let c = cycle(&aws, &format!("lemon-mart-{}", i + 1), 3).await;
            eprintln!(
                "  cycle {}: apply {}, no-op plan {}, destroy {}",
                i + 1,
                fmt(c.apply),
                fmt(c.plans[0]),
                fmt(c.destroy)
            );
            cycles.push(c);
        }
        let last = cycles.last().expect("at least one cycle");
        let applies: Vec<Duration> = cycles.iter().map(|c| c.apply).collect();
        let plans: Vec<Duration> = cycles.iter().flat_map(|c| c.plans.clone()).collect();
        let destroys: Vec<Duration> = cycles.iter().map(|c| c.destroy).collect();
        let sweeps: Vec<Duration> = cycles.iter().map(|c| c.sweep).collect();
        let samples = [
            sample(
                "apply lemon-mart (plan + apply, from nothing)",
                &applies,
                format!(
                    "{} requests: {}",
                    total(&last.apply_requests),
                    per_service(&last.apply_requests)
                ),
            ),
            sample(
                "no-op plan of lemon-mart",
                &plans,
                format!(
                    "{} requests: {}",
                    total(&last.plan_requests),
                    per_service(&last.plan_requests)
                ),
            ),
            sample(
                "destroy lemon-mart (plan + apply)",
                &destroys,
                format!(
                    "{} requests: {}",
                    total(&last.destroy_requests),
                    per_service(&last.destroy_requests)
                ),
            ),
            sample(
                "sweep after the destroy (what `iac destroy` ends with)",
                &sweeps,
                format!(
                    "{} requests: {}",
                    total(&last.sweep_requests),
                    per_service(&last.sweep_requests)
                ),
            ),
        ];
        let mut report = common::table(
            &format!(
                "lemon-mart against the emulator ({} resources, {} types)",
                stack.resources.len(),
                types.len()
            ),
            &samples,
        );
        report.push_str("\n### Requests of one no-op plan, by operation\n\n");
        report.push_str(&operations(&last.plan_requests));

        report.push_str(
            "\n### One batched read per type of lemon-mart (the provider's `read`, one type at a time)\n\n",
        );
        let lemon = reads_per_type(&aws, instance(&aws, "lemon-mart-reads")).await;
        report.push_str(&type_reads(&lemon));

        // The same with 1 and 10 resources of each type: a read whose requests grow with
        // the resources is not batched (or its API has no batch form).
        let one = reads_per_type(&aws, generated(&aws, 1)).await;
        let ten = reads_per_type(&aws, generated(&aws, 10)).await;
        report.push_str(
            "\n### Requests of one batched read: 1 vs 10 resources of a type\n\n\
             | type | requests, 1 resource | requests, 10 resources | time, 10 | operations at 10 |\n|---|---:|---:|---:|---|\n",
        );
        for t in &ten {
            let at_one = one
                .iter()
                .find(|o| o.rtype == t.rtype)
                .map_or(0, |o| o.requests);
            report.push_str(&format!(
                "| {} | {at_one} | {} | {} | {} |\n",
                t.rtype,
                t.requests,
                fmt(t.took),
                op_list(&t.operations)
            ));
        }
        report.push_str(&format!(
            "\n### Requests of one apply, by operation\n\n{}",
            operations(&last.apply_requests)
        ));
        report.push_str(&format!(
            "\n### Requests of one destroy, by operation\n\n{}",
            operations(&last.destroy_requests)
        ));
        println!("{report}");
    });
}
