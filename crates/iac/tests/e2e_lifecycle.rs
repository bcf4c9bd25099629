//! End-to-end, the real `iac` binary against the local AWS emulator (moto): operating a
//! stack over its life. A target group a listener forwards to is renamed in the stack with a
//! `moved:` entry (one tag update, nothing created or deleted, since AWS refuses to delete a
//! target group in use), then replaced on purpose with `--replace`; a resource forgotten with
//! `iac state rm` stays in AWS while the next plan creates a new one; imports, drift, and a
//! destroy that proves nothing is left. What exists is checked with requests straight to the
//! emulator, not through iac. Stacks built on what they do not own: e2e_shared.rs.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.

use std::process::{Command, Stdio};

mod common;

use common::*;
use iac_testkit::Emulator;

/// A load balancer in two subnets, an HTTP listener forwarding to a target group.
const EDGE: &str = r#"stack: e2e-life
region: us-east-1

resources:
  vpc:
    type: aws.vpc
    cidr: 10.30.0.0/16

  public_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.30.1.0/24
    az: ${region}a

  public_b:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.30.2.0/24
    az: ${region}b

  web_sg:
    type: aws.security_group
    vpc: ${vpc.id}
    description: e2e web
    ingress:
      - { protocol: tcp, port: 80, cidr: 10.0.0.0/8 }

  alb:
    type: aws.load_balancer
    subnets:
      - ${public_a.id}
      - ${public_b.id}
    security_groups:
      - ${web_sg.id}

  web_tg:
    type: aws.target_group
    vpc: ${vpc.id}
    port: 80
    protocol: HTTP

  http:
    type: aws.listener
    load_balancer: ${alb.arn}
    port: 80
    protocol: HTTP
    forward: ${web_tg.arn}
"#;

/// A fresh emulator with `stack` applied to it.
fn applied(stack: &str) -> (Emulator, Work) {
    let emulator = Emulator::start();
    let work = work(stack);
    work.apply(&emulator);
    (emulator, work)
}

/// Destroy the stack: no target group is left in the emulator.
fn destroy_to_no_target_group(work: &Work, emulator: &Emulator) {
    work.destroy(emulator);
    assert!(target_group_arns(emulator).is_empty());
}

/// The names of the target groups the emulator holds.
fn target_group_arns(emulator: &Emulator) -> Vec<String> {
    let body = query(
        emulator,
        "elasticloadbalancing",
        "Action=DescribeTargetGroups&Version=2015-12-01",
    );
    body.split("<TargetGroupArn>")
        .skip(1)
        .filter_map(|p| p.split("</TargetGroupArn>").next())
        .map(str::to_string)
        .collect()
}

/// The `iac:name` tag of an ELB object.
fn elb_iac_name(emulator: &Emulator, arn: &str) -> String {
    let body = query(
        emulator,
        "elasticloadbalancing",
        &format!(
            "Action=DescribeTags&Version=2015-12-01&ResourceArns.member.1={}",
            encode(arn)
        ),
    );
    let at = body
        .find("<Key>iac:name</Key>")
        .unwrap_or_else(|| panic!("no iac:name tag: {body}"));
    let rest = &body[at..];
    let start = rest.find("<Value>").expect("a value") + "<Value>".len();
    let end = rest.find("</Value>").expect("a value");
    rest[start..end].to_string()
}

/// The listener's target group: where `http` forwards.
fn forwarded_to(emulator: &Emulator, listener: &str) -> String {
    let body = query(
        emulator,
        "elasticloadbalancing",
        &format!(
            "Action=DescribeListeners&Version=2015-12-01&ListenerArns.member.1={}",
            encode(listener)
        ),
    );
    let start = body.find("<TargetGroupArn>").expect("a forward action") + "<TargetGroupArn>".len();
    let end = body[start..].find("</TargetGroupArn>").unwrap() + start;
    body[start..end].to_string()
}

#[test]
fn a_target_group_in_use_renamed_with_moved_is_kept_then_replaced_on_request() {
    let (emulator, work) = applied(EDGE);
    let tg = work.id_of("web_tg");
    let listener = work.id_of("http");
    assert_eq!(target_group_arns(&emulator), [tg.as_str()]);

    // Rename the key, with a `moved:` entry.
    work.edit_stack("  web_tg:\n", "  api_tg:\n");
    work.edit_stack("${web_tg.arn}", "${api_tg.arn}");
    work.edit_stack(
        "resources:\n",
        "moved:\n  - { from: web_tg, to: api_tg }\n\nresources:\n",
    );
    let plan = work.iac(&emulator, &["plan", "life.yaml"]).expect(0);
    plan.says("web_tg -> api_tg (moved): `web_tg` has moved to `api_tg`");
    plan.says("Plan: 1 to move, 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    plan.says("~ tags.iac:name: \"web_tg\" -> \"api_tg\"");
    let apply = work.apply(&emulator);
    apply.says("Apply complete: 1 moved, 0 added, 1 changed, 0 replaced, 0 destroyed");
    // The same object, now tagged with its new name; the listener never moved.
    assert_eq!(work.id_of("api_tg"), tg);
    assert!(work.state()["resources"].get("web_tg").is_none());
    assert_eq!(target_group_arns(&emulator), [tg.as_str()]);
    assert_eq!(elb_iac_name(&emulator, &tg), "api_tg");
    assert_eq!(forwarded_to(&emulator, &listener), tg);
    work.plans_no_changes(&emulator);

    // Replaced on purpose: a new target group under a name derived from the new key, the
    // listener moved to it, then the old one deleted.
    let plan = work
        .iac(&emulator, &["plan", "life.yaml", "--replace", "api_tg"])
        .expect(0);
    plan.says("must be replaced (replacement requested with --replace; create before destroy: new name `e2e-life-api-tg`");
    work.iac(
        &emulator,
        &["apply", "--yes", "life.yaml", "--replace", "api_tg"],
    )
    .expect(0);
    let new_tg = work.id_of("api_tg");
    assert_ne!(new_tg, tg);
    assert_eq!(target_group_arns(&emulator), [new_tg.as_str()]);
    assert_eq!(forwarded_to(&emulator, &listener), new_tg);
    work.plans_no_changes(&emulator);

    // An unknown name stops before anything.
    let bad = work
        .iac(
            &emulator,
            &["apply", "--yes", "life.yaml", "--replace", "web_tg"],
        )
        .expect(1);
    bad.says_err("iac::plan::replace");

    destroy_to_no_target_group(&work, &emulator);
}

#[test]
fn state_rm_leaves_the_object_in_aws_and_the_next_plan_creates_a_new_one() {
    let (emulator, work) = applied(EDGE);
    let sg = work.id_of("web_sg");

    let rm = work
        .iac(&emulator, &["state", "rm", "life.yaml", "web_sg"])
        .expect(0);
    assert_eq!(
        rm.stdout,
        format!("Forgot `web_sg` (aws.security_group `{sg}`): removed from the state; the object is left in AWS.\n")
    );
    let unknown = work
        .iac(&emulator, &["state", "rm", "life.yaml", "web_sg"])
        .expect(1);
    unknown.says_err("iac::state::unknown_resource");

    let plan = work.iac(&emulator, &["plan", "life.yaml"]).expect(0);
    plan.says("+ web_sg (aws.security_group) will be created");
    plan.says("1 to add");
    assert!(!plan.stdout.contains("adopted"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("Orphans"), "{}", plan.stdout);
    // Still in AWS, untouched.
    let groups = query(
        &emulator,
        "ec2",
        &format!("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={sg}"),
    );
    assert!(
        groups.contains(&format!("<groupId>{sg}</groupId>")),
        "{groups}"
    );
}

#[test]
fn import_takes_objects_into_the_stack_by_command_and_by_the_import_key() {
    let (emulator, work) = applied(EDGE);
    let (sg, tg, subnet) = (
        work.id_of("web_sg"),
        work.id_of("web_tg"),
        work.id_of("public_a"),
    );

    // `iac import` after `iac state rm`: the object comes back, as it is.
    work.iac(
        &emulator,
        &["state", "rm", "life.yaml", "web_sg", "web_tg", "public_a"],
    )
    .expect(0);
    let import = work
        .iac(&emulator, &["import", "life.yaml", "web_sg", &sg])
        .expect(0);
    assert_eq!(
        import.stdout,
        format!("Imported `web_sg` (aws.security_group `{sg}`) into the state; AWS was not changed.\nRun `iac plan` to see how it differs from the stack.\n")
    );
    assert_eq!(work.id_of("web_sg"), sg);
    assert!(
        work.state()["forgotten"]
            .as_array()
            .is_some_and(|f| f.iter().all(|o| o["physical_id"] != sg.as_str())),
        "an imported object is no longer forgotten: {}",
        work.state()["forgotten"]
    );

    // Refusals, each before anything is written.
    let again = work
        .iac(&emulator, &["import", "life.yaml", "web_sg", &sg])
        .expect(1);
    again.says_err("iac::import::in_state");
    let missing = work
        .iac(
            &emulator,
            &[
                "import",
                "life.yaml",
                "public_a",
                "subnet-0123456789abcdef0",
            ],
        )
        .expect(1);
    missing.says_err("iac::import::not_found");
    missing.says_err("no `aws.subnet` `subnet-0123456789abcdef0` exists in AWS");
    let twice = work
        .iac(
            &emulator,
            &["import", "life.yaml", "public_a", &work.id_of("public_b")],
        )
        .expect(1);
    twice.says_err("iac::import::held");
    let unknown = work
        .iac(&emulator, &["import", "life.yaml", "web_gs", &sg])
        .expect(1);
    unknown.says_err("did you mean `web_sg`?");
    // The wrong type of id is refused with no AWS call: the endpoint here answers nothing.
    let mut offline = Command::new(env!("CARGO_BIN_EXE_iac"));
    offline
        .current_dir(work.path())
        .args(["import", "life.yaml", "public_a", &sg])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    emulator.configure(&mut offline);
    offline.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let out = offline.output().expect("run iac");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("iac::import::bad_id"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "`{sg}` is the id of an `aws.security_group`, not of an `aws.subnet`"
        )),
        "{stderr}"
    );
    assert!(work.state()["resources"].get("public_a").is_none());

    // The `import:` key: planned as an import, applied, and then there is nothing to do.
    work.edit_stack(
        "  web_tg:\n    type: aws.target_group\n",
        &format!("  web_tg:\n    type: aws.target_group\n    import: {tg}\n"),
    );
    work.edit_stack(
        "  public_a:\n    type: aws.subnet\n",
        &format!("  public_a:\n    type: aws.subnet\n    import: {subnet}\n"),
    );
    let plan = work.iac(&emulator, &["plan", "life.yaml"]).expect(0);
    plan.says(format!(
        "<= web_tg (aws.target_group) will be imported from `{tg}`"
    ));
    plan.says("Plan: 2 to import, 0 to add, 0 to change, 0 to replace, 0 to destroy.");
    let apply = work.apply(&emulator);
    apply.says("Apply complete: 2 imported, 0 added, 0 changed");
    assert_eq!(work.id_of("web_tg"), tg);
    assert_eq!(target_group_arns(&emulator), [tg.as_str()]);
    work.plans_no_changes(&emulator);

    destroy_to_no_target_group(&work, &emulator);
}

#[test]
fn refresh_only_records_drift_and_refresh_false_plans_without_aws() {
    let (emulator, work) = applied(EDGE);
    let sg = work.id_of("web_sg");
    // A tag added in the console.
    query(
        &emulator,
        "ec2",
        &format!("Action=CreateTags&Version=2016-11-15&ResourceId.1={sg}&Tag.1.Key=team&Tag.1.Value=payments"),
    );

    let plan = work
        .iac(
            &emulator,
            &["plan", "--refresh-only", "--detailed-exitcode", "life.yaml"],
        )
        .expect(2);
    plan.says("Changed outside iac since the last apply:")
        .says("~ tags.team: (not set) -> \"payments\"");
    plan.says("Applying with --refresh-only records 1 resource(s) as they are live in the state; AWS is not changed.");
    let apply = work
        .iac(
            &emulator,
            &["apply", "--refresh-only", "--yes", "life.yaml"],
        )
        .expect(0);
    apply.says("Refresh complete: 1 resource(s) recorded from AWS");
    assert_eq!(
        work.state()["resources"]["web_sg"]["inputs"]["tags"]["team"],
        "payments"
    );
    work.iac(
        &emulator,
        &["plan", "--refresh-only", "--detailed-exitcode", "life.yaml"],
    )
    .expect(0);
    // The stack does not have the tag: a normal plan takes it off again.
    let back = work.iac(&emulator, &["plan", "life.yaml"]).expect(0);
    back.says("web_sg (aws.security_group)");
    back.says("1 to change");

    // `--refresh=false`: the state alone. An endpoint that answers nothing proves no AWS
    // call is made (the state is local).
    work.edit_stack(
        "description: e2e web",
        "description: e2e web\n    tags: { owner: web }",
    );
    let mut offline = Command::new(env!("CARGO_BIN_EXE_iac"));
    offline
        .current_dir(work.path())
        .args([
            "plan",
            "--refresh=false",
            "--detailed-exitcode",
            "life.yaml",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    emulator.configure(&mut offline);
    offline.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let out = offline.output().expect("run iac");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("~ tags.owner: (not set) -> \"web\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ tags.team: \"payments\" -> (not set)"),
        "the recorded drift is planned away: {stdout}"
    );
    assert!(!stdout.contains("Changed outside iac"), "{stdout}");

    let both = work
        .iac(
            &emulator,
            &["plan", "--refresh-only", "--refresh=false", "life.yaml"],
        )
        .expect(1);
    both.says_err("cannot be used with");

    work.destroy(&emulator);
}

#[test]
fn destroy_proves_nothing_is_left_and_sweep_finds_what_the_state_lost() {
    let (emulator, work) = applied(EDGE);
    let (tg, sg) = (work.id_of("web_tg"), work.id_of("web_sg"));

    // The state loses the listener and the target group (a hand edit, a lost state file):
    // still in AWS, still tagged, and nothing in the state says so.
    let mut state = work.state();
    let listener = state["resources"]["http"]["physical_id"]
        .as_str()
        .unwrap()
        .to_string();
    let resources = state["resources"].as_object_mut().unwrap();
    resources.remove("http");
    resources.remove("web_tg");
    let alb = resources.remove("alb").unwrap()["physical_id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        work.path().join(".iac/state/e2e-life.json"),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    // Forgotten on purpose: kept, and listed as such.
    work.iac(&emulator, &["state", "rm", "life.yaml", "web_sg"])
        .expect(0);

    let swept = work.iac(&emulator, &["sweep", "life.yaml"]).expect(1);
    swept.says("Left in AWS, tagged iac:stack=e2e-life and unknown to the state (3), about $");
    swept.says(format!(
        "  aws.listener `{listener}` (iac:name `http`), $0.00/mo"
    ));
    swept.says(format!(
        "  aws.target_group `{tg}` (iac:name `web_tg`), $0.00/mo"
    ));
    swept.says(format!("Kept on purpose (forgotten with `iac state rm`), still tagged iac:stack=e2e-life:\n  aws.security_group `{sg}` (iac:name `web_sg`)"));
    // The load balancer is billed by the hour (and for its public addresses): its cost is
    // said, the listener and target group are free.
    let alb_line = swept
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("  aws.load_balancer `{alb}` (iac:name `alb`), $")))
        .unwrap_or_else(|| panic!("{}", swept.stdout));
    assert!(!alb_line.ends_with("$0.00/mo"), "{alb_line}");
    assert!(
        !swept.stdout.contains("about $0.00 a month"),
        "{}",
        swept.stdout
    );
    swept.says_err("iac sweep --delete");

    // --delete: the listener before the target group it forwards to, then nothing is left.
    let deleted = work
        .iac(&emulator, &["sweep", "--delete", "--yes", "life.yaml"])
        .expect(0);
    assert!(
        deleted
            .stdout
            .ends_with("Nothing tagged iac:stack=e2e-life is left.\n"),
        "{}",
        deleted.stdout
    );
    assert!(target_group_arns(&emulator).is_empty());

    // A destroy of part of the stack does not sweep: the rest is still the stack's.
    let destroyed = work
        .iac(
            &emulator,
            &["destroy", "--yes", "--target", "public_a", "life.yaml"],
        )
        .expect(0);
    assert!(
        !destroyed.stdout.contains("Nothing tagged"),
        "a targeted destroy does not sweep: {}",
        destroyed.stdout
    );
}

#[test]
fn a_whole_destroy_ends_with_the_sweep_line() {
    let (emulator, work) = applied(EDGE);
    let destroyed = work.destroy(&emulator);
    assert!(
        destroyed
            .stdout
            .ends_with("Nothing tagged iac:stack=e2e-life is left.\n"),
        "{}",
        destroyed.stdout
    );
    // Run again on the empty state: still proves it.
    let again = work.destroy(&emulator);
    again.says("Nothing tagged iac:stack=e2e-life is left.");
}

/// A working directory with `text` as the stack file `life.yaml` (stack `e2e-life`).
fn work(text: &str) -> Work {
    Work::new("life.yaml", "e2e-life", text)
}
