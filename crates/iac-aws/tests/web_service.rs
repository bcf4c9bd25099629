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

use common::{assert_created_before, Deployment};
use iac_stack::Stack;
use iac_testkit::Emulator;

fn load() -> Stack {
    common::load("stacks/web-service.yaml", &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_service_applies_replans_clean_and_is_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    // The hosted zone is looked up (`zone: example.com`): it must be there before.
    let zone_id = common::create_zone(&c, "example.com", "web-service-test").await;
    let stack = load();
    assert_eq!(stack.resources.len(), 19, "{:?}", stack.resources.keys());
    assert!(stack.resources.keys().all(|n| n.starts_with("web.")));
    let mut d = Deployment::new(&aws, &stack);

    let first = d.plan(&stack).await;
    assert_eq!(first.summary.add, 18, "all but the looked-up zone");
    let events = d.apply(&first).await;
    assert_created_before(
        &events,
        &[
            ("web.https", "web.service"),
            ("web.public_routes", "web.service"),
        ],
    );
    assert_eq!(d.state.resources.len(), 19);
    assert!(d.state.outputs["alb_dns"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));

    // What AWS has: the names derived from `web.CHILD`, the service at its count.
    let cluster = d.attr("web.cluster", "name");
    let service = d.attr("web.service", "name");
    assert_eq!(service, "lemon-mart-web-service");
    let svc = common::ecs_service(&c, &cluster, &service).await;
    assert_eq!(svc.desired_count(), 2);
    assert_eq!(svc.running_count(), 2);
    // moto keeps no deployment configuration (see the header): the circuit breaker and
    // the 100/200 percents are checked on the plan, by the engine's equivalence test.
    assert!(svc.deployment_configuration().is_none());
    let group = common::target_group(&c, &d.attr("web.tg", "arn")).await;
    assert_eq!(group.target_group_name(), Some("lemon-mart-web-tg"));
    assert_eq!(group.health_check_path(), Some("/"));

    d.assert_clean(&stack).await;

    // Destroy: nothing of the stack is left.
    let (destroy, _) = d.destroy(&stack).await;
    assert_eq!(destroy.summary.destroy, 18);
    common::assert_nothing_left(&c, &stack.name, &[zone_id]).await;
}

/// Two web services on one load balancer (tests/fixtures/valid/web_service_shared.yaml): the
/// owner in private subnets behind NAT gateways, the other by a host rule on the owner's
/// HTTPS listener, scaling. Applies, re-plans clean, destroys to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_services_share_a_load_balancer_and_are_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let zone_id = common::create_zone(&c, "example.com", "web-service-shared-test").await;
    let stack = common::load("tests/fixtures/valid/web_service_shared.yaml", &[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    let first = d.plan(&stack).await;
    let events = d.apply(&first).await;
    // The api's service after the rule that attaches its target group.
    assert_created_before(&events, &[("api.rule", "api.service")]);
    d.assert_clean(&stack).await;

    // One load balancer; the rule forwards api's host to api's target group.
    assert!(!d.state.resources.contains_key("api.alb"));
    let api_tg = d.attr("api.tg", "arn");
    let rules = common::listener_rules(&c, &d.attr("shop.https", "arn")).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(common::rule_hosts(&rules[0]), ["api.shop.example.com"]);
    assert_eq!(
        rules[0].actions()[0].target_group_arn(),
        Some(api_tg.as_str())
    );
    // The owner's tasks run without public IPs, in the private subnets.
    assert_eq!(
        d.state.resources["shop.service"].inputs["assign_public_ip"],
        serde_json::json!(false)
    );

    d.destroy(&stack).await;
    common::assert_nothing_left(&c, &stack.name, &[zone_id]).await;
}
