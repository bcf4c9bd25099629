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

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod run;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iac_stack::Stack;

use checks::load_stack;
use run::{adoptions, iac_binary, Trial};

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
    let mut note = trial.iac_killed_note(&["apply", "--yes", STACK_FILE], delay);
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
    let note = trial.iac_killed_note(&["destroy", "--yes", STACK_FILE], delay);
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
