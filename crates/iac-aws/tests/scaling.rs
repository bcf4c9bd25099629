//! Autoscaling and roles with inline policies, through the engine on the local emulator
//! (moto), with tests/fixtures/aws/scaling_stack.yaml: a service with `scaling:` applies,
//! re-plans clean (also after its desired count is changed behind iac's back, as the scaler
//! would), changes its range in place, drops and regains scaling, and is destroyed with its
//! scalable target; a role's inline policy applies, re-plans clean, updates in place and is
//! destroyed.
//!
//! Where the emulator is not AWS, and how that shapes these tests:
//! - moto never scales: the scaler's moves are made here with `UpdateService`.
//! - `MOTO_ECS_SERVICE_RUNNING=2` (iac-testkit's default) makes every service report two
//!   running tasks, so the service's desired count is 2 whenever iac waits for it.
//! - moto keeps a target's policies when the target is deregistered (AWS deletes them) and
//!   ignores `PolicyNames` in `DescribeScalingPolicies`: what is left is checked for both.
//! - moto does not check a policy's metric or resource label: the label iac derived is
//!   checked against the ARNs here.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_iam::error::ProvideErrorMetadata;
use common::{assert_clean, changes, updated, Deployment};
use iac_aws::Clients;
use iac_engine::{plan_refresh_only, render_plan};
use iac_stack::Stack;
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

const FIXTURE: &str = "tests/fixtures/aws/scaling_stack.yaml";

/// The scaling block of the fixture, for edits that remove it.
const SCALING: &str = "    scaling:\n      min: ${var.min}\n      max: 4\n      cpu: 60\n      requests_per_target: 1000\n      scale_in_cooldown: 120\n";

fn load(vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
    common::load(FIXTURE, vars, edits)
}

/// `(min, max)` of the scalable target of `resource_id`, if registered.
async fn target(c: &Clients, resource_id: &str) -> Option<(i32, i32)> {
    c.autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(resource_id)
        .send()
        .await
        .expect("DescribeScalableTargets")
        .scalable_targets()
        .iter()
        .find(|t| t.resource_id() == resource_id)
        .map(|t| (t.min_capacity(), t.max_capacity()))
}

/// The scaling policies of `resource_id`: name -> (metric type, label, target, in, out).
async fn policies(c: &Clients, resource_id: &str) -> Vec<(String, Json)> {
    let resp = c
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .send()
        .await
        .expect("DescribeScalingPolicies");
    let mut out: Vec<(String, Json)> = resp
        .scaling_policies()
        // moto matches the resource id as a substring: compare it exactly.
        .iter()
        .filter(|p| p.resource_id() == resource_id)
        .map(|p| {
            assert_eq!(
                p.scalable_dimension(),
                &ScalableDimension::EcsServiceDesiredCount
            );
            let cfg = p
                .target_tracking_scaling_policy_configuration()
                .expect("a target tracking policy");
            let metric = cfg.predefined_metric_specification().expect("a metric");
            (
                p.policy_name().to_owned(),
                json!({
                    "metric": metric.predefined_metric_type().as_str(),
                    "label": metric.resource_label(),
                    "target": cfg.target_value(),
                    "in": cfg.scale_in_cooldown(),
                    "out": cfg.scale_out_cooldown(),
                }),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The desired count ECS has for the service.
/// The inline policy `iac` of `role` as a JSON document, `None` when it has none.
async fn inline_policy(c: &Clients, role: &str) -> Option<Json> {
    let names = c
        .iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("ListRolePolicies");
    if !names.policy_names().iter().any(|n| n == "iac") {
        return None;
    }
    let doc = c
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("iac")
        .send()
        .await
        .expect("GetRolePolicy")
        .policy_document()
        .to_owned();
    let decoded = urlencoding_decode(&doc);
    Some(serde_json::from_str(&decoded).expect("a JSON document"))
}

/// `%XX` decoding, as IAM encodes policy documents (moto does as well).
fn urlencoding_decode(s: &str) -> String {
    if s.trim_start().starts_with('{') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaling_service_and_roles_with_policies_apply_hold_and_are_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let c = aws.clients().clone();
    let stack = load(&[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    // The plan shows the statements iac adds, marked by their sids.
    let first = d.plan(&stack).await;
    let shown = render_plan(&first, false);
    for sid in ["IacSsmParameters", "IacEcsExec"] {
        assert!(shown.contains(sid), "{sid} is not in the plan:\n{shown}");
    }
    d.apply(&first).await;
    // The clean re-plan reads the scaling of every service with one call of each kind, and
    // each role's inline policy with one GetRolePolicy.
    aws.requests().reset();
    d.assert_clean(&stack).await;
    let calls = aws.requests();
    assert_eq!(
        calls.count("application-autoscaling", "DescribeScalableTargets"),
        1
    );
    assert_eq!(
        calls.count("application-autoscaling", "DescribeScalingPolicies"),
        1
    );
    assert_eq!(calls.count("iam", "GetRolePolicy"), 2);

    // What iac sent: the target with min and max, one target tracking policy per metric,
    // the request metric labelled with the load balancer's and target group's ARNs.
    let cluster = d.attr("cluster", "name");
    let service = d.attr("web", "name");
    let rid = format!("service/{cluster}/{service}");
    assert_eq!(target(&c, &rid).await, Some((1, 4)));
    let alb = d.state.resources["alb"].attrs["arn"].as_str().unwrap();
    let tg = d.state.resources["web_tg"].attrs["arn"].as_str().unwrap();
    let label = format!(
        "{}/{}",
        alb.split_once(":loadbalancer/").unwrap().1,
        tg.rsplit_once(':').unwrap().1
    );
    assert!(
        label.starts_with("app/") && label.contains("/targetgroup/"),
        "{label}"
    );
    assert_eq!(
        policies(&c, &rid).await,
        vec![
            (
                "iac-cpu".to_owned(),
                json!({"metric": "ECSServiceAverageCPUUtilization", "label": null,
                       "target": 60.0, "in": 120, "out": 300})
            ),
            (
                "iac-requests_per_target".to_owned(),
                json!({"metric": "ALBRequestCountPerTarget", "label": label,
                       "target": 1000.0, "in": 120, "out": 300})
            ),
        ]
    );

    // The roles' inline policies: the stack's statements in its order, then iac's.
    let app_role = d.id("app_role");
    let exec_role = d.id("execution_role");
    let statements = |doc: Option<Json>| doc.expect("an inline policy")["Statement"].clone();
    assert_eq!(
        statements(inline_policy(&c, &app_role).await),
        json!([
            {"Sid": "Assets", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::scaling-engine-assets/*"],
             "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0abc"}}},
            {"Effect": "Deny", "Action": ["s3:DeleteObject"], "Resource": ["*"]},
            {"Sid": "IacEcsExec", "Effect": "Allow",
             "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
             "Resource": ["*"]},
        ])
    );
    assert_eq!(
        statements(inline_policy(&c, &exec_role).await),
        json!([{"Sid": "IacSsmParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
                "Resource": ["arn:aws:ssm:us-east-1:123456789012:parameter/scaling-engine/database-url"]}])
    );

    // The scaler moves the service (moto never does: the test does it, as the scaler would).
    // The plan does not reset it, and the live count is the `live_desired_count` attribute.
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 2);
    c.ecs
        .update_service()
        .cluster(&cluster)
        .service(&service)
        .desired_count(3)
        .send()
        .await
        .expect("UpdateService");
    let after_scaler = d.plan(&stack).await;
    assert_clean(&after_scaler);
    let requests = vec![iac_engine::provider::ReadRequest {
        name: "web".into(),
        physical_id: d.id("web"),
        last_inputs: d.state.resources["web"].inputs.clone(),
        last_attrs: d.state.resources["web"].attrs.clone(),
    }];
    let live = d
        .provider
        .read("aws.ecs_service", &requests)
        .await
        .expect("read");
    let live = live[0].live.as_ref().expect("the service is live");
    assert_eq!(live.attrs["live_desired_count"], json!(3));
    assert_eq!(live.inputs["desired_count"], json!(2));
    // `plan --refresh-only` shows no drift, and records the scaler's count as the attribute.
    let refresh = plan_refresh_only(&stack, &d.state, d.provider.clone())
        .await
        .expect("refresh-only plan");
    assert!(refresh.drift.is_empty(), "{:?}", refresh.drift);
    let web: Vec<_> = refresh
        .refreshed
        .iter()
        .filter(|r| r.name == "web")
        .collect();
    assert_eq!(web.len(), 1, "{:?}", refresh.refreshed);
    assert_eq!(
        web[0]
            .attrs
            .as_ref()
            .map(|a| a["live_desired_count"].clone()),
        Some(json!(3))
    );

    // A new range changes the target in place, and nothing else: the count stays the
    // scaler's.
    let min2 = [("min", "2")];
    d.change(&load(&min2, &[]), vec![updated("web", &["scaling.min"])])
        .await;
    assert_eq!(target(&c, &rid).await, Some((2, 4)));
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 3);
    d.assert_clean(&load(&min2, &[])).await;

    // A new starting count while scaling is on is recorded, and not sent: the count stays
    // the scaler's.
    let start3 = [("desired_count: 2", "desired_count: 4")];
    let start = d.plan(&load(&min2, &start3)).await;
    assert_eq!(changes(&start), vec![updated("web", &["desired_count"])]);
    d.apply(&start).await;
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 3);
    d.assert_clean(&load(&min2, &start3)).await;
    d.apply(&d.plan(&load(&min2, &[])).await).await;
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 3);

    // An inline policy of another name is not iac's: the plan ignores it and the update
    // below leaves it.
    c.iam
        .put_role_policy()
        .role_name(&app_role)
        .policy_name("manual")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("PutRolePolicy");
    d.assert_clean(&load(&min2, &[])).await;

    // The role's statements change in place.
    let more = [(
        "actions: [s3:GetObject]",
        "actions: [s3:GetObject, s3:PutObject]",
    )];
    d.change(
        &load(&min2, &more),
        vec![updated("app_role", &["policies[0].actions"])],
    )
    .await;
    assert_eq!(
        statements(inline_policy(&c, &app_role).await)[0]["Action"],
        json!(["s3:GetObject", "s3:PutObject"])
    );
    let names = c
        .iam
        .list_role_policies()
        .role_name(&app_role)
        .send()
        .await
        .expect("ListRolePolicies");
    assert_eq!(names.policy_names(), ["iac", "manual"]);
    d.assert_clean(&load(&min2, &more)).await;

    // Scaling removed: the target and its policies go, and `desired_count` is the count
    // again.
    let unscaled = [
        (
            "actions: [s3:GetObject]",
            "actions: [s3:GetObject, s3:PutObject]",
        ),
        (SCALING, ""),
    ];
    d.change(&load(&min2, &unscaled), vec![updated("web", &["scaling"])])
        .await;
    assert_eq!(target(&c, &rid).await, None);
    assert_eq!(policies(&c, &rid).await, vec![]);
    assert_eq!(common::desired_count(&c, &cluster, &service).await, 2);
    d.assert_clean(&load(&min2, &unscaled)).await;

    // A target registered outside iac on a service without `scaling:` is drift: the apply
    // deregisters it.
    c.autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&rid)
        .min_capacity(1)
        .max_capacity(9)
        .send()
        .await
        .expect("RegisterScalableTarget");
    let foreign = d.plan(&load(&min2, &unscaled)).await;
    assert_eq!(changes(&foreign), vec![updated("web", &["scaling"])]);
    d.apply(&foreign).await;
    assert_eq!(target(&c, &rid).await, None);
    d.assert_clean(&load(&min2, &unscaled)).await;

    // Back on, then destroyed: nothing is left, the scalable target included.
    let again = d.plan(&load(&min2, &more)).await;
    assert_eq!(changes(&again), vec![updated("web", &["scaling"])]);
    d.apply(&again).await;
    assert_eq!(target(&c, &rid).await, Some((2, 4)));
    d.assert_clean(&load(&min2, &more)).await;

    // The scaling gone behind iac's back (as after an apply interrupted between the service
    // and its scaling) is put back by the next apply.
    c.autoscaling
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&rid)
        .send()
        .await
        .expect("DeregisterScalableTarget");
    let restore = d.plan(&load(&min2, &more)).await;
    assert_eq!(changes(&restore), vec![updated("web", &["scaling"])]);
    d.apply(&restore).await;
    assert_eq!(target(&c, &rid).await, Some((2, 4)));
    d.assert_clean(&load(&min2, &more)).await;

    d.destroy(&load(&min2, &more)).await;
    assert_eq!(target(&c, &rid).await, None);
    assert_eq!(policies(&c, &rid).await, vec![]);
    for role in [&app_role, &exec_role] {
        let got = c.iam.get_role().role_name(role).send().await;
        let code = got.err().and_then(|e| e.code().map(str::to_owned));
        assert_eq!(code.as_deref(), Some("NoSuchEntity"), "role `{role}`");
    }
}
