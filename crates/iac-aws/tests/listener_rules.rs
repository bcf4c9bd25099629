//! Listener rules and SNI certificates on the emulator (moto), through the real loader,
//! engine and [`AwsProvider`]: tests/fixtures/aws/listener_rules.yaml applied, re-planned
//! clean, checked against what ELB has (DescribeRules: conditions, actions, weights,
//! priorities), a rule inserted between the two whose priorities must not move, an SNI
//! certificate added, and everything destroyed.
//!
//! Emulator gaps (moto 5.2.5) that shape this test:
//! - moto answers DescribeRules with the conditions exactly as they were sent: iac sends the
//!   `*Config` form (HostHeaderConfig, PathPatternConfig), so that is what is checked; AWS
//!   also fills the older `Values`. The provider reads either (a unit test covers `Values`).
//! - moto answers a single-target-group forward with `TargetGroupArn` only; AWS adds a
//!   ForwardConfig of weight 1. The read takes either (unit test in the provider).
//! - moto's ModifyListener replaces the SNI certificates with the default one (AWS keeps
//!   them); the provider puts them back after every ModifyListener.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Rule};
use iac_engine::{plan_destroy_live, render_plan, Action, PlanOptions, Provider};
use iac_testkit::Emulator;

use common::{changes, Deployment};

const FIXTURE: &str = "tests/fixtures/aws/listener_rules.yaml";

/// The rule inserted between `api` and `maintenance`, without a priority.
const DOCS_RULE: &str = "  docs:
    type: aws.listener_rule
    listener: ${https.arn}
    conditions:
      path_pattern: [/docs/*]
      http_header:
        - name: X-Docs
          values: [\"1\"]
    forward: ${docs_tg.arn}

  maintenance:
";

/// The rules of the listener, the default one left out, by priority.
async fn rules(clients: &iac_aws::Clients, listener: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = clients
        .elbv2
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .expect("DescribeRules")
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true) && r.priority() != Some("default"))
        .cloned()
        .collect();
    rules.sort_by_key(|r| r.priority().and_then(|p| p.parse::<i64>().ok()));
    rules
}

fn priority(r: &Rule) -> i64 {
    r.priority()
        .and_then(|p| p.parse().ok())
        .expect("a numeric priority")
}

/// `(field, values)` of each condition, from the `*Config` iac sends.
fn conditions(r: &Rule) -> Vec<(String, Vec<String>)> {
    r.conditions()
        .iter()
        .map(|c| {
            let values = match c.field() {
                Some("host-header") => c.host_header_config().map(|h| h.values().to_vec()),
                Some("path-pattern") => c.path_pattern_config().map(|p| p.values().to_vec()),
                Some("http-header") => c.http_header_config().map(|h| {
                    let mut v = vec![h.http_header_name().unwrap_or_default().to_owned()];
                    v.extend(h.values().iter().cloned());
                    v
                }),
                _ => None,
            };
            (
                c.field().unwrap_or_default().to_owned(),
                values.unwrap_or_default(),
            )
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_apply_replan_clean_keep_their_priorities_and_are_destroyed() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let clients = aws.clients().clone();
    let counted = aws.clone();
    let stack = common::load(FIXTURE, &[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    // First apply: no priority written, iac assigns them in the file's order.
    let first = d.plan(&stack).await;
    assert_eq!(first.summary.add, stack.resources.len());
    let assigned = |plan: &iac_engine::Plan, name: &str| {
        plan.change(name)
            .and_then(|c| c.after.as_ref())
            .and_then(|a| a.get("priority"))
            .and_then(|p| p.as_int())
    };
    assert_eq!(assigned(&first, "api"), Some(100));
    assert_eq!(assigned(&first, "maintenance"), Some(200));
    d.apply(&first).await;
    d.assert_clean(&stack).await;

    // What ELB has.
    let listener = d.id("https");
    let blue = d.id("blue_tg");
    let green = d.id("green_tg");
    let live = rules(&clients, &listener).await;
    assert_eq!(live.len(), 2, "{live:?}");
    let (api, maintenance) = (&live[0], &live[1]);
    assert_eq!(
        api.rule_arn(),
        Some(d.state.resources["api"].physical_id.as_str())
    );
    assert_eq!((priority(api), priority(maintenance)), (100, 200));
    assert_eq!(
        conditions(api),
        [
            (
                "host-header".to_owned(),
                strings(&["api.rules.example.com"])
            ),
            ("path-pattern".to_owned(), strings(&["/v1/*"])),
        ]
    );
    let forward = &api.actions()[0];
    assert_eq!(forward.r#type(), Some(&ActionTypeEnum::Forward));
    let weights: Vec<(String, Option<i32>)> = forward
        .forward_config()
        .expect("a weighted forward is a ForwardConfig")
        .target_groups()
        .iter()
        .map(|t| {
            (
                t.target_group_arn().unwrap_or_default().to_owned(),
                t.weight(),
            )
        })
        .collect();
    assert_eq!(weights, [(blue.clone(), Some(90)), (green, Some(10))]);
    assert_eq!(
        conditions(maintenance),
        [("path-pattern".to_owned(), strings(&["/maintenance/*"]))]
    );
    let fixed = maintenance.actions()[0]
        .fixed_response_config()
        .expect("a fixed response");
    assert_eq!(fixed.status_code(), Some("503"));
    assert_eq!(fixed.message_body(), Some("down for maintenance"));
    assert_eq!(fixed.content_type(), Some("text/plain"));

    // A rule inserted between the two: a free priority between theirs, theirs unchanged.
    let inserted = common::load(FIXTURE, &[], &[("  maintenance:\n", DOCS_RULE)]);
    let plan = d.plan(&inserted).await;
    assert_eq!(
        changes(&plan),
        [("docs".to_owned(), Action::Create, Vec::new())],
        "{}",
        render_plan(&plan, false)
    );
    assert_eq!(assigned(&plan, "docs"), Some(150));
    d.apply(&plan).await;
    d.assert_clean(&inserted).await;
    let live = rules(&clients, &listener).await;
    let by_priority: Vec<(i64, &str)> = live
        .iter()
        .map(|r| (priority(r), r.rule_arn().unwrap_or_default()))
        .collect();
    assert_eq!(
        by_priority,
        [
            (100, d.state.resources["api"].physical_id.as_str()),
            (150, d.state.resources["docs"].physical_id.as_str()),
            (200, d.state.resources["maintenance"].physical_id.as_str()),
        ]
    );
    assert_eq!(
        conditions(&live[1]),
        [
            ("path-pattern".to_owned(), strings(&["/docs/*"])),
            ("http-header".to_owned(), strings(&["X-Docs", "1"])),
        ]
    );

    // An SNI certificate beside the default one, added in place.
    let with_sni = common::load(
        FIXTURE,
        &[],
        &[
            ("  maintenance:\n", DOCS_RULE),
            (
                "    certificate: ${cert.arn}\n",
                "    certificate: ${cert.arn}\n    certificates: [\"${api_cert.arn}\"]\n",
            ),
        ],
    );
    let plan = d.plan(&with_sni).await;
    assert_eq!(
        changes(&plan),
        [(
            "https".to_owned(),
            Action::Update,
            strings(&["certificates"])
        )],
        "{}",
        render_plan(&plan, false)
    );
    counted.requests().reset();
    d.apply(&plan).await;
    // The SNI certificates have calls of their own: the listener itself is not modified.
    let count = |o: &str| counted.requests().count("elasticloadbalancing", o);
    assert_eq!(count("ModifyListener"), 0);
    assert_eq!(count("AddListenerCertificates"), 1);
    d.assert_clean(&with_sni).await;
    let certs = clients
        .elbv2
        .describe_listener_certificates()
        .listener_arn(&listener)
        .send()
        .await
        .expect("DescribeListenerCertificates");
    let sni: Vec<&str> = certs
        .certificates()
        .iter()
        .filter(|c| c.is_default() != Some(true))
        .filter_map(|c| c.certificate_arn())
        .collect();
    assert_eq!(sni, [d.state.resources["api_cert"].physical_id.as_str()]);

    // Another default action for the listener: ModifyListener, and the SNI certificate stays.
    let forward_green = common::load(
        FIXTURE,
        &[],
        &[
            ("  maintenance:\n", DOCS_RULE),
            (
                "    certificate: ${cert.arn}\n",
                "    certificate: ${cert.arn}\n    certificates: [\"${api_cert.arn}\"]\n",
            ),
            (
                "    forward: ${blue_tg.arn}\n\n  api:",
                "    forward: ${green_tg.arn}\n\n  api:",
            ),
        ],
    );
    d.change(
        &forward_green,
        vec![("https".to_owned(), Action::Update, strings(&["forward"]))],
    )
    .await;
    d.assert_clean(&forward_green).await;

    // Destroyed to nothing.
    let down = plan_destroy_live(
        &forward_green,
        &d.state,
        d.provider.clone(),
        &PlanOptions::default(),
    )
    .await
    .expect("plan destroy");
    assert_eq!(down.summary.destroy, forward_green.resources.len());
    d.apply(&down).await;
    assert!(
        d.state.resources.is_empty(),
        "{:?}",
        d.state.resources.keys()
    );
    assert!(common::load_balancers(&clients).await.is_empty());
    let groups = common::target_groups(&clients).await;
    assert!(groups.is_empty(), "{groups:?}");
}

/// Crash safety: a rule is not found before its create, found as this stack's after it (by
/// its tags, exactly as read reads it), a second create at its priority fails with
/// `Conflict` changing nothing, and a rule someone else holds the priority with is found
/// as foreign and left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_is_found_by_its_tags_and_another_teams_rule_is_foreign() {
    use common::{create, op, with_tags, AppliedMap};
    use serde_json::json;

    let emulator = Emulator::start();
    let p = common::provider(&emulator, "rules-find").await;
    let clients = p.aws().clients().clone();
    let mut applied = AppliedMap::new();
    create(
        &p,
        &mut applied,
        "vpc",
        "aws.vpc",
        &json!({"cidr": "10.8.0.0/16", "dns_hostnames": true, "dns_support": true}),
    )
    .await;
    create(
        &p,
        &mut applied,
        "a",
        "aws.subnet",
        &json!({"vpc": "${vpc.id}", "cidr": "10.8.1.0/24", "az": "us-east-1a", "public": false}),
    )
    .await;
    create(
        &p,
        &mut applied,
        "b",
        "aws.subnet",
        &json!({"vpc": "${vpc.id}", "cidr": "10.8.2.0/24", "az": "us-east-1b", "public": false}),
    )
    .await;
    create(&p, &mut applied, "alb", "aws.load_balancer", &json!({"name": "rules-find-alb", "subnets": ["${a.id}", "${b.id}"], "internal": true, "idle_timeout": 60})).await;
    create(&p, &mut applied, "tg", "aws.target_group", &json!({"name": "rules-find-tg", "vpc": "${vpc.id}", "port": 80, "protocol": "HTTP", "target_type": "ip", "deregistration_delay": 300})).await;
    create(&p, &mut applied, "http", "aws.listener", &json!({"load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP", "fixed_response": {"status": 404, "content_type": "text/plain"}})).await;

    let rtype = "aws.listener_rule";
    let props = json!({
        "listener": applied["http"].attrs["arn"],
        "priority": 100,
        "conditions": {"path_pattern": ["/api/*"]},
        "forward": applied["tg"].attrs["arn"],
    });
    let inputs = with_tags("rules-find", "api", props.clone(), &[]);
    assert_eq!(p.find(rtype, "api", &inputs).await.expect("find"), None);
    let created = p
        .create(&op("api"), rtype, "api", &inputs)
        .await
        .expect("create");
    let found = p
        .find(rtype, "api", &inputs)
        .await
        .expect("find")
        .expect("found after its create");
    assert_eq!(
        (found.physical_id.as_str(), found.foreign.as_deref()),
        (created.physical_id.as_str(), None)
    );
    assert_eq!(
        found.live.inputs, inputs,
        "found as read, in the stack's shape"
    );
    assert_eq!(found.live.attrs, created.attrs);

    // A second create at the same priority: `Conflict`, nothing changed.
    let listener = applied["http"].id.clone();
    let before = rules(&clients, &listener).await;
    let err = p
        .create(&op("api"), rtype, "api", &inputs)
        .await
        .expect_err("the priority is taken");
    assert_eq!(err.kind, iac_engine::ErrorKind::Conflict, "{err}");
    assert_eq!(rules(&clients, &listener).await, before);

    // Another team's rule at the priority a new rule of the stack would take.
    clients
        .elbv2
        .create_rule()
        .listener_arn(&listener)
        .priority(200)
        .conditions(
            aws_sdk_elasticloadbalancingv2::types::RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    aws_sdk_elasticloadbalancingv2::types::PathPatternConditionConfig::builder()
                        .values("/payments/*")
                        .build(),
                )
                .build(),
        )
        .actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    aws_sdk_elasticloadbalancingv2::types::FixedResponseActionConfig::builder()
                        .status_code("402")
                        .build(),
                )
                .build(),
        )
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("team")
                .value("payments")
                .build(),
        )
        .send()
        .await
        .expect("CreateRule");
    let before = rules(&clients, &listener).await;
    let mut docs = props;
    docs["priority"] = json!(200);
    let docs = with_tags("rules-find", "docs", docs, &[]);
    let err = p
        .create(&op("docs"), rtype, "docs", &docs)
        .await
        .expect_err("the priority is someone else's");
    assert_eq!(err.kind, iac_engine::ErrorKind::Conflict, "{err}");
    assert!(err.message.contains("priority 200"), "{err}");
    let found = p
        .find(rtype, "docs", &docs)
        .await
        .expect("find")
        .expect("the rule holding the priority");
    let foreign = found.foreign.expect("found as someone else's");
    assert!(foreign.contains("team=payments"), "{foreign}");
    assert_eq!(rules(&clients, &listener).await, before, "left as it was");
}
