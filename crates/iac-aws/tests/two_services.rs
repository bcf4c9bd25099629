//! stacks/two-services.yaml through the engine on the local emulator (moto): a web front end
//! and an autoscaled API share one load balancer and one HTTPS listener (a host-header rule
//! sends `api.` to the API). The stack applies with no `depends_on` (iac orders each service
//! after the listener or rule attaching its target group), re-plans clean, still re-plans
//! clean after the API's desired count is changed behind iac's back while it scales, and
//! destroys to nothing.
//!
//! Where the emulator is not AWS, and how that shapes this test:
//! - moto never scales: the scaler's move is made here with `UpdateService`.
//! - `MOTO_ECS_SERVICE_RUNNING=2` (iac-testkit's default) makes every service report two
//!   running tasks, so both services start at 2 (the API's `scaling.min`).
//! - moto would create a service before its target group is attached to a load balancer (AWS
//!   refuses): the order is checked on the apply's events, not on an error.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use common::{assert_clean, assert_created_before, Deployment};
use iac_engine::render_plan;
use iac_stack::Stack;
use iac_testkit::Emulator;
use serde_json::json;

fn load() -> Stack {
    common::load("stacks/two-services.yaml", &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_share_a_load_balancer_one_scales_and_all_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // The hosted zone is `existing: true`: it must be there before.
    let zone_id = common::create_zone(&c, "example.com", "two-services-test").await;
    let stack = load();
    assert!(
        stack.resources.values().all(|r| r.depends_on.is_empty()),
        "the example needs no depends_on"
    );
    let mut d = Deployment::new(&aws, &stack);

    // The plan names the orderings iac adds, with their reasons, in its JSON.
    let first = d.plan(&stack).await;
    let json = serde_json::to_value(&first).expect("plan JSON");
    let implied = |name: &str| -> Vec<String> {
        json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["implied"].as_array())
            .map(|l| {
                l.iter()
                    .map(|i| i["dependency"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(implied("web"), ["https", "public_routes"]);
    assert_eq!(implied("api"), ["api_host", "public_routes"]);
    assert_eq!(implied("alb"), ["igw"]);

    let events = d.apply(&first).await;
    assert_created_before(
        &events,
        &[
            ("https", "web"),
            ("api_host", "api"),
            ("public_routes", "web"),
        ],
    );
    d.assert_clean(&stack).await;

    // What AWS has: one rule on the HTTPS listener, priority 100 (iac's first), for the
    // API's host, forwarding to the API's target group.
    let api_tg = d.attr("api_tg", "arn");
    let rules = common::listener_rules(&c, &d.attr("https", "arn")).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].priority(), Some("100"));
    assert_eq!(common::rule_hosts(&rules[0]), ["api.shop.example.com"]);
    assert_eq!(
        rules[0].actions()[0].target_group_arn(),
        Some(api_tg.as_str())
    );

    // The API scales from 2 to 10; the web front end has no scalable target.
    let cluster = d.attr("cluster", "name");
    let api = d.attr("api", "name");
    let web = d.attr("web", "name");
    let targets = common::ecs_scalable_targets(&c).await;
    assert_eq!(targets, [(format!("service/{cluster}/{api}"), 2, 10)]);
    assert!(!targets.iter().any(|t| t.0.ends_with(&web)));

    // The scaler moves the API to 5 tasks (moto never does: the test does it). The plan does
    // not reset it and shows the live count as information.
    c.ecs
        .update_service()
        .cluster(&cluster)
        .service(&api)
        .desired_count(5)
        .send()
        .await
        .expect("UpdateService");
    let after = d.plan(&stack).await;
    assert_clean(&after);
    assert_eq!(after.live.len(), 1, "{:?}", after.live);
    assert_eq!(after.live[0].resource, "api");
    assert_eq!(after.live[0].attr, "live_desired_count");
    assert_eq!(after.live[0].value, json!(5));
    let shown = render_plan(&after, false);
    assert!(
        shown.contains(
            "Live now, not planned:\n  api: live_desired_count = 5 (tasks the scaler wants now"
        ),
        "{shown}"
    );
    assert!(shown.contains("No changes."), "{shown}");

    // Destroy: nothing of the stack is left, and the API's scalable target is gone with it.
    d.destroy(&stack).await;
    common::assert_nothing_left(&c, &stack.name, &[zone_id]).await;
    let targets = common::ecs_scalable_targets(&c).await;
    assert!(targets.is_empty(), "{targets:?}");
}
