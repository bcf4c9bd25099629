//! Running the binary: `iac` in a trial's directory, pointed at the trial's emulator,
//! finished or killed, and the trial's record of runs and problems.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use iac_aws::Clients;
use iac_stack::Stack;
use iac_testkit::Emulator;

use crate::checks::{duplicates_and_missing, stack_leftovers};
use crate::{common, kill_at, RUN_TIMEOUT, STACK_FILE, TAIL_LINES, ZONE_FILE};

/// `<target>/debug/iac`, next to `<target>/debug/deps/crash-HASH`.
pub fn iac_binary() -> PathBuf {
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
pub struct Run {
    label: String,
    /// `None` when killed by a signal (or by the timeout).
    code: Option<i32>,
    timed_out: bool,
    elapsed: Duration,
    stdout: String,
    stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    pub fn describe_exit(&self) -> String {
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
pub struct Trial {
    title: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
    emulator: Emulator,
    pub runs: Vec<Run>,
    pub problems: Vec<String>,
    count: usize,
}

impl Trial {
    pub fn new(title: String, bin: &Path) -> Trial {
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
    pub fn iac_ok(&mut self, args: &[&str]) -> bool {
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

    /// [`Trial::iac_killed`], told as the trial's note: `killed`, or how the run ended when
    /// it finished before the kill.
    pub fn iac_killed_note(&mut self, args: &[&str], delay: Duration) -> String {
        if self.iac_killed(args, delay) {
            "killed".to_owned()
        } else {
            format!(
                "finished before the kill ({})",
                self.runs.last().unwrap().describe_exit()
            )
        }
    }

    fn clients(&self, rt: &tokio::runtime::Runtime) -> Clients {
        rt.block_on(common::context(&self.emulator))
            .clients()
            .clone()
    }

    /// Nothing of the stack is left, and the zone it only looked up is still there.
    pub fn check_nothing_left(&mut self, rt: &tokio::runtime::Runtime, stack: &Stack) {
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
    pub fn check_each_once(&mut self, rt: &tokio::runtime::Runtime, stack: &Stack) {
        let clients = self.clients(rt);
        for p in rt.block_on(duplicates_and_missing(&clients, stack)) {
            self.problems.push(p);
        }
    }

    /// `plan --detailed-exitcode` exits 0.
    pub fn check_plan_clean(&mut self) {
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
    pub fn verdict(self) -> Option<String> {
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
pub fn adoptions(run: &Run) -> usize {
    run.stdout
        .lines()
        .filter(|l| l.contains("interrupted apply"))
        .count()
}
