//! End-to-end on the emulator (moto), through the real binary: the JSON events of
//! `iac apply --json` and `iac destroy --json`, saved destroy plans (`iac plan --destroy
//! --out`), and saved plans applied from another working directory.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.
//! The helpers that count what exists in the emulator are those of `e2e.rs` (each test
//! binary is its own crate).

use std::collections::HashSet;

mod common;

use common::*;
use iac_testkit::Emulator;
use serde_json::Value as Json;

/// The network stack (see [`network_stack`]).
fn network() -> String {
    network_stack("e2e-plans", 40, false)
}

const RESOURCES: [&str; 6] = ["vpc", "public_a", "public_b", "igw", "routes", "web_sg"];

fn of_type<'a>(events: &'a [Json], t: &str) -> Vec<&'a Json> {
    events.iter().filter(|e| e["type"] == t).collect()
}

/// The checks every event stream of a run that started passes: `plan` first and `summary`
/// last; every started operation ends exactly once, after it started; the summary's counts
/// are the plan's; and returns the resources operated on.
fn check_stream(events: &[Json], kind: &str) -> HashSet<String> {
    let plan = events.first().expect("events");
    assert_eq!(plan["type"], "plan", "{plan}");
    assert_eq!(plan["kind"], kind);
    // A whole destroy ends with the sweep, after the summary.
    let events = match events.last() {
        Some(e) if e["type"] == "sweep" && kind == "destroy" => &events[..events.len() - 1],
        _ => events,
    };
    let summary = events.last().unwrap();
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(summary["kind"], kind);
    let mut open: Vec<(String, String)> = Vec::new();
    let mut touched = HashSet::new();
    for e in events {
        let key = || {
            (
                e["resource"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        };
        match e["type"].as_str().unwrap() {
            "operation_started" => {
                touched.insert(key().0);
                open.push(key());
            }
            "operation_finished" | "operation_failed" => {
                let i = open
                    .iter()
                    .position(|k| *k == key())
                    .unwrap_or_else(|| panic!("{e} ends an operation that never started"));
                open.remove(i);
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "operations never ended: {open:?}");
    if summary["success"] == true {
        for (done, planned) in [
            ("added", "add"),
            ("changed", "change"),
            ("replaced", "replace"),
            ("destroyed", "destroy"),
        ] {
            assert_eq!(
                summary[done], plan["summary"][planned],
                "{done}: {summary} vs {plan}"
            );
        }
        assert_eq!(summary["failed"], 0);
        assert_eq!(summary["skipped"], 0);
    }
    touched
}

fn names(set: &HashSet<String>) -> Vec<&str> {
    let mut v: Vec<&str> = set.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

fn sorted(list: &[&'static str]) -> Vec<&'static str> {
    let mut v = list.to_vec();
    v.sort_unstable();
    v
}

#[test]
fn apply_and_destroy_json_print_one_event_per_line_that_add_up() {
    let emulator = Emulator::start();
    let work = work(&network());

    // No `--yes` and no saved plan: refused as one JSON diagnostic, before any AWS call.
    let refused = work
        .iac(&emulator, &["apply", "--json", "net.yaml"])
        .expect(1);
    let events = refused.events();
    assert_eq!(events.len(), 1, "{}", refused.stdout);
    assert_eq!(events[0]["type"], "diagnostic");
    assert_eq!(events[0]["severity"], "error");
    assert_eq!(events[0]["code"], "iac::cli::json_needs_yes");
    assert!(!work.state_file().exists(), "nothing is written");
    let refused = work
        .iac(&emulator, &["destroy", "--json", "net.yaml"])
        .expect(1);
    assert_eq!(refused.events()[0]["code"], "iac::cli::json_needs_yes");

    let applied = work
        .iac(&emulator, &["apply", "--json", "--yes", "net.yaml"])
        .expect(0);
    let events = applied.events();
    let touched = check_stream(&events, "apply");
    assert_eq!(names(&touched), sorted(&RESOURCES));
    assert_eq!(events[0]["saved"], false);
    assert_eq!(events[0]["summary"]["add"], 6);
    assert_eq!(events[0]["changes"].as_array().unwrap().len(), 6);
    for f in of_type(&events, "operation_finished") {
        assert_eq!(f["action"], "create", "{f}");
        assert!(
            f["physical_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{f}"
        );
        assert!(f["elapsed_s"].as_f64().is_some(), "{f}");
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["success"], true);
    assert_eq!(summary["added"], 6);
    let vpc_id = summary["outputs"]["vpc_id"].as_str().unwrap().to_string();
    let vpc_done = of_type(&events, "operation_finished")
        .into_iter()
        .find(|f| f["resource"] == "vpc")
        .unwrap();
    assert_eq!(vpc_done["physical_id"], vpc_id);
    assert_eq!(network_count(&emulator, "e2e-plans"), 6);

    // Nothing to do: still a plan and a summary, and nothing started.
    let noop = work
        .iac(&emulator, &["apply", "--json", "-y", "net.yaml"])
        .expect(0);
    let events = noop.events();
    assert!(check_stream(&events, "apply").is_empty());
    assert_eq!(events.len(), 2, "{}", noop.stdout);

    let destroyed = work
        .iac(&emulator, &["destroy", "--json", "--yes", "net.yaml"])
        .expect(0);
    let events = destroyed.events();
    let touched = check_stream(&events, "destroy");
    assert_eq!(names(&touched), sorted(&RESOURCES));
    // The summary, then the sweep: nothing tagged with the stack is left.
    let sweep = events.last().unwrap();
    assert_eq!(sweep["type"], "sweep", "{sweep}");
    assert_eq!(sweep["clean"], true, "{sweep}");
    assert_eq!(sweep["left"], serde_json::json!([]), "{sweep}");
    let summary = &events[events.len() - 2];
    assert_eq!(summary["destroyed"], 6);
    assert!(summary.get("outputs").is_none());
    for f in of_type(&events, "operation_finished") {
        assert_eq!(f["action"], "delete", "{f}");
        assert!(
            f["physical_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{f}"
        );
    }
    let vpc_gone = of_type(&events, "operation_finished")
        .into_iter()
        .find(|f| f["resource"] == "vpc")
        .unwrap();
    assert_eq!(vpc_gone["physical_id"], vpc_id);
    assert_eq!(network_count(&emulator, "e2e-plans"), 0);

    // Nothing left: a notice, an empty summary, and the sweep that proves it.
    let again = work
        .iac(&emulator, &["destroy", "--json", "--yes", "net.yaml"])
        .expect(0);
    let events = again.events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["notice", "summary", "sweep"]);
    assert!(events[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Nothing to destroy"));
    assert_eq!(events[1]["destroyed"], 0);
}

#[test]
fn a_failed_operation_is_an_operation_failed_event_and_exit_1() {
    let emulator = Emulator::start();
    let work = work(&network().replace("az: ${region}b", "az: ${region}q"));

    let failed = work
        .iac(&emulator, &["apply", "--json", "--yes", "net.yaml"])
        .expect(1);
    let events = failed.events();
    check_stream(&events, "apply");
    let failures = of_type(&events, "operation_failed");
    assert_eq!(failures.len(), 1, "{}", failed.stdout);
    assert_eq!(failures[0]["resource"], "public_b");
    assert_eq!(failures[0]["action"], "create");
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("InvalidParameterValue"),
        "{}",
        failures[0]
    );
    let skipped = of_type(&events, "skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["resource"], "routes");
    assert_eq!(skipped[0]["because"], "`public_b` failed");
    let summary = events.last().unwrap();
    assert_eq!(summary["success"], false);
    assert_eq!(
        (summary["added"].as_u64(), summary["failed"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(summary["skipped"], 1);
}

#[test]
fn destroy_plans_are_shown_saved_and_applied_from_anywhere_unless_stale() {
    let emulator = Emulator::start();
    let work = work(&network());
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("sub/dir")).unwrap();

    // A plan saved below the stack's directory applies from an unrelated working directory,
    // against the state beside the stack file.
    work.iac(
        &emulator,
        &["plan", "net.yaml", "--out", "sub/dir/create.json"],
    )
    .expect(0);
    let plan_file = work.path().join("sub/dir/create.json");
    let saved: Json = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["stack_file"], "net.yaml");
    assert_eq!(saved["stack_file_from_plan"], "../../net.yaml");
    let applied = iac_in(
        elsewhere.path(),
        &emulator,
        &["apply", plan_file.to_str().unwrap()],
    )
    .expect(0);
    applied.says("Apply complete: 6 added");
    assert!(work.state_file().exists());
    assert!(
        !elsewhere.path().join(".iac").exists(),
        "no state where iac ran"
    );

    // `plan --destroy` shows what `destroy` would delete; `--target` takes what depends
    // on the target too, and `--detailed-exitcode` says there are changes.
    let targeted = work
        .iac(
            &emulator,
            &[
                "plan",
                "--destroy",
                "--target",
                "public_a",
                "--detailed-exitcode",
                "net.yaml",
            ],
        )
        .expect(2);
    insta::assert_snapshot!("destroy_plan_targeted", mask_ids(&targeted.stdout));
    targeted.says("- public_a (aws.subnet)");
    targeted.says("- routes (aws.route_table)");
    assert!(!targeted.stdout.contains("- vpc "), "{}", targeted.stdout);
    let as_json = work
        .iac(
            &emulator,
            &["plan", "--destroy", "--format", "json", "net.yaml"],
        )
        .expect(0);
    let doc: Json = serde_json::from_str(&as_json.stdout).unwrap();
    assert_eq!(doc["kind"], "destroy");
    assert_eq!(doc["summary"]["destroy"], 6);
    let bad = work
        .iac(&emulator, &["plan", "--keep-orphans", "net.yaml"])
        .expect(1);
    bad.says_err("--destroy");

    // A destroy plan made before the state moved on is refused, and changes nothing.
    work.iac(
        &emulator,
        &["plan", "--destroy", "net.yaml", "--out", "old.json"],
    )
    .expect(0);
    work.edit_stack("team: web", "team: shop");
    work.iac(&emulator, &["apply", "--yes", "net.yaml"])
        .expect(0);
    let serial = work.serial();
    let stale = work.iac(&emulator, &["apply", "old.json"]).expect(1);
    assert!(
        stale.err_flat().contains("iac::apply::stale_plan")
            && stale.err_flat().contains("make a new plan"),
        "{}",
        stale.stderr
    );
    let stale = work
        .iac(&emulator, &["apply", "--json", "old.json"])
        .expect(1);
    let events = stale.events();
    assert_eq!(events.len(), 1, "{}", stale.stdout);
    assert_eq!(events[0]["type"], "diagnostic");
    assert_eq!(events[0]["code"], "iac::apply::stale_plan");
    assert_eq!(work.serial(), serial, "a stale plan changes nothing");
    assert_eq!(network_count(&emulator, "e2e-plans"), 6);

    // A plan copied away from its stack file is refused before any change.
    std::fs::copy(
        work.path().join("old.json"),
        elsewhere.path().join("old.json"),
    )
    .unwrap();
    let lost = iac_in(elsewhere.path(), &emulator, &["apply", "old.json"]).expect(1);
    assert!(
        lost.err_flat().contains("iac::apply::plan_location")
            && lost.err_flat().contains("which is not there"),
        "{}",
        lost.stderr
    );

    // A fresh destroy plan, applied from elsewhere with `--json` (a saved plan needs no
    // `--yes`: it was the review).
    let planned = work
        .iac(
            &emulator,
            &[
                "plan",
                "--destroy",
                "net.yaml",
                "--out",
                "sub/dir/destroy.json",
            ],
        )
        .expect(0);
    planned.says("0 to add, 0 to change, 0 to replace, 6 to destroy");
    planned.says_err("carry out the destroy with `iac apply sub/dir/destroy.json`");
    let plan_file = work.path().join("sub/dir/destroy.json");
    let destroyed = iac_in(
        elsewhere.path(),
        &emulator,
        &["apply", "--json", plan_file.to_str().unwrap()],
    )
    .expect(0);
    let events = destroyed.events();
    let touched = check_stream(&events, "destroy");
    assert_eq!(events[0]["saved"], true);
    assert_eq!(names(&touched), sorted(&RESOURCES));
    assert_eq!(network_count(&emulator, "e2e-plans"), 0);
    let state: Json =
        serde_json::from_str(&std::fs::read_to_string(work.state_file()).unwrap()).unwrap();
    assert!(
        state["resources"].as_object().unwrap().is_empty(),
        "{state}"
    );
}

/// A working directory with `text` as the stack file `net.yaml` (stack `e2e-plans`).
fn work(text: &str) -> Work {
    Work::new("net.yaml", "e2e-plans", text)
}
