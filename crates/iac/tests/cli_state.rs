//! The real `iac` binary editing a local state: `iac state rm` and `iac state mv` need no
//! AWS call, and `--replace` with an unknown name fails before one. The stack and its state
//! are written into a temporary directory; no emulator.

use std::process::Command;

mod common;

use common::Work;

const STACK: &str = "stack: demo
region: us-east-1
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  web_sg:
    type: aws.security_group
    vpc: ${vpc.id}
    description: web
";

/// A state as an apply of [`STACK`] would leave it.
fn state_json() -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "serial": 3,
        "lineage": "00112233445566778899aabbccddeeff",
        "stack": "demo",
        "resources": {
            "vpc": {
                "type": "aws.vpc",
                "physical_id": "vpc-0a1b2c3d",
                "inputs": {"cidr": "10.0.0.0/16"},
                "attrs": {"id": "vpc-0a1b2c3d"}
            },
            "web_sg": {
                "type": "aws.security_group",
                "physical_id": "sg-0a1b2c3d",
                "inputs": {"vpc": "vpc-0a1b2c3d", "description": "web"},
                "attrs": {"id": "sg-0a1b2c3d"},
                "dependencies": ["vpc"]
            }
        },
        "outputs": {}
    })
}

/// A directory with the stack `demo.yaml` and its state as [`state_json`] says.
fn work() -> Work {
    let w = Work::new("demo.yaml", "demo", STACK);
    w.write_state(&state_json());
    w
}

#[test]
fn state_rm_forgets_each_resource_and_says_the_object_is_left_in_aws() {
    let w = work();
    let o = w.iac_offline(&["state", "rm", "demo.yaml", "web_sg"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "Forgot `web_sg` (aws.security_group `sg-0a1b2c3d`): removed from the state; the object is left in AWS.\n"
    );
    assert!(
        o.stderr
            .contains("`web_sg` still in the stack: the next plan creates a new object"),
        "{}",
        o.stderr
    );
    let state = w.state();
    assert!(state["resources"].get("web_sg").is_none(), "{state}");
    assert_eq!(state["serial"], 4);
    assert_eq!(
        state["forgotten"],
        serde_json::json!([{"name": "web_sg", "type": "aws.security_group", "physical_id": "sg-0a1b2c3d"}])
    );
    // Folded into the state file: no journal left, and the previous version kept.
    assert!(!w.path().join(".iac/state/demo.journal").exists());
    assert!(w.path().join(".iac/state/demo.json.backup").exists());
    let o = w.iac_offline(&["state", "list", "demo.yaml"]);
    assert_eq!(o.stdout, "vpc  aws.vpc  vpc-0a1b2c3d\n");
}

#[test]
fn state_rm_of_an_unknown_name_is_an_error_and_writes_nothing() {
    let w = work();
    let before = std::fs::read(w.state_file()).unwrap();
    let o = w.iac_offline(&["state", "rm", "demo.yaml", "web_sg", "nope"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let e = o.stderr;
    assert!(e.contains("iac::state::unknown_resource"), "{e}");
    assert!(
        e.contains("the state has no resource `nope`; nothing was changed"),
        "{e}"
    );
    assert!(e.contains("the state holds `vpc`, `web_sg`"), "{e}");
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read(w.state_file()).unwrap(), before);
    assert!(!w.path().join(".iac/state/demo.journal").exists());
    // Names are required.
    let o = w.iac_offline(&["state", "rm", "demo.yaml"]);
    assert_eq!(o.code, 1);
}

/// The state lock held by this test process (an advisory file lock, as a run holds it),
/// with `holder` written in the file as a run writes itself.
struct HeldLock {
    file: std::fs::File,
}

impl HeldLock {
    fn take(w: &Work, holder: &iac_engine::LockInfo) -> HeldLock {
        use fs4::fs_std::FileExt;
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(w.path().join(".iac/state/demo.lock"))
            .unwrap();
        assert!(FileExt::try_lock_exclusive(&file).unwrap());
        file.write_all(serde_json::to_string(holder).unwrap().as_bytes())
            .unwrap();
        file.sync_all().unwrap();
        HeldLock { file }
    }

    fn release(self) {
        use fs4::fs_std::FileExt;
        FileExt::unlock(&self.file).unwrap();
    }
}

/// A run on another machine: alive as far as this one can tell.
fn ana() -> iac_engine::LockInfo {
    iac_engine::LockInfo {
        id: "0c1d2e3f-0000-1111-2222-333344445555".into(),
        who: "ana".into(),
        pid: 4242,
        host: "ci-runner-7".into(),
        since: 1_763_900_000,
        operation: "apply".into(),
    }
}

/// A run on this machine whose process has exited.
fn dead_here() -> iac_engine::LockInfo {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let mut info = iac_engine::LockInfo::here("apply");
    info.pid = pid;
    info
}

#[test]
fn state_rm_takes_the_lock_and_the_error_names_the_holder_and_how_to_break_it() {
    let w = work();
    let held = HeldLock::take(&w, &ana());
    let before = std::fs::read(w.state_file()).unwrap();
    let o = w.iac_offline(&["state", "rm", "demo.yaml", "web_sg"]);
    assert_eq!(o.code, 1);
    let e = o.err_flat();
    assert!(e.contains("iac::state::locked"), "{e}");
    assert!(
        e.contains(
            "the state of `demo` is locked by `ana@ci-runner-7` (pid 4242), running `apply` \
             since 2025-11-23 12:13:20 UTC, lock id `0c1d2e3f-0000-1111-2222-333344445555`"
        ),
        "{e}"
    );
    assert!(
        e.contains("iac force-unlock demo.yaml 0c1d2e3f-0000-1111-2222-333344445555"),
        "{e}"
    );
    assert!(
        !e.contains("Waiting for"),
        "no --lock-timeout, no wait: {e}"
    );
    insta::assert_snapshot!("state_rm_under_a_busy_lock", o.stderr);
    assert_eq!(std::fs::read(w.state_file()).unwrap(), before);
    held.release();
    let o = w.iac_offline(&["state", "mv", "demo.yaml", "web_sg", "app_sg"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn lock_timeout_elapsing_is_the_locked_error_after_naming_the_holder_while_waiting() {
    let w = work();
    let _held = HeldLock::take(&w, &ana());
    let before = std::fs::read(w.state_file()).unwrap();
    let o = w.iac_offline(&[
        "state",
        "mv",
        "demo.yaml",
        "web_sg",
        "app_sg",
        "--lock-timeout",
        "1s",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let e = o.err_flat();
    assert!(
        e.contains("Waiting for the state lock of `demo` (0s of 1s): held by `ana@ci-runner-7` (pid 4242), running `apply` since 2025-11-23 12:13:20 UTC"),
        "{e}"
    );
    assert!(e.contains("iac::state::locked"), "{e}");
    assert_eq!(
        std::fs::read(w.state_file()).unwrap(),
        before,
        "nothing written"
    );
}

#[test]
fn lock_timeout_waits_for_a_lock_released_during_the_wait_then_proceeds() {
    use std::io::BufRead as _;
    let w = work();
    let held = HeldLock::take(&w, &ana());
    let mut child = Command::new(env!("CARGO_BIN_EXE_iac"))
        .args(["state", "rm", "demo.yaml", "web_sg", "--lock-timeout", "5m"])
        .current_dir(w.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Released once the run says it waits for it.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Waiting for the state lock") {
        assert_ne!(stderr.read_line(&mut seen).unwrap(), 0, "ended: {seen}");
    }
    assert!(seen.contains("held by `ana@ci-runner-7`"), "{seen}");
    held.release();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}{rest}");
    assert!(w.state()["resources"].get("web_sg").is_none(), "forgotten");
}

#[test]
fn a_lock_held_for_a_dead_process_of_this_machine_is_reported_stale_with_the_command() {
    let w = work();
    let dead = dead_here();
    let _held = HeldLock::take(&w, &dead);
    // Not waited for: a dead holder never releases it (were it waited for, the error would
    // come after 20s, and be `locked`).
    let o = w.iac_offline(&[
        "state",
        "rm",
        "demo.yaml",
        "web_sg",
        "--lock-timeout",
        "20s",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let e = o.err_flat();
    assert!(e.contains("iac::state::stale_lock"), "{e}");
    assert!(
        e.contains("and that process is gone: the lock is stale"),
        "{e}"
    );
    assert!(
        e.contains(&format!("no process {} runs on `{}`", dead.pid, dead.host)),
        "{e}"
    );
    assert!(
        e.contains(&format!("`iac force-unlock demo.yaml {}`", dead.id)),
        "{e}"
    );
}

#[test]
fn a_free_lock_whose_file_names_a_dead_process_is_simply_taken() {
    let w = work();
    std::fs::write(
        w.path().join(".iac/state/demo.lock"),
        serde_json::to_string(&dead_here()).unwrap(),
    )
    .unwrap();
    let o = w.iac_offline(&["state", "rm", "demo.yaml", "web_sg"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn force_unlock_needs_the_id_of_the_lock_there() {
    let w = work();
    let _held = HeldLock::take(&w, &ana());
    let lock_file = w.path().join(".iac/state/demo.lock");
    let before = std::fs::read(&lock_file).unwrap();

    let o = w.iac_offline(&[
        "force-unlock",
        "demo.yaml",
        "0c1d2e3f-9999-9999-9999-999999999999",
    ]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let e = o.err_flat();
    assert!(e.contains("iac::state::lock_id_mismatch"), "{e}");
    assert!(
        e.contains("the lock of `demo` has the id `0c1d2e3f-0000-1111-2222-333344445555`, not `0c1d2e3f-9999-9999-9999-999999999999`, so it was not removed"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&lock_file).unwrap(),
        before,
        "the lock is left"
    );
    insta::assert_snapshot!("force_unlock_with_another_id", o.stderr);
    // The id is required.
    let o = w.iac_offline(&["force-unlock", "demo.yaml"]);
    assert_eq!(o.code, 1, "a usage error: {}", o.stderr);
    assert!(o.stderr.contains("<LOCK_ID>"), "{}", o.stderr);
    assert!(lock_file.exists());

    let o = w.iac_offline(&[
        "force-unlock",
        "demo.yaml",
        "0c1d2e3f-0000-1111-2222-333344445555",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("Removed the lock of `demo`, held by `ana@ci-runner-7` (pid 4242)"),
        "{}",
        o.stdout
    );
    assert!(!lock_file.exists());
    // The orphaned file lock no longer blocks: a new run locks a fresh file.
    let o = w.iac_offline(&["state", "rm", "demo.yaml", "web_sg"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = w.iac_offline(&[
        "force-unlock",
        "demo.yaml",
        "0c1d2e3f-0000-1111-2222-333344445555",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("was not locked"), "{}", o.stdout);
}

#[test]
fn state_mv_renames_the_resource_and_its_dependents_references() {
    let w = work();
    let o = w.iac_offline(&["state", "mv", "demo.yaml", "vpc", "network"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "Moved `vpc` to `network` (aws.vpc `vpc-0a1b2c3d`): renamed in the state; the object is unchanged in AWS.\n"
    );
    assert!(
        o.stderr
            .contains("`network` is not in the stack: the next plan destroys its object"),
        "{}",
        o.stderr
    );
    let state = w.state();
    assert_eq!(state["resources"]["network"]["physical_id"], "vpc-0a1b2c3d");
    assert_eq!(
        state["resources"]["network"]["former_names"],
        serde_json::json!(["vpc"])
    );
    assert_eq!(
        state["resources"]["web_sg"]["dependencies"],
        serde_json::json!(["network"])
    );
    assert!(state["resources"].get("vpc").is_none());
}

#[test]
fn state_mv_refuses_a_taken_an_unknown_or_an_invalid_name() {
    let w = work();
    let before = std::fs::read(w.state_file()).unwrap();
    for (args, want) in [
        (["vpc", "web_sg"], "iac::state::name_taken"),
        (["nope", "other"], "iac::state::unknown_resource"),
        (["vpc", "Net-Work"], "iac::state::invalid_name"),
    ] {
        let o = w.iac_offline(&["state", "mv", "demo.yaml", args[0], args[1]]);
        assert_eq!(o.code, 1, "{args:?}");
        assert!(o.stderr.contains(want), "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains("nothing was changed"), "{}", o.stderr);
    }
    assert_eq!(std::fs::read(w.state_file()).unwrap(), before);
}

#[test]
fn replace_of_an_unknown_name_fails_before_any_aws_call() {
    let w = work();
    for cmd in ["plan", "apply"] {
        let o = w.iac_offline(
            &[cmd, "demo.yaml", "--replace", "nope", "--yes"][..if cmd == "plan" { 4 } else { 5 }],
        );
        assert_eq!(o.code, 1, "{cmd}: {}", o.stdout);
        let e = o.stderr;
        assert!(e.contains("iac::plan::replace"), "{cmd}: {e}");
        assert!(
            e.contains("`--replace nope` names no resource of the stack"),
            "{cmd}: {e}"
        );
        assert!(!e.contains("iac::aws"), "{cmd} called AWS: {e}");
    }
    // The state was not even locked: nothing is left beside it.
    assert!(!w.path().join(".iac/state/demo.lock").exists());
}
