//! stacks/web-service.yaml (lemon-mart as one `aws.web_service`) through the engine on the
//! local emulator (moto): its children apply in the order AWS needs with no `depends_on`,
//! re-plan clean, and destroy to nothing.
//!
//! Where the emulator is not AWS, and how that shapes this test:
//! - `MOTO_ECS_SERVICE_RUNNING=2` (iac-testkit's default) makes every service report two
//!   running tasks: the stack's `count: 2`, so the wait for a steady service ends as on AWS.
//! - moto would create a service before its target group is attached to a load balancer (AWS
//!   refuses): the order is checked on the apply's events, not on an error.
//! - moto's `DescribeServices` has no `deploymentConfiguration` (moto 5.2.5 keeps none):
//!   the deployment settings the web service sets are checked on the plan
//!   (crates/iac-engine/tests/web_service.rs), not here.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use std::sync::Arc;

use common::{assert_clean, make_plan, position, run};
use iac_aws::AwsProvider;
use iac_engine::{plan_destroy, Event, OpKind, Outcome, PlanOptions, Provider, State};
use iac_stack::Stack;
use iac_testkit::Emulator;

fn load() -> Stack {
    common::load("stacks/web-service.yaml", &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_service_applies_replans_clean_and_is_destroyed() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("state dir");
    let dir = tmp.path().to_owned();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // The hosted zone is looked up (`zone: example.com`): it must be there before.
    let zone_id = common::create_zone(&c, "example.com", "web-service-test").await;
    let stack = load();
    assert_eq!(stack.resources.len(), 19, "{:?}", stack.resources.keys());
    assert!(stack.resources.keys().all(|n| n.starts_with("web.")));
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    let mut state = State::new(&stack.name);

    let first = make_plan(&stack, &state, &provider).await;
    assert_eq!(first.summary.add, 18, "all but the looked-up zone");
    let events = run(&first, &mut state, &dir, &provider).await;
    for (attaches, service) in [
        ("web.https", "web.service"),
        ("web.public_routes", "web.service"),
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
    assert_eq!(state.resources.len(), 19);
    assert!(state.outputs["alb_dns"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));

    // What AWS has: the names derived from `web.CHILD`, the service at its count.
    let cluster = state.resources["web.cluster"].attrs["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = state.resources["web.service"].attrs["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(service, "lemon-mart-web-service");
    let described = c
        .ecs
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .expect("DescribeServices");
    let svc = &described.services()[0];
    assert_eq!(svc.desired_count(), 2);
    assert_eq!(svc.running_count(), 2);
    // moto keeps no deployment configuration (see the header): the circuit breaker and
    // the 100/200 percents are checked on the plan, by the engine's equivalence test.
    assert!(svc.deployment_configuration().is_none());
    let tg = state.resources["web.tg"].attrs["arn"].as_str().unwrap();
    let groups = c
        .elbv2
        .describe_target_groups()
        .target_group_arns(tg)
        .send()
        .await
        .expect("DescribeTargetGroups");
    let group = &groups.target_groups()[0];
    assert_eq!(group.target_group_name(), Some("lemon-mart-web-tg"));
    assert_eq!(group.health_check_path(), Some("/"));

    assert_clean(&make_plan(&stack, &state, &provider).await);

    // Destroy: nothing of the stack is left.
    let destroy = plan_destroy(&stack, &state, &PlanOptions::default()).expect("plan destroy");
    assert_eq!(destroy.summary.destroy, 18);
    run(&destroy, &mut state, &dir, &provider).await;
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let left = common::stack_leftovers(&c, &stack.name, &[zone_id]).await;
    assert_eq!(left, Vec::<String>::new());
}

/// Two web services on one load balancer (tests/fixtures/valid/web_service_shared.yaml): the
/// owner in private subnets behind NAT gateways, the other by a host rule on the owner's
/// HTTPS listener, scaling. Applies, re-plans clean, destroys to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_services_share_a_load_balancer_and_are_destroyed() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("state dir");
    let dir = tmp.path().to_owned();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let zone_id = common::create_zone(&c, "example.com", "web-service-shared-test").await;
    let stack = common::load("tests/fixtures/valid/web_service_shared.yaml", &[], &[]);
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    let mut state = State::new(&stack.name);

    let first = make_plan(&stack, &state, &provider).await;
    let events = run(&first, &mut state, &dir, &provider).await;
    // The api's service after the rule that attaches its target group.
    let attached = position(
        &events,
        &Event::Finished("api.rule".into(), OpKind::Create, Outcome::Done),
    );
    let started = position(
        &events,
        &Event::Started("api.service".into(), OpKind::Create),
    );
    assert!(attached < started, "{events:?}");
    assert_clean(&make_plan(&stack, &state, &provider).await);

    // One load balancer; the rule forwards api's host to api's target group.
    assert!(!state.resources.contains_key("api.alb"));
    let listener = state.resources["shop.https"].attrs["arn"].as_str().unwrap();
    let api_tg = state.resources["api.tg"].attrs["arn"].as_str().unwrap();
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
    let hosts: Vec<&str> = rules[0]
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect();
    assert_eq!(hosts, ["api.shop.example.com"]);
    assert_eq!(rules[0].actions()[0].target_group_arn(), Some(api_tg));
    // The owner's tasks run without public IPs, in the private subnets.
    assert_eq!(
        state.resources["shop.service"].inputs["assign_public_ip"],
        serde_json::json!(false)
    );

    let destroy = plan_destroy(&stack, &state, &PlanOptions::default()).expect("plan destroy");
    run(&destroy, &mut state, &dir, &provider).await;
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let left = common::stack_leftovers(&c, &stack.name, &[zone_id]).await;
    assert_eq!(left, Vec::<String>::new());
}
