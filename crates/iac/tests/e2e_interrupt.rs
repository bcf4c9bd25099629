//! End-to-end, the real `iac` binary against the local AWS emulator (moto): runs that are
//! interrupted. Ctrl-C stops an apply (operations in flight finish), a second one aborts it,
//! with the state saved and exit 130; SIGTERM at the confirmation prompt releases the S3
//! lock and changes nothing.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::*;
use iac_testkit::Emulator;

/// A VPC that is created at once and a certificate that waits for its validation (moto is
/// told to take ten minutes): an apply with an operation reliably in flight.
const SLOW: &str = r#"stack: e2e-slow
region: us-east-1

resources:
  zone:
    type: aws.hosted_zone
    existing: true
    name: example.com

  cert:
    type: aws.certificate
    domain: app.example.com
    validation_zone: ${zone.id}

  vpc:
    type: aws.vpc
    cidr: 10.30.0.0/16
"#;

const ZONE: &str = "stack: e2e-zone\nregion: us-east-1\nresources:\n  zone:\n    type: aws.hosted_zone\n    name: example.com\n";

/// Send SIGINT to a process, as Ctrl-C in its terminal would.
fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT {pid}");
}

#[test]
fn ctrl_c_stops_then_aborts_with_the_state_saved_and_exit_130() {
    use std::io::BufRead;
    use std::sync::mpsc;

    let emulator = Emulator::start_with(iac_testkit::EmulatorOptions {
        acm_validation_wait_secs: 600,
        ..iac_testkit::EmulatorOptions::default()
    });
    let work = net_work(&net_stack());
    std::fs::write(work.path().join("zone.yaml"), ZONE).unwrap();
    std::fs::write(work.path().join("slow.yaml"), SLOW).unwrap();
    work.iac(&emulator, &["apply", "--yes", "zone.yaml"])
        .expect(0);

    let mut cmd = work.command(&["apply", "--yes", "slow.yaml"]);
    emulator.configure(&mut cmd);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start iac apply");
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let wait_for = |needle: &str, seen: &mut Vec<String>| {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while !seen.iter().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {needle:?} on stderr; got:\n{}", seen.join("\n")),
            }
        }
    };
    wait_for("+ vpc created", &mut seen);
    wait_for("cert: waiting for", &mut seen);

    interrupt(child.id());
    wait_for(
        "stopping after the operations in flight finish (Ctrl-C again to abort)",
        &mut seen,
    );
    interrupt(child.id());
    let status = child.wait().expect("iac exits");
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    let stderr = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("! cert: creating interrupted"), "{stderr}");
    assert!(stderr.contains("Apply interrupted after"), "{stderr}");

    // The state holds what finished; the lock went with the process.
    let text = std::fs::read_to_string(work.path().join(".iac/state/e2e-slow.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        state["resources"]["vpc"]["physical_id"].is_string(),
        "{text}"
    );
    assert!(state["resources"].get("cert").is_none(), "{text}");
    // The abandoned create left its intent: the certificate it requested is found and
    // adopted (then validated), never requested a second time.
    let pending = state["pending"]
        .as_array()
        .expect("the intent of the abandoned create");
    assert_eq!(pending.len(), 1, "{text}");
    assert_eq!(pending[0]["name"], "cert");
    let plan = work.iac(&emulator, &["plan", "slow.yaml"]).expect(0);
    plan.says("+ cert (aws.certificate) `arn:aws:acm:")
        .says("will be adopted (left by an interrupted apply)");
    assert!(!plan.stdout.contains("+ vpc"), "{}", plan.stdout);
}

/// SIGTERM (what CI runners send) while `iac apply` waits at its confirmation prompt: it
/// exits 130, creates nothing, and releases the S3 lock, which no operating system would
/// release for it. The prompt needs a terminal: `script` gives the process one.
#[test]
fn sigterm_at_the_prompt_releases_the_s3_lock_and_changes_nothing() {
    use std::io::BufRead;
    use std::sync::mpsc;

    let emulator = Emulator::start();
    let work = net_work(&with_state_in_s3(&emulator, &net_stack()));
    let iac = env!("CARGO_BIN_EXE_iac");
    let mut cmd = Command::new("script");
    cmd.current_dir(work.path())
        .args(["-qfec", &format!("exec {iac} apply net.yaml"), "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    emulator.configure(&mut cmd);
    let mut child = cmd.spawn().expect("start `script` (util-linux)");
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(stdout);
        let mut buf = Vec::new();
        // The prompt ends without a newline: read what comes, byte by byte.
        let mut byte = [0u8; 1];
        while r.read(&mut byte).map(|n| n > 0).unwrap_or(false) {
            buf.push(byte[0]);
            if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                break;
            }
        }
        let _ = r.read_until(b'\n', &mut buf);
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    while !seen.contains("Only 'yes' will be accepted") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(text) => seen = text,
            Err(_) => panic!("no prompt; got:\n{seen}"),
        }
    }
    // The lock is held while the prompt waits.
    let lock = s3_state_object(&emulator, ".lock");
    assert!(lock.starts_with("HTTP/1.1 200"), "{lock:.300}");
    let pid = Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty(), "no iac process under `script`");
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("script exits");
    drop(rx);
    let _ = reader.join();
    assert_eq!(status.code(), Some(130), "{seen}");

    let lock = s3_state_object(&emulator, ".lock");
    assert!(
        lock.starts_with("HTTP/1.1 404"),
        "the lock is left: {lock:.300}"
    );
    assert_eq!(
        network_count(&emulator, "e2e-net"),
        0,
        "nothing was created"
    );
    work.iac(&emulator, &["plan", "net.yaml"]).expect(0);
}
