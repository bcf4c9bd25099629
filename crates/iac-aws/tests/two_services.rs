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

use std::sync::Arc;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use common::{assert_clean, make_plan, position, run};
use iac_aws::AwsProvider;
use iac_engine::{plan_destroy, render_plan, Event, OpKind, Outcome, PlanOptions, Provider, State};
use iac_stack::Stack;
use iac_testkit::Emulator;
use serde_json::json;

fn load() -> Stack {
    common::load("stacks/two-services.yaml", &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_share_a_load_balancer_one_scales_and_all_is_destroyed() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("state dir");
    let dir = tmp.path().to_owned();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // The hosted zone is `existing: true`: it must be there before.
    let zone_id = common::create_zone(&c, "example.com", "two-services-test").await;
    let stack = load();
    assert!(
        stack.resources.values().all(|r| r.depends_on.is_empty()),
        "the example needs no depends_on"
    );
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    let mut state = State::new(&stack.name);

    // The plan names the orderings iac adds, with their reasons, in its JSON.
    let first = make_plan(&stack, &state, &provider).await;
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

    let events = run(&first, &mut state, &dir, &provider).await;
    for (attaches, service) in [
        ("https", "web"),
        ("api_host", "api"),
        ("public_routes", "web"),
    ] {
        let attached = position(
            &events,
            &Event::Finished(attaches.into(), OpKind::Create, Outcome::Done),
        );
        let started = position(&events, &Event::Started(service.into(), OpKind::Create));
        assert!(
            attached < started,
            "{service} before {attaches}: {events:?}"
        );
    }
    assert_clean(&make_plan(&stack, &state, &provider).await);

    // What AWS has: one rule on the HTTPS listener, priority 100 (iac's first), for the
    // API's host, forwarding to the API's target group.
    let listener = state.resources["https"].attrs["arn"].as_str().unwrap();
    let api_tg = state.resources["api_tg"].attrs["arn"].as_str().unwrap();
    let rules = c
        .elbv2
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .expect("DescribeRules");
    let rules: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .collect();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].priority(), Some("100"));
    let hosts: Vec<&str> = rules[0]
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect();
    assert_eq!(hosts, ["api.shop.example.com"]);
    assert_eq!(rules[0].actions()[0].target_group_arn(), Some(api_tg));

    // The API scales from 2 to 10; the web front end has no scalable target.
    let cluster = state.resources["cluster"].attrs["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = state.resources["api"].attrs["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let web = state.resources["web"].attrs["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let targets = c
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .expect("DescribeScalableTargets");
    let targets: Vec<(String, i32, i32)> = targets
        .scalable_targets()
        .iter()
        .map(|t| {
            (
                t.resource_id().to_owned(),
                t.min_capacity(),
                t.max_capacity(),
            )
        })
        .collect();
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
    let after = make_plan(&stack, &state, &provider).await;
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
    let destroy = plan_destroy(&stack, &state, &PlanOptions::default()).expect("plan destroy");
    run(&destroy, &mut state, &dir, &provider).await;
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let left = common::stack_leftovers(&c, &stack.name, &[zone_id]).await;
    assert_eq!(left, Vec::<String>::new());
    let targets = c
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .expect("DescribeScalableTargets");
    assert!(targets.scalable_targets().is_empty(), "{targets:?}");
}
