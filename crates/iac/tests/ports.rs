//! Public templates ported to iac, as a new user porting an existing app writes them
//! (tests/fixtures/ports/, each file says which template it ports and what it left out),
//! run with the real binary on the emulator (moto) and checked from outside iac with boto3
//! (tests/emulator/leftovers.py):
//!
//! 1. `apply --yes` succeeds;
//! 2. `plan --detailed-exitcode` exits 0: what was applied reads back as the stack says;
//! 3. a second `apply --yes` changes nothing and registers no task definition revision;
//! 4. `destroy --yes` succeeds, and nothing tagged with the stack is left: no VPC part, load
//!    balancer, cluster, service, task definition revision (ACTIVE or INACTIVE), role, log
//!    group, repository, certificate or zone.
//!
//! A stack that validates a certificate needs a public zone first: the test applies
//! stacks/demo/zone.yaml (`example.com`, as `just demo` does) before it.
//!
//! The platform example (stacks/platform/: a network stack, and an app stack that reads its
//! outputs) is run here too: network then app, the app's service checked with boto3
//! (tests/emulator/service_network.py) to run in the network stack's subnets, the network
//! stack's destroy refused while the app stack reads it, then both destroyed in order.
//!
//! moto needs to be installed (`just emulator-install`); these tests fail, never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use iac_testkit::Emulator;
use serde_json::Value as Json;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `iac ARGS` in `dir` against `emulator`; returns (exit code, stdout, stderr).
fn iac(emulator: &Emulator, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = common::iac_in(dir, emulator, args);
    (run.code, run.stdout, run.stderr)
}

fn iac_ok(emulator: &Emulator, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = iac(emulator, dir, args);
    assert_eq!(
        code,
        0,
        "`iac {}` exited {code}\n--- stdout\n{out}\n--- stderr\n{err}\n--- emulator\n{}",
        args.join(" "),
        emulator.log_tail()
    );
    out
}

/// What the boto3 script `tests/emulator/SCRIPT` prints (JSON) when run with `args`
/// against `emulator`.
fn boto3(emulator: &Emulator, script: &str, args: &[&str]) -> Json {
    let python = iac_testkit::moto_server_path().with_file_name("python");
    let mut cmd = Command::new(&python);
    cmd.arg(repo().join("tests/emulator").join(script))
        .args(["--endpoint", emulator.url(), "--region", "us-east-1"])
        .args(args);
    emulator.configure(&mut cmd);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{} cannot run: {e}", python.display()));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{script} prints JSON"))
}

/// What boto3 finds of `stack` (see tests/emulator/leftovers.py).
fn leftovers(emulator: &Emulator, stack: &str) -> Json {
    boto3(emulator, "leftovers.py", &["--stack", stack])
}

/// Applies, re-plans, applies again and destroys the port `file` (stack `stack`).
fn port_round_trip(file: &str, stack: &str, needs_zone: bool) {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::copy(
        repo().join("tests/fixtures/ports").join(file),
        dir.join(file),
    )
    .expect("copy the port");
    if needs_zone {
        std::fs::copy(repo().join("stacks/demo/zone.yaml"), dir.join("zone.yaml"))
            .expect("copy the zone stack");
        iac_ok(&emulator, dir, &["apply", "--yes", "zone.yaml"]);
    }

    iac_ok(&emulator, dir, &["apply", "--yes", file]);
    let (code, out, err) = iac(&emulator, dir, &["plan", "--detailed-exitcode", file]);
    assert_eq!(
        code, 0,
        "the re-plan after apply is not clean\n{out}\n{err}"
    );
    // The same, as a pull-request comment would show it.
    let md = iac_ok(
        &emulator,
        dir,
        &["plan", "--no-color", "--format", "markdown", file],
    );
    assert!(
        md.starts_with(&format!("### iac plan for `{stack}`: no changes\n")),
        "{md}"
    );
    assert!(md.contains("(no change), estimated**"), "{md}");
    let before = leftovers(&emulator, stack);
    assert!(
        !before["tagged"].as_array().expect("tagged").is_empty(),
        "boto3 finds nothing of `{stack}` after apply: {before}"
    );

    let again = iac_ok(&emulator, dir, &["apply", "--yes", file]);
    assert!(again.contains("No changes."), "{again}");
    let after = leftovers(&emulator, stack);
    assert_eq!(
        after["task_definitions"], before["task_definitions"],
        "a second apply of an unchanged stack registered a revision"
    );

    iac_ok(&emulator, dir, &["destroy", "--yes", file]);
    let left = leftovers(&emulator, stack);
    assert_eq!(
        left,
        serde_json::json!({"tagged": [], "task_definitions": {}}),
        "destroy left objects tagged with `{stack}`"
    );
}

#[test]
fn the_two_stack_cloudformation_sample_with_a_public_alb() {
    port_round_trip("cfn-public-service.yaml", "cfn-public", false);
}

#[test]
fn the_cloudformation_https_template_with_acm_and_route53() {
    port_round_trip("cfn-https.yaml", "cfn-https", true);
}

#[test]
fn the_terraform_module_fargate_example_with_a_log_router_sidecar() {
    port_round_trip("tf-fargate.yaml", "tf-fargate", false);
}

/// The state of `stack` in `dir`.
fn state_of(dir: &Path, stack: &str) -> Json {
    let text =
        std::fs::read_to_string(dir.join(format!(".iac/state/{stack}.json"))).expect("state file");
    serde_json::from_str(&text).expect("state JSON")
}

/// Where boto3 finds the service `service` of `cluster` running.
fn service_network(emulator: &Emulator, cluster: &str, service: &str) -> Json {
    boto3(
        emulator,
        "service_network.py",
        &["--cluster", cluster, "--service", service],
    )
}

#[test]
fn the_platform_example_network_then_an_app_that_reads_its_outputs() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    for file in ["network.yaml", "app.yaml"] {
        std::fs::copy(repo().join("stacks/platform").join(file), dir.join(file))
            .expect("copy the example");
    }
    iac_ok(&emulator, dir, &["apply", "--yes", "network.yaml"]);
    let plan = iac_ok(&emulator, dir, &["plan", "app.yaml"]);
    assert!(
        plan.contains("<= network: stack `platform-network`"),
        "{plan}"
    );
    iac_ok(&emulator, dir, &["apply", "--yes", "app.yaml"]);
    let (code, out, err) = iac(&emulator, dir, &["plan", "--detailed-exitcode", "app.yaml"]);
    assert_eq!(
        code, 0,
        "the re-plan after apply is not clean\n{out}\n{err}"
    );

    // The service runs in the network stack's subnets, as AWS says.
    let net = state_of(dir, "platform-network");
    let app = state_of(dir, "platform-app");
    let id = |state: &Json, name: &str| {
        state["resources"][name]["physical_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no `{name}` in the state"))
            .to_string()
    };
    let mut subnets = vec![id(&net, "public_a"), id(&net, "public_b")];
    subnets.sort();
    let cluster = id(&app, "cluster");
    let service = app["resources"]["web"]["inputs"]["name"]
        .as_str()
        .expect("the service's name")
        .to_string();
    let running = service_network(&emulator, &cluster, &service);
    assert_eq!(running["subnets"], serde_json::json!(subnets), "{running}");
    assert_eq!(
        running["vpcs"],
        serde_json::json!([id(&net, "vpc")]),
        "{running}"
    );

    // The network stack is read by the app stack: its destroy is refused, nothing changes.
    let (code, _, err) = iac(&emulator, dir, &["destroy", "--yes", "network.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("stack `platform-app` (its `network`) read its outputs"),
        "{err}"
    );
    assert!(!leftovers(&emulator, "platform-network")["tagged"]
        .as_array()
        .expect("tagged")
        .is_empty());

    // In order: the app, then the network; nothing is left of either.
    iac_ok(&emulator, dir, &["destroy", "--yes", "app.yaml"]);
    iac_ok(&emulator, dir, &["destroy", "--yes", "network.yaml"]);
    for stack in ["platform-app", "platform-network"] {
        assert_eq!(
            leftovers(&emulator, stack),
            serde_json::json!({"tagged": [], "task_definitions": {}}),
            "destroy left objects tagged with `{stack}`"
        );
    }
}

/// Issue 15's check through the real binary: `iac plan stacks/lemon-mart.yaml` on the
/// emulator ends with the monthly total, and each priced resource's block has its line, the
/// figures that crates/iac-cost/tests/plan.rs works out by hand from prices/aws.yaml.
#[test]
fn the_lemon_mart_plan_prints_its_monthly_cost() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::copy(repo().join("stacks/demo/zone.yaml"), dir.join("zone.yaml"))
        .expect("copy the zone stack");
    std::fs::copy(
        repo().join("stacks/lemon-mart.yaml"),
        dir.join("lemon-mart.yaml"),
    )
    .expect("copy lemon-mart");
    iac_ok(&emulator, dir, &["apply", "--yes", "zone.yaml"]);
    let plan = iac_ok(&emulator, dir, &["plan", "lemon-mart.yaml"]);
    let block = |name: &str| -> String {
        let start = plan
            .find(&format!(" {name} ("))
            .unwrap_or_else(|| panic!("no `{name}` in\n{plan}"));
        plan[start..].split("\n\n").next().unwrap().to_string()
    };
    assert!(
        block("alb").contains("monthly cost: +$24.31/mo"),
        "{}",
        block("alb")
    );
    assert!(
        block("web").contains("monthly cost: +$25.32/mo"),
        "{}",
        block("web")
    );
    assert!(
        block("logs").contains("monthly cost: +$0.53/mo"),
        "{}",
        block("logs")
    );
    assert!(
        plan.contains("Monthly cost: $0.00 -> $50.16 (+$50.16/mo), estimated"),
        "{plan}"
    );
    let cost = iac_ok(&emulator, dir, &["cost", "lemon-mart.yaml"]);
    assert!(cost.contains("$50.16"), "{cost}");
}
