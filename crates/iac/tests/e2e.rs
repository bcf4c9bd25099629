//! End-to-end: the real `iac` binary against the local AWS emulator (moto), in a temporary
//! directory holding a copy of the stack so `.iac/state/` lands there.
//!
//! What only this level proves: the commands are wired in the right order (a broken stack
//! or missing credentials stop before any lock or change), the exit codes, the confirmation
//! rules without a terminal, saved plans and their staleness, locking between processes,
//! and a full plan/apply/no-op/update/destroy cycle on real SDK calls.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.

use std::io::{Read, Write};
use std::process::Stdio;

mod common;

use common::*;
use iac_testkit::Emulator;

/// After a destroy: no part of the network is left in the emulator, and `iac state list`
/// lists nothing.
fn assert_nothing_left(work: &Work, emulator: &Emulator) {
    assert_eq!(network_count(emulator, "e2e-net"), 0);
    let list = work.iac(emulator, &["state", "list", "net.yaml"]).expect(0);
    assert_eq!(list.stdout, "");
}

#[test]
fn network_stack_plans_applies_converges_updates_and_destroys() {
    let emulator = Emulator::start();
    let work = net_work(&net_stack());

    let plan = work.iac(&emulator, &["plan", "net.yaml"]).expect(0);
    insta::assert_snapshot!("network_create_plan", plan.stdout);

    let apply = work.apply(&emulator);
    apply.says("Apply complete: 6 added, 0 changed, 0 replaced, 0 destroyed in ");
    apply.says("Outputs:\n  vpc_id = \"vpc-");
    // Not a terminal: one plain line per finished operation.
    apply.says_err("+ vpc created (");
    apply.says_err("+ routes created (");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(work.state_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "state file mode");
    }
    assert_eq!(work.state()["resources"].as_object().unwrap().len(), 6);
    assert_eq!(network_count(&emulator, "e2e-net"), 6);

    // Converged: nothing to do, and --detailed-exitcode says so with 0.
    let again = work
        .iac(&emulator, &["plan", "--detailed-exitcode", "net.yaml"])
        .expect(0);
    assert_eq!(again.stdout.trim(), "No changes.");

    // What the state holds, without AWS.
    let outputs = work
        .iac(&emulator, &["output", "--json", "net.yaml"])
        .expect(0);
    let outputs: serde_json::Value = serde_json::from_str(&outputs.stdout).unwrap();
    let vpc_id = outputs["vpc_id"].as_str().unwrap().to_string();
    assert_eq!(
        work.state()["resources"]["vpc"]["physical_id"],
        vpc_id.as_str()
    );
    let one = work
        .iac(&emulator, &["output", "net.yaml", "vpc_id"])
        .expect(0);
    assert_eq!(one.stdout, format!("{vpc_id}\n"));
    let list = work
        .iac(&emulator, &["state", "list", "net.yaml"])
        .expect(0);
    insta::assert_snapshot!("network_state_list", mask_ids(&list.stdout));
    let show = work
        .iac(&emulator, &["state", "show", "net.yaml", "web_sg"])
        .expect(0);
    let show: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(show["type"], "aws.security_group");
    assert_eq!(show["inputs"]["ingress"][0]["port"], 443);

    // One tag changed: exactly that update, exit 2.
    work.edit_stack("team: web", "team: shop");
    let update = work
        .iac(&emulator, &["plan", "--detailed-exitcode", "net.yaml"])
        .expect(2);
    insta::assert_snapshot!("network_update_plan", mask_ids(&update.stdout));
    let applied = work.iac(&emulator, &["apply", "-y", "net.yaml"]).expect(0);
    applied.says("Apply complete: 0 added, 1 changed, 0 replaced, 0 destroyed in ");
    work.iac(&emulator, &["plan", "--detailed-exitcode", "net.yaml"])
        .expect(0);

    // The JSON plan: the documented format, plus where the state is.
    let json = work
        .iac(&emulator, &["plan", "--json", "net.yaml"])
        .expect(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["stack"], "e2e-net");
    assert_eq!(json["stack_file"], "net.yaml");
    assert_eq!(json["summary"]["change"], 0);

    // `--target`: the security group only (nothing depends on it).
    let one = work
        .iac(
            &emulator,
            &["destroy", "--yes", "--target", "web_sg", "net.yaml"],
        )
        .expect(0);
    one.says("Destroy complete: 1 destroyed in ");
    assert_eq!(network_count(&emulator, "e2e-net"), 5);

    let destroy = work.destroy(&emulator);
    destroy.says("Destroy complete: 5 destroyed in ");
    destroy.says_err("- vpc destroyed (");
    assert_eq!(work.state()["resources"], serde_json::json!({}));
    assert_nothing_left(&work, &emulator);
}

#[test]
fn apply_refuses_without_a_terminal_and_saved_plans_apply_unless_stale() {
    let emulator = Emulator::start();
    let work = net_work(&net_stack());

    // No terminal, no --yes: the plan is shown, nothing is created.
    let refused = work.iac(&emulator, &["apply", "net.yaml"]).expect(1);
    refused.says("Plan: 6 to add");
    refused.says_err("refusing to apply without confirmation");
    assert!(refused.err_flat().contains("`--yes`"), "{}", refused.stderr);
    assert_eq!(network_count(&emulator, "e2e-net"), 0);
    assert!(!work.state_file().exists(), "no state is written");

    // A saved plan applies without asking (it was the review).
    work.iac(&emulator, &["plan", "net.yaml", "--out", "create.plan"])
        .expect(0);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("create.plan")).unwrap())
            .unwrap();
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["stack_file"], "net.yaml");
    let applied = work.iac(&emulator, &["apply", "create.plan"]).expect(0);
    applied.says("Apply complete: 6 added");
    assert_eq!(network_count(&emulator, "e2e-net"), 6);

    // Two plans made against the same state: the first applied makes the second stale.
    work.edit_stack("team: web", "team: shop");
    work.iac(&emulator, &["plan", "net.yaml", "--out", "one.plan"])
        .expect(0);
    work.iac(&emulator, &["plan", "net.yaml", "--out", "two.plan"])
        .expect(0);
    work.iac(&emulator, &["apply", "one.plan"]).expect(0);
    let serial = work.state()["serial"].clone();
    let stale = work.iac(&emulator, &["apply", "two.plan"]).expect(1);
    assert!(
        stale.err_flat().contains("iac::apply::stale_plan")
            && stale.err_flat().contains("make a new plan"),
        "{}",
        stale.stderr
    );
    assert_eq!(
        work.state()["serial"],
        serial,
        "a stale plan changes nothing"
    );
    // Vars cannot change a saved plan.
    let mixed = work
        .iac(&emulator, &["apply", "one.plan", "--var", "x=1"])
        .expect(1);
    assert!(
        mixed.err_flat().contains("cannot change a saved plan"),
        "{}",
        mixed.stderr
    );

    work.destroy(&emulator);
    assert_eq!(network_count(&emulator, "e2e-net"), 0);
}

#[test]
fn plan_reads_under_a_held_lock_apply_waits_for_it_and_force_unlock_needs_its_id() {
    use fs4::fs_std::FileExt;
    use std::io::BufRead as _;

    let emulator = Emulator::start();
    let work = net_work(&net_stack());
    let lock_path = work.path().join(".iac/state/e2e-net.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let take = || {
        let mut held = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&lock_path)
            .unwrap();
        assert!(FileExt::try_lock_exclusive(&held).unwrap());
        held.write_all(
            br#"{"id": "0c1d2e3f-0000-1111-2222-333344445555", "who": "ana", "pid": 4242, "host": "ci-runner-7", "since": 1763900000, "operation": "apply"}"#,
        )
        .unwrap();
        held.sync_all().unwrap();
        held
    };
    let held = take();

    // `plan` only reads the state: another run's lock does not stop it.
    work.iac(&emulator, &["plan", "net.yaml"]).expect(0);
    for args in [
        &["apply", "--yes", "net.yaml"][..],
        &["destroy", "--yes", "net.yaml"][..],
    ] {
        let locked = work.iac(&emulator, args).expect(1);
        assert!(
            locked.err_flat().contains(
                "the state of `e2e-net` is locked by `ana@ci-runner-7` (pid 4242), running `apply` since 2025-11-23"
            ),
            "{args:?}: {}",
            locked.stderr
        );
        assert!(
            locked
                .err_flat()
                .contains("iac force-unlock net.yaml 0c1d2e3f"),
            "{}",
            locked.stderr
        );
    }
    assert_eq!(network_count(&emulator, "e2e-net"), 0, "nothing ran");

    // `--lock-timeout`: apply waits, naming the holder, and goes on once it is released.
    let mut cmd = work.command(&["apply", "--yes", "--lock-timeout", "5m", "net.yaml"]);
    emulator.configure(&mut cmd);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Waiting for the state lock of `e2e-net`") {
        assert_ne!(stderr.read_line(&mut seen).unwrap(), 0, "ended: {seen}");
    }
    assert!(seen.contains("held by `ana@ci-runner-7`"), "{seen}");
    drop(held);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert!(
        network_count(&emulator, "e2e-net") > 0,
        "applied once released"
    );

    let held = take();
    let wrong = work
        .iac(&emulator, &["force-unlock", "net.yaml", "not-the-id"])
        .expect(1);
    wrong.says_err("iac::state::lock_id_mismatch");
    assert!(lock_path.exists(), "a wrong id removes nothing");
    let unlocked = work
        .iac(
            &emulator,
            &[
                "force-unlock",
                "net.yaml",
                "0c1d2e3f-0000-1111-2222-333344445555",
            ],
        )
        .expect(0);
    unlocked.says("held by `ana@ci-runner-7` (pid 4242)");
    // A fresh lock file is taken; the test's (orphaned) lock no longer blocks.
    work.destroy(&emulator);
    assert_eq!(network_count(&emulator, "e2e-net"), 0);
    drop(held);
    let again = work
        .iac(&emulator, &["force-unlock", "net.yaml", "0c1d2e3f"])
        .expect(0);
    again.says("was not locked");
}

#[test]
fn an_invalid_stack_is_reported_before_any_aws_call() {
    let work = net_work(&net_stack().replace("cidr: 10.20.1.0/24", "cidr: 10.99.1.0/24"));
    // The endpoint is a closed port: any AWS call would fail with a connection error.
    let endpoint = closed_port_url();
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    // Every command that reads a stack: none gets as far as AWS or the state.
    for args in [
        &["plan", "net.yaml"][..],
        &["plan", "--refresh-only", "net.yaml"][..],
        &["plan", "--refresh=false", "net.yaml"][..],
        &["apply", "--yes", "net.yaml"][..],
        &["destroy", "--yes", "net.yaml"][..],
        &["import", "net.yaml", "vpc", "vpc-0a1b2c3d"][..],
        &["output", "net.yaml"][..],
        &["state", "list", "net.yaml"][..],
        &["state", "show", "net.yaml", "vpc"][..],
        &["state", "rm", "net.yaml", "vpc"][..],
        &["state", "mv", "net.yaml", "vpc", "main_vpc"][..],
        &[
            "force-unlock",
            "net.yaml",
            "0c1d0000-0000-0000-0000-000000000000",
        ][..],
    ] {
        let run = work.iac_bare(&env, args).expect(1);
        assert!(
            run.stderr.contains("`net.yaml` is not valid: 1 error"),
            "{args:?}: {}",
            run.stderr
        );
        run.says_err("10.99.1.0/24");
        assert!(!run.stderr.contains("cannot reach"), "{}", run.stderr);
        assert!(!work.path().join(".iac").exists(), "no lock was taken");
    }
}

#[test]
fn missing_credentials_are_one_clear_error_with_help() {
    let work = net_work(&net_stack());
    let missing = work.path().join("no-such-file");
    let missing = missing.to_str().unwrap();
    let endpoint = closed_port_url();
    let run = work
        .iac_bare(
            &[
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_CONFIG_FILE", missing),
                ("AWS_SHARED_CREDENTIALS_FILE", missing),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            &["plan", "net.yaml"],
        )
        .expect(1);
    run.says_err("iac::aws::credentials");
    run.says_err("no AWS credentials found");
    run.says_err("help:");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!work.path().join(".iac").exists(), "no lock was taken");

    // With credentials, the closed port is named as unreachable, with its own help.
    let run = work
        .iac_bare(
            &[
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_CONFIG_FILE", missing),
                ("AWS_SHARED_CREDENTIALS_FILE", missing),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            &["apply", "--yes", "net.yaml"],
        )
        .expect(1);
    run.says_err("iac::aws::unreachable");
    assert!(
        run.err_flat()
            .contains(&format!("cannot reach `{endpoint}")),
        "{}",
        run.stderr
    );
    run.says_err("help:");
}

#[test]
fn state_in_s3_is_used_for_apply_state_list_output_and_destroy() {
    let emulator = Emulator::start();
    let work = net_work(&with_state_in_s3(&emulator, &net_stack()));

    work.apply(&emulator);
    let object = s3_state_object(&emulator, "");
    assert!(object.starts_with("HTTP/1.1 200"), "{object:.300}");
    assert!(object.contains("\"stack\": \"e2e-net\""), "{object:.600}");
    assert!(
        !work.path().join(".iac").exists(),
        "nothing is kept locally"
    );

    let list = work
        .iac(&emulator, &["state", "list", "net.yaml"])
        .expect(0);
    assert_eq!(list.stdout.lines().count(), 6, "{}", list.stdout);
    let out = work
        .iac(&emulator, &["output", "net.yaml", "vpc_id"])
        .expect(0);
    assert!(out.stdout.starts_with("vpc-"), "{}", out.stdout);
    work.iac(&emulator, &["plan", "--detailed-exitcode", "net.yaml"])
        .expect(0);
    work.destroy(&emulator);
    assert_nothing_left(&work, &emulator);
}

#[test]
fn a_failed_resource_is_reported_its_dependents_skipped_and_the_rest_kept() {
    let emulator = Emulator::start();
    let work = net_work(&net_stack().replace("az: ${region}b", "az: ${region}q"));

    let failed = work
        .iac(&emulator, &["apply", "--yes", "net.yaml"])
        .expect(1);
    let err = failed.err_flat();
    assert!(
        err.contains("Apply failed after")
            && err.contains("4 added, 0 changed, 0 replaced, 0 destroyed; 1 failed, 1 skipped."),
        "{}",
        failed.stderr
    );
    assert!(
        err.contains("✗ public_b (create): `ec2:CreateSubnet` failed (`InvalidParameterValue`)"),
        "{}",
        failed.stderr
    );
    assert!(
        err.contains("- routes skipped: `public_b` failed"),
        "{}",
        failed.stderr
    );
    let state = work.state();
    let mut names: Vec<&String> = state["resources"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["igw", "public_a", "vpc", "web_sg"]);

    // Fixed, the next apply creates only what is missing.
    work.edit_stack("az: ${region}q", "az: ${region}b");
    let fixed = work.apply(&emulator);
    fixed.says("Apply complete: 2 added, 0 changed, 0 replaced, 0 destroyed");
    assert_eq!(network_count(&emulator, "e2e-net"), 6);
}

#[test]
fn ids_are_masked() {
    assert_eq!(
        mask_ids("vpc  aws.vpc  vpc-690324f07cd2c45ab\nsg-12 x"),
        "vpc  aws.vpc  <ID>\nsg-12 x"
    );
}
