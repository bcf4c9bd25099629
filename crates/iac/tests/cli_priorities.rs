//! The real `iac` binary, on the emulator, planning listener rules whose priorities cannot
//! be assigned: a located error (`iac::plan::priority`), made from the stack and the state
//! before any resource is read (the engine's tests/priorities.rs checks that no provider
//! call is made).

mod common;

use iac_testkit::Emulator;

const HEAD: &str = "stack: prio
region: us-east-1
resources:
  http:
    type: aws.listener
    load_balancer: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188
    port: 80
    protocol: HTTP
    fixed_response:
      status: 404
";

/// A rule of the listener `http` matching `path`, with no priority written.
fn rule(name: &str, path: &str) -> String {
    format!(
        "  {name}:\n    type: aws.listener_rule\n    listener: ${{http.arn}}\n    conditions:\n      path_pattern: [{path}]\n    fixed_response:\n      status: 200\n"
    )
}

/// The listener and the rules `a`, `squeezed` (new) and `b`, in this order.
fn stack() -> String {
    [
        HEAD.to_string(),
        rule("a", "/a/*"),
        rule("squeezed", "/x/*"),
        rule("b", "/b/*"),
    ]
    .concat()
}

/// A state where `a` and `b` were applied with priorities 10 and 11.
fn state_json() -> serde_json::Value {
    let listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
    let rule = |path: &str, priority: i64, id: &str| {
        serde_json::json!({
            "type": "aws.listener_rule",
            "physical_id": format!("{}/{id}", listener.replace(":listener/", ":listener-rule/")),
            "inputs": {
                "listener": listener,
                "priority": priority,
                "conditions": {"path_pattern": [path]},
                "fixed_response": {"status": 200, "content_type": "text/plain"}
            },
            "attrs": {"arn": "x", "priority": priority},
            "dependencies": ["http"]
        })
    };
    serde_json::json!({
        "version": 1,
        "serial": 2,
        "lineage": "00112233445566778899aabbccddeeff",
        "stack": "prio",
        "resources": {
            "http": {
                "type": "aws.listener",
                "physical_id": listener,
                "inputs": {"port": 80},
                "attrs": {"arn": listener}
            },
            "a": rule("/a/*", 10, "1"),
            "b": rule("/b/*", 11, "2")
        },
        "outputs": {}
    })
}

#[test]
fn no_free_priority_for_a_new_rule_is_a_located_error() {
    let emulator = Emulator::start();
    let w = common::Work::new("prio.yaml", "prio", &stack());
    w.write_state(&state_json());
    let run = w.iac(&emulator, &["plan", "prio.yaml"]).expect(1);
    let err = &run.err_flat();
    assert!(err.contains("iac::plan::priority"), "{err}");
    assert!(
        err.contains("no free priority is left between `a` (priority 10) and `b` (priority 11)"),
        "{err}"
    );
    // Labelled at the rule in the stack file.
    assert!(run.stderr.contains("prio.yaml:18:3"), "{err}");
    assert!(err.contains("no priority written"), "{err}");
}
