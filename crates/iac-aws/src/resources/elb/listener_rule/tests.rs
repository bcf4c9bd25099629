//! The rule's shapes: ARN parsing and the round trip of conditions and actions.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, RuleCondition, TargetGroupTuple,
};

use super::*;

const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";

#[test]
fn a_rule_arn_names_its_listener() {
    assert_eq!(
        listener_of(RULE).as_deref(),
        Some("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2")
    );
    assert_eq!(
        listener_of("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"),
        None
    );
}

fn rule(inputs: &Json) -> Rule {
    Rule::builder()
        .rule_arn(RULE)
        .priority("150")
        .set_conditions(Some(conditions_of(inputs)))
        .actions(action_of(inputs).unwrap())
        .build()
}

#[test]
fn every_condition_and_a_weighted_forward_round_trip_to_the_stack_shape() {
    let inputs = json!({
        "listener": "arn:l",
        "priority": 150,
        "conditions": {
            "host_header": ["api.example.com"],
            "path_pattern": ["/v1/*", "/v2/*"],
            "http_header": [{"name": "X-Canary", "values": ["1"]}],
            "source_ip": ["10.0.0.0/8"]
        },
        "forward": {"target_groups": [
            {"target_group": "arn:blue", "weight": 90},
            {"target_group": "arn:green", "weight": 10}
        ]},
        "tags": {"iac:name": "api"}
    });
    let r = rule(&inputs);
    assert_eq!(r.conditions().len(), 4);
    let live = live_inputs(
        &r,
        "arn:l",
        &inputs,
        vec![("iac:name".into(), "api".into())],
    );
    assert_eq!(live, inputs);
}

#[test]
fn a_plain_forward_stays_a_string_and_older_values_are_read() {
    let inputs = json!({"conditions": {"path_pattern": ["/x"]}, "forward": "arn:tg"});
    let r = rule(&inputs);
    let action = &r.actions()[0];
    assert_eq!(action.target_group_arn(), Some("arn:tg"));
    assert_eq!(live_forward(action, &inputs), Some(json!("arn:tg")));
    // AWS answers a plain forward with a ForwardConfig of weight 1 as well.
    let both = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn("arn:tg")
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn("arn:tg")
                        .weight(1)
                        .build(),
                )
                .build(),
        )
        .build();
    assert_eq!(live_forward(&both, &inputs), Some(json!("arn:tg")));
    // A condition in the older form (`Values` only).
    let old = Rule::builder()
        .conditions(
            RuleCondition::builder()
                .field("host-header")
                .values("a.example.com")
                .build(),
        )
        .build();
    assert_eq!(
        live_conditions(&old),
        json!({"host_header": ["a.example.com"]})
    );
}

#[test]
fn redirects_and_fixed_responses_are_the_listeners() {
    let inputs = json!({"conditions": {"path_pattern": ["/old"]},
                        "fixed_response": {"status": 503, "body": "down", "content_type": "text/plain"}});
    let r = rule(&inputs);
    let live = live_inputs(&r, "arn:l", &inputs, vec![]);
    assert_eq!(live["fixed_response"], inputs["fixed_response"]);
    assert_eq!(live["priority"], 150);
    assert!(action_of(&json!({"conditions": {}})).is_err());
}
