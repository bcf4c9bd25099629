//! End-to-end: stacks/web-service.yaml through the real `iac` binary against the local AWS
//! emulator (moto). A web service's children are ordinary resources to every command:
//! `graph` boxes them, `plan --target` takes one child or the whole web service, `state
//! list` and `state show` name them, and `destroy` removes them all.
//!
//! moto needs to be installed (`just emulator-install`); emulator tests fail, never skip.

mod common;

use common::*;
use iac_testkit::Emulator;

fn stack_text() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join("stacks/web-service.yaml")).unwrap()
}

/// The zone the web service looks up (`zone: example.com`): made by a stack of its own, as
/// a team's DNS would be, and left in place.
const ZONE: &str = "stack: e2e-zone\nregion: us-east-1\nresources:\n  zone:\n    type: aws.hosted_zone\n    name: example.com\n";

#[test]
fn a_web_service_is_its_children_to_every_command() {
    let emulator = Emulator::start();
    let work = Work::new("web-service.yaml", "lemon-mart", &stack_text());
    work.write("zone.yaml", ZONE);
    work.iac(&emulator, &["apply", "--yes", "zone.yaml"])
        .expect(0);

    let graph = work
        .iac(&emulator, &["graph", "web-service.yaml"])
        .expect(0);
    assert!(
        graph.stdout.contains("subgraph \"cluster_web\" {"),
        "{}",
        graph.stdout
    );

    // One child: it and what it needs, nothing else.
    let one = work
        .iac(
            &emulator,
            &["plan", "--target", "web.task", "web-service.yaml"],
        )
        .expect(0);
    for name in ["web.task", "web.execution_role", "web.logs"] {
        assert!(one.stdout.contains(&format!("+ {name} ")), "{}", one.stdout);
    }
    assert!(!one.stdout.contains("web.alb"), "{}", one.stdout);
    // The parent's name: all of them.
    let all = work
        .iac(&emulator, &["plan", "--target", "web", "web-service.yaml"])
        .expect(0);
    assert!(
        all.stdout.contains("18 to add, 0 to change"),
        "{}",
        all.stdout
    );

    let apply = work.apply(&emulator);
    assert!(
        apply.stdout.contains("Apply complete: 18 added"),
        "{}",
        apply.stdout
    );
    work.plans_no_changes(&emulator);
    let list = work
        .iac(&emulator, &["state", "list", "web-service.yaml"])
        .expect(0);
    for name in ["web.vpc", "web.alb", "web.task", "web.service", "web.dns"] {
        assert!(
            list.stdout.lines().any(|l| l.starts_with(name)),
            "{}",
            list.stdout
        );
    }
    let show = work
        .iac(&emulator, &["state", "show", "web-service.yaml", "web.tg"])
        .expect(0);
    let show: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(show["type"], "aws.target_group");
    assert_eq!(show["inputs"]["name"], "lemon-mart-web-tg");

    let destroy = work.destroy(&emulator);
    assert!(
        destroy.stdout.contains("18 destroyed"),
        "{}",
        destroy.stdout
    );
    assert_eq!(work.state()["resources"].as_object().unwrap().len(), 0);
}
