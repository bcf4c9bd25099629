//! Crash safety of the real `iac` binary against the local AWS emulator (moto): `kill -9` at
//! a random moment of `iac apply` (and of `iac destroy`), then the same command again. The
//! claim: every object of the stack exists exactly once, a re-plan is clean, and destroy
//! leaves nothing of the stack.
//!
//! What exists is checked with the SDK straight against the emulator, never through iac: EC2
//! objects by their `iac:stack` tag grouped by `iac:name`, the others by the AWS names the
//! stack gives them (load balancers, target groups, listeners by port, ECS clusters, services
//! and active task definition revisions, IAM roles, log groups, ECR repositories,
//! certificates by domain, Route 53 records by name and type).
//!
//! One trial of apply: a fresh emulator, the hosted zone `example.com` applied
//! (stacks/demo/zone.yaml, as `just demo` does), `iac apply --yes stacks/lemon-mart.yaml`
//! killed after a pseudo-random delay in [0, T) where T is how long one uninterrupted apply
//! took (measured once, by a calibration trial that also checks the uninterrupted case), the
//! apply run again (it must exit 0), every object exactly once, `plan --detailed-exitcode`
//! exits 0, `destroy --yes` exits 0 and nothing is left. One trial of destroy: the stack
//! applied, `iac destroy --yes` killed in [0, one destroy's duration), destroy again, nothing
//! left.
//!
//! Settings (environment):
//! - `IAC_CRASH_TRIALS`: the number of trials, 3/5 of them (rounded up) of apply and the rest
//!   of destroy (default 5: 3 apply, 2 destroy), or `A+D` for A apply and D destroy trials.
//! - `IAC_CRASH_SEED`: the seed of the delays (default: from the clock). Each delay is a
//!   fraction of the measured duration, so the same seed kills at the same relative moments.
//! - `IAC_CRASH_DELAY_MS`: kill after exactly this many milliseconds instead (`700`), or after
//!   each of a list in turn (`600,650,700`).
//! - `IAC_CRASH_KILL_AT`: count the delay from the first line of the killed run's stderr
//!   that holds this text (`creating task...`), to aim at one operation; a run that never
//!   prints it is left to finish.
//! - `IAC_CRASH_KEEP`: keep every trial's directory, not only those of failed trials.
//!
//! Failures are collected over all trials and reported together, with the seed, the delay,
//! what was duplicated or left, the tail of every run's output, and the trial's directory
//! (kept: stacks, state, journal, each run's full output, the emulator log's tail).
//!
//! The binary is the one cargo builds next to this test (`<target>/debug/iac`): under
//! `cargo test --workspace` it is built with the tests; with `-p iac-aws`, run
//! `cargo build -p iac` first (`just crash-test` does).
//!
//! Emulator (moto 5.2.5) gaps that shape this test:
//! - moto answers operations it lacks with HTTP 500 and an HTML page, which the SDK treats as
//!   a server error and retries: a lookup moto lacks shows as a slow run that fails after
//!   its retries, not as a wrong answer. Every run here therefore has a timeout
//!   ([`RUN_TIMEOUT`]) and a timed-out run is reported as such.
//! - moto does not honour the NAT gateway `ClientToken` nor the Route 53 `CallerReference`:
//!   a create sent again with the same token makes a second object where AWS would answer
//!   with the first. Duplicates of a create the engine repeats after a crash are therefore
//!   visible here (AWS could hide some of them), which is what this test wants.
//! - moto's `CreateService` with a name in use replaces the service (AWS refuses it), so a
//!   second service cannot show here; `CreateLoadBalancer` with a name in use makes a second
//!   balancer, and a Route 53 `CREATE` of an existing name and type keeps both record sets,
//!   both of which the counts below would show.
//! - `MOTO_ECS_SERVICE_RUNNING=2` (iac-testkit's default) makes every ECS service report two
//!   running tasks, so waiting for a steady service ends only when the desired count is 2:
//!   the stack keeps its default `tasks: 2`.
//! - `MOTO_ACM_VALIDATION_WAIT=5`: the certificate turns ISSUED 5 s after it is requested, so
//!   most of an apply's duration is that wait and most random kills land in it.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_ec2::types::VpcAttributeName;
use aws_sdk_ecs::types::TaskDefinitionStatus;
use iac_aws::Clients;
use iac_stack::{Resource, Stack, Value};
use iac_testkit::Emulator;

/// The stack under test and the zone it looks up, relative to the repository root; the trial
/// directories keep this layout.
const STACK_FILE: &str = "stacks/lemon-mart.yaml";
const ZONE_FILE: &str = "stacks/demo/zone.yaml";

/// The longest any one run of iac may take (an uninterrupted apply takes about 10 s).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Lines of each run's output shown in a failure report (the whole output is in the kept
/// trial directory).
const TAIL_LINES: usize = 40;

// ---------------------------------------------------------------------------------------
// Settings.
// ---------------------------------------------------------------------------------------

/// How many trials of each kind, from `IAC_CRASH_TRIALS`.
fn trial_counts() -> (usize, usize) {
    let Ok(text) = std::env::var("IAC_CRASH_TRIALS") else {
        return (3, 2);
    };
    let text = text.trim();
    let bad = || -> ! {
        panic!("IAC_CRASH_TRIALS must be a number of trials (`20`) or `APPLY+DESTROY` (`12+8`), not `{text}`")
    };
    if let Some((a, d)) = text.split_once('+') {
        let a = a.trim().parse().unwrap_or_else(|_| bad());
        let d = d.trim().parse().unwrap_or_else(|_| bad());
        return (a, d);
    }
    let n: usize = text.parse().unwrap_or_else(|_| bad());
    let apply = (n * 3).div_ceil(5);
    (apply, n - apply)
}

/// `IAC_CRASH_SEED`, else one from the clock.
fn seed() -> u64 {
    match std::env::var("IAC_CRASH_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("IAC_CRASH_SEED must be an unsigned integer, not `{s}`")),
        Err(_) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the clock is after 1970");
            // Mixed with the pid so two runs started in the same instant differ.
            (now.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

/// `IAC_CRASH_DELAY_MS`: fixed delays instead of random ones, to replay a failure exactly:
/// one for every trial, or a comma-separated list used in turn.
fn fixed_delays() -> Vec<Duration> {
    let Ok(text) = std::env::var("IAC_CRASH_DELAY_MS") else {
        return Vec::new();
    };
    text.split(',')
        .map(|ms| {
            let ms = ms.trim().parse().unwrap_or_else(|_| {
                panic!("IAC_CRASH_DELAY_MS must be milliseconds (`700` or `600,650,700`), not `{text}`")
            });
            Duration::from_millis(ms)
        })
        .collect()
}

/// `IAC_CRASH_KILL_AT`: kill when the killed run's stderr shows a line holding this text
/// (then after the trial's delay), to aim at one operation.
fn kill_at() -> Option<String> {
    std::env::var("IAC_CRASH_KILL_AT")
        .ok()
        .filter(|t| !t.is_empty())
}

/// xorshift64*: enough randomness for kill moments, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // xorshift never leaves 0; any other fixed start will do.
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A fraction in [0, 1).
    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------------------
// Running the binary.
// ---------------------------------------------------------------------------------------

/// `<target>/debug/iac`, next to `<target>/debug/deps/crash-HASH`.
fn iac_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in <target>/<profile>/deps");
    let bin = debug.join(format!("iac{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the `iac` binary is not at `{}`: run `cargo build -p iac` first (with the same \
         CARGO_TARGET_DIR), or run this test under `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// One finished (or killed) run of the binary.
struct Run {
    label: String,
    /// `None` when killed by a signal (or by the timeout).
    code: Option<i32>,
    timed_out: bool,
    elapsed: Duration,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    fn describe_exit(&self) -> String {
        match (self.code, self.timed_out) {
            (_, true) => format!("timed out after {:?} and was killed", RUN_TIMEOUT),
            (Some(c), _) => format!("exit {c}"),
            (None, _) => "killed by a signal".to_owned(),
        }
    }

    /// The last lines of both streams, for a failure report.
    fn tail(&self) -> String {
        let tail = |s: &str| {
            let lines: Vec<&str> = s.lines().collect();
            let skipped = lines.len().saturating_sub(TAIL_LINES);
            let mut out = String::new();
            if skipped > 0 {
                out.push_str(&format!("    [... {skipped} lines]\n"));
            }
            for l in &lines[skipped..] {
                out.push_str("    ");
                out.push_str(l);
                out.push('\n');
            }
            out
        };
        format!(
            "  --- `{}`: {} after {:.1?}\n  stdout:\n{}  stderr:\n{}",
            self.label,
            self.describe_exit(),
            self.elapsed,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}

/// A trial's directory, its emulator and its record of runs and problems.
struct Trial {
    title: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
    emulator: Emulator,
    runs: Vec<Run>,
    problems: Vec<String>,
    count: usize,
}

impl Trial {
    fn new(title: String, bin: &Path) -> Trial {
        let emulator = Emulator::start();
        let dir = tempfile::Builder::new()
            .prefix("iac-crash-")
            .tempdir()
            .expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for file in [STACK_FILE, ZONE_FILE] {
            let to = dir.path().join(file);
            std::fs::create_dir_all(to.parent().unwrap()).expect("create the stacks directory");
            std::fs::copy(root.join(file), &to)
                .unwrap_or_else(|e| panic!("copy {file} to {}: {e}", to.display()));
        }
        std::fs::create_dir_all(dir.path().join("runs")).expect("create runs/");
        Trial {
            title,
            dir,
            bin: bin.to_owned(),
            emulator,
            runs: Vec::new(),
            problems: Vec::new(),
            count: 0,
        }
    }

    /// `iac ARGS` in the trial directory, pointed at the emulator, stdin closed, no colour,
    /// both streams to files under `runs/`.
    fn spawn(&mut self, label: &str, args: &[&str]) -> (Child, String, Instant) {
        self.count += 1;
        let slug: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let name = format!("{:02}-{slug}", self.count);
        let runs = self.dir.path().join("runs");
        let out = File::create(runs.join(format!("{name}.stdout"))).expect("create stdout file");
        let err = File::create(runs.join(format!("{name}.stderr"))).expect("create stderr file");
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        self.emulator.configure(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start `{}`: {e}", self.bin.display()));
        (child, name, Instant::now())
    }

    /// Waits for `child` (at most [`RUN_TIMEOUT`]) and records the run.
    fn finish(&mut self, label: &str, mut child: Child, name: String, started: Instant) -> &Run {
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for iac") {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for iac");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = started.elapsed();
        self.record(label, &name, status.code(), timed_out, elapsed)
    }

    fn record(
        &mut self,
        label: &str,
        name: &str,
        code: Option<i32>,
        timed_out: bool,
        elapsed: Duration,
    ) -> &Run {
        let runs = self.dir.path().join("runs");
        let read = |ext: &str| {
            std::fs::read_to_string(runs.join(format!("{name}.{ext}"))).unwrap_or_default()
        };
        self.runs.push(Run {
            label: label.to_owned(),
            code,
            timed_out,
            elapsed,
            stdout: read("stdout"),
            stderr: read("stderr"),
        });
        self.runs.last().unwrap()
    }

    /// `iac ARGS` to the end.
    fn iac(&mut self, args: &[&str]) -> &Run {
        let label = format!("iac {}", args.join(" "));
        let (child, name, started) = self.spawn(&label, args);
        self.finish(&label, child, name, started)
    }

    /// `iac ARGS`, which must exit 0; otherwise the problem is recorded and `false` returned.
    fn iac_ok(&mut self, args: &[&str]) -> bool {
        let run = self.iac(args);
        if run.ok() {
            return true;
        }
        let problem = format!("`{}` {} (expected exit 0)", run.label, run.describe_exit());
        self.problems.push(problem);
        false
    }

    /// `iac ARGS` killed with SIGKILL after `delay` (or left to finish if it ends before);
    /// with `IAC_CRASH_KILL_AT`, `delay` counts from the first stderr line holding that text.
    /// Returns whether it was still running when killed.
    fn iac_killed(&mut self, args: &[&str], delay: Duration) -> bool {
        let at = kill_at();
        let label = match &at {
            Some(text) => format!(
                "iac {} (kill -9 {} ms after {text:?} on stderr)",
                args.join(" "),
                delay.as_millis()
            ),
            None => format!(
                "iac {} (kill -9 after {} ms)",
                args.join(" "),
                delay.as_millis()
            ),
        };
        let (mut child, name, started) = self.spawn(&label, args);
        let stderr = self.dir.path().join("runs").join(format!("{name}.stderr"));
        let mut deadline = at.is_none().then_some(started + delay);
        let mut finished = None;
        while deadline.is_none_or(|d| Instant::now() < d) && started.elapsed() < RUN_TIMEOUT {
            if let Some(status) = child.try_wait().expect("wait for iac") {
                finished = Some(status);
                break;
            }
            if let (None, Some(text)) = (deadline, &at) {
                let seen = std::fs::read_to_string(&stderr).unwrap_or_default();
                if seen.lines().any(|l| l.contains(text.as_str())) {
                    deadline = Some(Instant::now() + delay);
                }
            }
            let left = deadline.map_or(Duration::from_millis(2), |d| {
                d.saturating_duration_since(Instant::now())
            });
            std::thread::sleep(left.min(Duration::from_millis(2)));
        }
        let killed = finished.is_none();
        let status = match finished {
            Some(status) => status,
            None => {
                // `Child::kill` is SIGKILL on unix: no handler, no cleanup, like `kill -9`.
                child.kill().expect("kill -9 iac");
                child.wait().expect("wait for the killed iac")
            }
        };
        let elapsed = started.elapsed();
        self.record(&label, &name, status.code(), false, elapsed);
        killed
    }

    fn clients(&self, rt: &tokio::runtime::Runtime) -> Clients {
        rt.block_on(common::context(&self.emulator))
            .clients()
            .clone()
    }

    /// Nothing of the stack is left, and the zone it only looked up is still there.
    fn check_nothing_left(&mut self, rt: &tokio::runtime::Runtime, stack: &Stack) {
        let clients = self.clients(rt);
        let left = rt.block_on(stack_leftovers(&clients, stack));
        for l in left {
            self.problems.push(format!("left after destroy: {l}"));
        }
        let state = self.iac(&["state", "list", STACK_FILE]);
        if !state.ok() || !state.stdout.trim().is_empty() {
            let problem = format!(
                "the state still lists resources after destroy ({}): {}",
                state.describe_exit(),
                state.stdout.trim()
            );
            self.problems.push(problem);
        }
    }

    /// Every object of the stack exists exactly once.
    fn check_each_once(&mut self, rt: &tokio::runtime::Runtime, stack: &Stack) {
        let clients = self.clients(rt);
        for p in rt.block_on(duplicates_and_missing(&clients, stack)) {
            self.problems.push(p);
        }
    }

    /// `plan --detailed-exitcode` exits 0.
    fn check_plan_clean(&mut self) {
        let run = self.iac(&["plan", "--detailed-exitcode", STACK_FILE]);
        if !run.ok() {
            let problem = format!(
                "the re-plan is not clean: `{}` {}:\n{}",
                run.label,
                run.describe_exit(),
                indent(run.stdout.trim_end())
            );
            self.problems.push(problem);
        }
    }

    /// `None` when clean; otherwise the report, with the directory kept for inspection
    /// (kept also when clean with `IAC_CRASH_KEEP=1`).
    fn verdict(self) -> Option<String> {
        if self.problems.is_empty() {
            if std::env::var_os("IAC_CRASH_KEEP").is_some() {
                println!("  {}: kept {}", self.title, self.dir.keep().display());
            }
            return None;
        }
        let tail = self.emulator.log_tail();
        let _ = std::fs::write(self.dir.path().join("moto-tail.log"), &tail);
        let mut report = format!("{}:\n", self.title);
        for p in &self.problems {
            report.push_str(&format!("- {p}\n"));
        }
        for run in &self.runs {
            report.push_str(&run.tail());
        }
        let _ = std::fs::write(self.dir.path().join("report.txt"), &report);
        let kept = self.dir.keep();
        report.push_str(&format!(
            "  (trial directory kept: {}; full outputs in runs/)\n",
            kept.display()
        ));
        Some(report)
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
}

/// How many lines of the rerun's plan say they take over what the killed run made.
fn adoptions(run: &Run) -> usize {
    run.stdout
        .lines()
        .filter(|l| l.contains("interrupted apply"))
        .count()
}

// ---------------------------------------------------------------------------------------
// What the stack should have made: from the stack file itself.
// ---------------------------------------------------------------------------------------

fn load_stack() -> Stack {
    common::load(STACK_FILE, &[], &[])
}

/// The resources of `rtype` the stack manages (not the `existing` look-ups).
fn managed<'s>(stack: &'s Stack, rtype: &str) -> Vec<&'s Resource> {
    stack
        .resources
        .values()
        .filter(|r| r.schema.name == rtype && !r.existing)
        .collect()
}

fn prop_str(r: &Resource, key: &str) -> Option<String> {
    match r.props.get(key) {
        Some(Value::Str(s)) => Some(s.clone()),
        Some(Value::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// The AWS name the stack gives `r` (`<stack>-<NAME>` by default), from the schema's
/// `aws_name` property.
fn aws_name(r: &Resource) -> String {
    let prop = r
        .schema
        .aws_name
        .as_ref()
        .and_then(|n| n.prop)
        .unwrap_or_else(|| panic!("`{}` ({}) has no name property", r.name, r.schema.name));
    prop_str(r, prop)
        .unwrap_or_else(|| panic!("`{}`.{prop} is not a plain string after loading", r.name))
}

/// The resource `r`'s property `key` refers to (`${alb.arn}` -> `alb`).
fn refers_to(r: &Resource, key: &str) -> Option<String> {
    match r.props.get(key) {
        Some(Value::Ref(reference)) => Some(reference.resource.clone()),
        _ => None,
    }
}

/// Route 53 names compare without the final dot and case-insensitively.
fn dns(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The types this test knows how to count; a stack with another type fails loudly so the
/// check is extended rather than silently skipped.
const COUNTED: &[&str] = &[
    "aws.vpc",
    "aws.subnet",
    "aws.internet_gateway",
    "aws.eip",
    "aws.nat_gateway",
    "aws.route_table",
    "aws.security_group",
    "aws.hosted_zone",
    "aws.certificate",
    "aws.load_balancer",
    "aws.target_group",
    "aws.listener",
    "aws.ecs_cluster",
    "aws.log_group",
    "aws.iam_role",
    "aws.ecr_repository",
    "aws.task_definition",
    "aws.ecs_service",
    "aws.dns_record",
];

/// `found` (each object's `(name, id)`) against `expected`: each expected name exactly once
/// (`what` says which kind), nothing else.
fn count_against(
    problems: &mut Vec<String>,
    what: &str,
    expected: &[String],
    found: &[(String, String)],
) {
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, id) in found {
        by_name.entry(name).or_default().push(id);
    }
    for name in expected {
        match by_name.get(name.as_str()) {
            None => problems.push(format!("{what} `{name}`: missing")),
            Some(ids) if ids.len() > 1 => {
                problems.push(format!("{what} `{name}`: {} objects {ids:?}", ids.len()))
            }
            Some(_) => {}
        }
    }
    for (name, ids) in &by_name {
        if !expected.iter().any(|e| e == name) {
            problems.push(format!(
                "{what} `{name}`: not in the stack, yet exists {ids:?}"
            ));
        }
    }
}

/// The hosted zones `stack` looks up, as `(resource, zone name, ids of the zones of that
/// name)`.
async fn looked_up_zones(c: &Clients, stack: &Stack) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for r in stack.resources.values() {
        if r.schema.name == "aws.hosted_zone" && r.existing {
            let name = prop_str(r, "name").expect("zone name");
            let ids = zones_named(c, &name).await;
            out.push((r.name.clone(), name, ids));
        }
    }
    out
}

/// The hosted zones named `name`, as ids without `/hostedzone/`.
async fn zones_named(c: &Clients, name: &str) -> Vec<String> {
    let out = c
        .route53
        .list_hosted_zones_by_name()
        .dns_name(name)
        .send()
        .await
        .expect("ListHostedZonesByName");
    out.hosted_zones()
        .iter()
        .filter(|z| dns(z.name()) == dns(name))
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
        .collect()
}

/// The record sets of `zone` other than its own NS and SOA, as `(name TYPE, target)`.
async fn records(c: &Clients, zone: &str) -> Vec<(String, String)> {
    common::record_sets(c, zone)
        .await
        .iter()
        .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
        .map(|r| {
            let target = match r.alias_target() {
                Some(a) => a.dns_name().to_owned(),
                None => r
                    .resource_records()
                    .iter()
                    .map(|v| v.value().to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
            };
            (format!("{} {}", dns(r.name()), r.r#type().as_str()), target)
        })
        .collect()
}

/// The ACTIVE ECS clusters as `(name, arn)`.
async fn active_clusters(c: &Clients) -> Vec<(String, String)> {
    let clusters = common::clusters(c).await;
    let active: Vec<_> = clusters
        .into_iter()
        .filter(|cl| cl.status() == Some("ACTIVE"))
        .collect();
    common::named(&active, |cl| cl.cluster_name(), |cl| cl.cluster_arn())
}

/// The DNS attributes of each VPC are what the stack says (default on): a read cannot see
/// them, so a VPC adopted after a kill between `CreateVpc` and `ModifyVpcAttribute` is
/// right only if the adopt sent them anyway.
async fn vpc_dns_as_stated(
    c: &Clients,
    stack: &Stack,
    found: &[(String, String)],
    problems: &mut Vec<String>,
) {
    for (name, id) in found {
        let Some(r) = stack.resources.get(name) else {
            continue;
        };
        for (prop, attr) in [
            ("dns_hostnames", VpcAttributeName::EnableDnsHostnames),
            ("dns_support", VpcAttributeName::EnableDnsSupport),
        ] {
            let want = !matches!(r.props.get(prop), Some(Value::Bool(false)));
            let got = c
                .ec2
                .describe_vpc_attribute()
                .vpc_id(id)
                .attribute(attr)
                .send()
                .await
                .expect("DescribeVpcAttribute");
            let value = match prop {
                "dns_hostnames" => got.enable_dns_hostnames(),
                _ => got.enable_dns_support(),
            }
            .and_then(|v| v.value());
            if value != Some(want) {
                problems.push(format!(
                    "aws.vpc `{name}` ({id}): `{prop}` is {value:?}, the stack says {want}"
                ));
            }
        }
    }
}

/// Every problem of "each object exactly once" for `stack`.
async fn duplicates_and_missing(c: &Clients, stack: &Stack) -> Vec<String> {
    let mut problems = Vec::new();
    for r in stack.resources.values() {
        assert!(
            COUNTED.contains(&r.schema.name),
            "the crash test does not know how to count `{}` ({}): extend it",
            r.name,
            r.schema.name
        );
    }
    let names_of = |rtype: &str| -> Vec<String> {
        managed(stack, rtype)
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    let aws_names_of = |rtype: &str| -> Vec<String> {
        managed(stack, rtype).iter().map(|r| aws_name(r)).collect()
    };
    // Objects found by their AWS name: each resource of `rtype` exactly once.
    let check = |rtype: &str, found: &[(String, String)], problems: &mut Vec<String>| {
        count_against(problems, rtype, &aws_names_of(rtype), found);
    };

    // EC2: by the stack tag, grouped by `iac:name`.
    for (rtype, found) in common::ec2_tagged(c, &stack.name).await {
        count_against(&mut problems, rtype, &names_of(rtype), &found);
        if rtype == "aws.vpc" {
            vpc_dns_as_stated(c, stack, &found, &mut problems).await;
        }
    }

    // The hosted zones the stack looks up: still exactly one each.
    let mut zone_ids = BTreeMap::new();
    for (resource, name, ids) in looked_up_zones(c, stack).await {
        if ids.len() != 1 {
            problems.push(format!("hosted zone `{name}` (looked up): {ids:?}"));
        }
        if let Some(id) = ids.first() {
            zone_ids.insert(resource, id.clone());
        }
    }
    assert!(
        managed(stack, "aws.hosted_zone").is_empty(),
        "the crash test counts only looked-up zones; extend it for managed ones"
    );

    // Load balancers and target groups, by name; listeners by port on each balancer.
    let lbs = common::load_balancers(c).await;
    check("aws.load_balancer", &lbs, &mut problems);
    check(
        "aws.target_group",
        &common::target_groups(c).await,
        &mut problems,
    );
    for lb in managed(stack, "aws.load_balancer") {
        let lb_name = aws_name(lb);
        let expected: Vec<String> = managed(stack, "aws.listener")
            .iter()
            .filter(|l| refers_to(l, "load_balancer").as_deref() == Some(lb.name.as_str()))
            .map(|l| format!("{lb_name}:{}", prop_str(l, "port").expect("listener port")))
            .collect();
        for (_, arn) in lbs.iter().filter(|(n, _)| *n == lb_name) {
            let found: Vec<(String, String)> = common::listeners_of(c, arn)
                .await
                .iter()
                .map(|l| {
                    (
                        format!("{lb_name}:{}", l.port().unwrap_or_default()),
                        l.listener_arn().unwrap_or("?").to_owned(),
                    )
                })
                .collect();
            count_against(&mut problems, "aws.listener", &expected, &found);
        }
    }

    // ECS: active clusters by name, active services in them by name, active revisions of
    // each task definition family (one: a second would be a revision the killed run
    // registered and nobody deregistered).
    let clusters = active_clusters(c).await;
    check("aws.ecs_cluster", &clusters, &mut problems);
    let mut services = Vec::new();
    for (_, arn) in &clusters {
        for chunk in common::service_arns(c, arn).await.chunks(10) {
            let described = c
                .ecs
                .describe_services()
                .cluster(arn)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .expect("DescribeServices");
            services.extend(
                described
                    .services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .map(|s| {
                        (
                            s.service_name().unwrap_or("?").to_owned(),
                            s.service_arn().unwrap_or("?").to_owned(),
                        )
                    }),
            );
        }
    }
    check("aws.ecs_service", &services, &mut problems);
    for family in aws_names_of("aws.task_definition") {
        let revisions = common::task_definitions(c, &family, TaskDefinitionStatus::Active).await;
        let found: Vec<(String, String)> = revisions
            .iter()
            .filter(|a| a.contains(&format!("task-definition/{family}:")))
            .map(|a| (family.clone(), a.clone()))
            .collect();
        count_against(
            &mut problems,
            "aws.task_definition (active revisions)",
            std::slice::from_ref(&family),
            &found,
        );
    }

    // IAM roles by name (IAM names are unique: this finds a missing one, or a stray one of
    // the stack's prefix).
    check(
        "aws.iam_role",
        &common::roles_named(c, &stack.name).await,
        &mut problems,
    );

    // Log groups under the stack's prefix, ECR repositories (the account is fresh: all of
    // them are the stack's).
    let groups: Vec<(String, String)> = common::log_groups(c, &stack.name)
        .await
        .into_iter()
        .map(|name| (name.clone(), name))
        .collect();
    check("aws.log_group", &groups, &mut problems);
    check(
        "aws.ecr_repository",
        &common::repositories(c).await,
        &mut problems,
    );

    // Certificates by domain (the account is fresh: all of them are the stack's).
    let certs = common::certificates(c).await;
    let domains: Vec<String> = managed(stack, "aws.certificate")
        .iter()
        .map(|r| prop_str(r, "domain").expect("certificate domain"))
        .collect();
    count_against(&mut problems, "aws.certificate", &domains, &certs);

    // Route 53: each record of the stack once, one validation CNAME per certificate, and
    // nothing else in the zone but its own NS and SOA.
    for (zone_res, zone_id) in &zone_ids {
        let mut expected: Vec<String> = managed(stack, "aws.dns_record")
            .iter()
            .filter(|r| refers_to(r, "zone").as_deref() == Some(zone_res.as_str()))
            .map(|r| {
                format!(
                    "{} {}",
                    dns(&prop_str(r, "name").expect("record name")),
                    prop_str(r, "record_type").expect("record type")
                )
            })
            .collect();
        let validated: Vec<String> = managed(stack, "aws.certificate")
            .iter()
            .filter(|r| refers_to(r, "validation_zone").as_deref() == Some(zone_res.as_str()))
            .map(|r| dns(&prop_str(r, "domain").expect("certificate domain")))
            .collect();
        // Validation records are `_<token>.<domain> CNAME`: counted per domain.
        let found: Vec<(String, String)> = records(c, zone_id)
            .await
            .into_iter()
            .map(|(key, target)| {
                let validation = key.strip_suffix(" CNAME").and_then(|name| {
                    validated
                        .iter()
                        .find(|d| name.starts_with('_') && name.ends_with(&format!(".{d}")))
                });
                match validation {
                    Some(d) => (format!("validation CNAME of {d}"), key),
                    None => (key, target),
                }
            })
            .collect();
        expected.extend(validated.iter().map(|d| format!("validation CNAME of {d}")));
        count_against(&mut problems, "aws.dns_record", &expected, &found);
    }
    problems
}

/// Everything of `stack` still in the account after a destroy (the zones it only looks up
/// excepted, which must remain).
async fn stack_leftovers(c: &Clients, stack: &Stack) -> Vec<String> {
    let mut left = Vec::new();
    let mut zone_ids = Vec::new();
    for (_, name, ids) in looked_up_zones(c, stack).await {
        if ids.len() != 1 {
            left.push(format!(
                "hosted zone `{name}` (only looked up, must stay exactly once): {ids:?}"
            ));
        }
        zone_ids.extend(ids);
    }
    left.extend(common::stack_leftovers(c, &stack.name, &zone_ids).await);
    left
}

// ---------------------------------------------------------------------------------------
// The trials.
// ---------------------------------------------------------------------------------------

/// A fresh emulator with the zone applied (a failure is among the trial's problems).
fn trial_with_zone(title: String, bin: &Path) -> Trial {
    let mut trial = Trial::new(title, bin);
    trial.iac_ok(&["apply", "--yes", ZONE_FILE]);
    trial
}

/// Apply, check, re-plan, destroy, check, uninterrupted: returns the trial and the durations
/// of the apply and the destroy.
fn calibrate(
    bin: &Path,
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
) -> (Option<String>, Duration, Duration) {
    let mut trial = trial_with_zone("calibration (no kill)".into(), bin);
    let started = Instant::now();
    let applied = trial.iac_ok(&["apply", "--yes", STACK_FILE]);
    let apply_time = started.elapsed();
    if !applied {
        let report = trial.verdict().unwrap_or_default();
        panic!("the uninterrupted apply fails, so no crash trial can be judged:\n{report}");
    }
    trial.check_each_once(rt, stack);
    trial.check_plan_clean();
    let started = Instant::now();
    let destroyed = trial.iac_ok(&["destroy", "--yes", STACK_FILE]);
    let destroy_time = started.elapsed();
    if destroyed {
        trial.check_nothing_left(rt, stack);
    }
    (trial.verdict(), apply_time, destroy_time)
}

/// One trial of a killed apply.
fn apply_trial(
    title: String,
    bin: &Path,
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
    delay: Duration,
) -> (Option<String>, String) {
    let mut trial = trial_with_zone(title, bin);
    if !trial.problems.is_empty() {
        return (trial.verdict(), "zone failed".into());
    }
    let killed = trial.iac_killed(&["apply", "--yes", STACK_FILE], delay);
    let mut note = if killed {
        "killed".to_owned()
    } else {
        format!(
            "finished before the kill ({})",
            trial.runs.last().unwrap().describe_exit()
        )
    };
    if trial.iac_ok(&["apply", "--yes", STACK_FILE]) {
        let adopted = adoptions(trial.runs.last().unwrap());
        note.push_str(&format!(", rerun adopted {adopted}"));
        trial.check_each_once(rt, stack);
        trial.check_plan_clean();
    }
    if trial.iac_ok(&["destroy", "--yes", STACK_FILE]) {
        trial.check_nothing_left(rt, stack);
    }
    (trial.verdict(), note)
}

/// One trial of a killed destroy.
fn destroy_trial(
    title: String,
    bin: &Path,
    rt: &tokio::runtime::Runtime,
    stack: &Stack,
    delay: Duration,
) -> (Option<String>, String) {
    let mut trial = trial_with_zone(title, bin);
    if !trial.problems.is_empty() {
        return (trial.verdict(), "zone failed".into());
    }
    if !trial.iac_ok(&["apply", "--yes", STACK_FILE]) {
        return (trial.verdict(), "apply failed".into());
    }
    let killed = trial.iac_killed(&["destroy", "--yes", STACK_FILE], delay);
    let note = if killed {
        "killed".to_owned()
    } else {
        format!(
            "finished before the kill ({})",
            trial.runs.last().unwrap().describe_exit()
        )
    };
    if trial.iac_ok(&["destroy", "--yes", STACK_FILE]) {
        trial.check_nothing_left(rt, stack);
    }
    (trial.verdict(), note)
}

/// A panic inside a trial (an emulator that does not start, an SDK call that fails) is a
/// failure of that trial, reported with the others.
fn guarded(title: &str, f: impl FnOnce() -> (Option<String>, String)) -> (Option<String>, String) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            (
                Some(format!("{title}:\n- panicked: {msg}\n")),
                "panicked".into(),
            )
        }
    }
}

#[test]
fn kill_9_at_any_moment_of_apply_or_destroy_then_again_leaves_each_object_once() {
    let total = Instant::now();
    let bin = iac_binary();
    let (apply_trials, destroy_trials) = trial_counts();
    let seed = seed();
    let fixed = fixed_delays();
    let stack = load_stack();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "crash seed: {seed} (replay: IAC_CRASH_SEED={seed} IAC_CRASH_TRIALS={apply_trials}+{destroy_trials}); binary {}",
        bin.display()
    );

    let mut failures = Vec::new();
    let (calibration, apply_time, destroy_time) = calibrate(&bin, &rt, &stack);
    println!(
        "calibration: uninterrupted apply {:.1?}, destroy {:.1?}: {}",
        apply_time,
        destroy_time,
        if calibration.is_none() {
            "clean"
        } else {
            "FAILED"
        }
    );
    failures.extend(calibration);

    let mut rng = Rng::new(seed);
    let kinds = std::iter::repeat_n(("apply", apply_time), apply_trials).chain(
        std::iter::repeat_n(("destroy", destroy_time), destroy_trials),
    );
    let count = apply_trials + destroy_trials;
    for (i, (kind, span)) in kinds.enumerate() {
        let mut fraction = rng.fraction();
        let delay = match fixed.get(i % fixed.len().max(1)) {
            Some(&delay) => {
                fraction = delay.as_secs_f64() / span.as_secs_f64();
                delay
            }
            None => span.mul_f64(fraction),
        };
        let title = match kill_at() {
            Some(text) => format!(
                "trial {}/{count} ({kind}): kill {} ms after {text:?} on stderr",
                i + 1,
                delay.as_millis(),
            ),
            None => format!(
                "trial {}/{count} ({kind}): seed {seed}, kill after {} ms of {} ms ({:.3})",
                i + 1,
                delay.as_millis(),
                span.as_millis(),
                fraction
            ),
        };
        let started = Instant::now();
        let (failure, note) = guarded(&title, || match kind {
            "apply" => apply_trial(title.clone(), &bin, &rt, &stack, delay),
            _ => destroy_trial(title.clone(), &bin, &rt, &stack, delay),
        });
        println!(
            "{title}: {} ({note}; {:.1?})",
            if failure.is_none() { "clean" } else { "FAILED" },
            started.elapsed()
        );
        failures.extend(failure);
    }

    if failures.is_empty() {
        println!(
            "crash trials: {apply_trials} apply, {destroy_trials} destroy, all clean (seed {seed}, {:.0?})",
            total.elapsed()
        );
    } else {
        panic!(
            "crash trials: {apply_trials} apply, {destroy_trials} destroy, {} failed (seed {seed}):\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
