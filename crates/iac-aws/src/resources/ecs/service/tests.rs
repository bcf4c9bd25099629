use super::*;
use aws_sdk_ecs::types::{Deployment, ServiceEvent};

const TD1: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop-app:1";
const TD2: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop-app:2";

fn deployment(status: &str, td: &str, state: Option<DeploymentRolloutState>) -> Deployment {
    Deployment::builder()
        .status(status)
        .task_definition(td)
        .set_rollout_state(state)
        .build()
}

fn service(running: i32, desired: i32, td: &str, deployments: Vec<Deployment>) -> SdkService {
    SdkService::builder()
        .service_arn("arn:aws:ecs:us-east-1:1:service/shop/web")
        .running_count(running)
        .desired_count(desired)
        .task_definition(td)
        .set_deployments(Some(deployments))
        .events(
            ServiceEvent::builder()
                .message("(service web) has reached a steady state.")
                .build(),
        )
        .build()
}

#[test]
fn steady_needs_one_completed_primary_on_the_wanted_revision() {
    let done = service(
        2,
        2,
        TD2,
        vec![deployment(
            "PRIMARY",
            TD2,
            Some(DeploymentRolloutState::Completed),
        )],
    );
    assert_eq!(rollout(&done, TD2), Rollout::Steady);
    // Still starting tasks.
    let starting = service(
        1,
        2,
        TD2,
        vec![deployment(
            "PRIMARY",
            TD2,
            Some(DeploymentRolloutState::InProgress),
        )],
    );
    assert_eq!(
        rollout(&starting, TD2),
        Rollout::Moving("running 1/2, deployment IN_PROGRESS".into())
    );
    // The old deployment is still draining.
    let draining = service(
        2,
        2,
        TD2,
        vec![
            deployment("PRIMARY", TD2, Some(DeploymentRolloutState::Completed)),
            deployment("ACTIVE", TD1, Some(DeploymentRolloutState::Completed)),
        ],
    );
    assert!(matches!(rollout(&draining, TD2), Rollout::Moving(_)));
    // Steady, but on another revision than the one applied.
    assert!(matches!(rollout(&done, TD1), Rollout::Moving(_)));
}

#[test]
fn a_missing_rollout_state_counts_only_when_single_and_fully_running() {
    let no_state = service(2, 2, TD1, vec![deployment("PRIMARY", TD1, None)]);
    assert_eq!(rollout(&no_state, TD1), Rollout::Steady);
    let short = service(1, 2, TD1, vec![deployment("PRIMARY", TD1, None)]);
    assert!(matches!(rollout(&short, TD1), Rollout::Moving(_)));
}

#[test]
fn a_failed_rollout_is_reported_with_its_reason() {
    let failed = Deployment::builder()
        .status("ACTIVE")
        .task_definition(TD2)
        .rollout_state(DeploymentRolloutState::Failed)
        .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
        .build();
    let rolled_back = service(
        2,
        2,
        TD1,
        vec![
            deployment("PRIMARY", TD1, Some(DeploymentRolloutState::InProgress)),
            failed,
        ],
    );
    assert_eq!(
        rollout(&rolled_back, TD2),
        Rollout::Failed {
            reason: "ECS deployment circuit breaker: tasks failed to start.".into()
        }
    );
    assert!(last_events(&rolled_back).contains("steady state"));
}

#[test]
fn unread_settings_are_copied_and_defaults_stay_omitted() {
    let last = json!({
        "name": "web",
        "cluster": "arn:aws:ecs:us-east-1:1:cluster/shop",
        "task_definition": TD1,
        "desired_count": 2,
        "subnets": ["subnet-b", "subnet-a"],
        "assign_public_ip": false,
        "health_check_grace_period": 30,
        "enable_execute_command": false,
        "propagate_tags": "SERVICE",
        "enable_ecs_managed_tags": false,
        "wait": true,
        "wait_timeout": 900,
        "tags": {}
    });
    let vpc = AwsVpcConfiguration::builder()
        .subnets("subnet-a")
        .subnets("subnet-b")
        // The VPC's default group, which AWS assigns when none is given.
        .security_groups("sg-default")
        .assign_public_ip(AssignPublicIp::Disabled)
        .build()
        .unwrap();
    let s = SdkService::builder()
        .service_name("web")
        .cluster_arn("arn:aws:ecs:us-east-1:1:cluster/shop")
        .task_definition(TD1)
        .desired_count(2)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build(),
        )
        .deployment_configuration(deployment_defaults())
        .build();
    assert_eq!(live_inputs(&s, &last), last);
}

#[test]
fn tag_settings_read_back_as_sent() {
    let base = || {
        SdkService::builder()
            .service_name("web")
            .cluster_arn("arn:aws:ecs:us-east-1:1:cluster/shop")
            .task_definition(TD1)
            .desired_count(1)
    };
    // A state from before the properties existed: what iac sent then (`SERVICE`, no
    // managed tags), so the defaults the engine now fills in plan no change.
    let live = live_inputs(&base().build(), &json!({}));
    assert_eq!(live["propagate_tags"], json!("SERVICE"));
    assert_eq!(live["enable_ecs_managed_tags"], json!(false));
    // What the answer says wins over what was applied: drift shows.
    let s = base()
        .propagate_tags(PropagateTags::TaskDefinition)
        .enable_ecs_managed_tags(true)
        .build();
    let live = live_inputs(&s, &json!({"propagate_tags": "NONE"}));
    assert_eq!(live["propagate_tags"], json!("TASK_DEFINITION"));
    assert_eq!(live["enable_ecs_managed_tags"], json!(true));
    // An answer without `propagateTags`: what was applied.
    let live = live_inputs(&base().build(), &json!({"propagate_tags": "NONE"}));
    assert_eq!(live["propagate_tags"], json!("NONE"));
    assert_eq!(propagate_tags(&json!({})), PropagateTags::Service);
    assert_eq!(
        propagate_tags(&json!({"propagate_tags": "TASK_DEFINITION"})),
        PropagateTags::TaskDefinition
    );
}

fn deployment_defaults() -> DeploymentConfiguration {
    super::deployment(&json!({}))
}

#[test]
fn clusters_come_from_inputs_or_long_arns() {
    assert_eq!(cluster_of(&json!({"cluster": "c1"}), "x"), Some("c1"));
    assert_eq!(
        cluster_of(&json!({}), "arn:aws:ecs:us-east-1:1:service/shop/web"),
        Some("shop")
    );
    assert_eq!(
        cluster_of(&json!({}), "arn:aws:ecs:us-east-1:1:service/web"),
        None
    );
}

#[test]
fn with_scaling_on_the_applied_desired_count_is_reported() {
    let scaling = json!({"min": 1, "max": 4, "cpu": 60});
    let last = json!({"desired_count": 2, "scaling": scaling});
    // The scaler moved the service to 4 tasks: the plan still sees the applied 2.
    let mut live = json!({"desired_count": 4});
    with_scaling(&mut live, Some(&scaling), &last);
    assert_eq!(live, json!({"desired_count": 2, "scaling": scaling}));
    // The target deregistered behind iac's back: `scaling` reads as gone.
    let mut live = json!({"desired_count": 4});
    with_scaling(&mut live, None, &last);
    assert_eq!(live, json!({"desired_count": 2, "scaling": null}));
    // Without scaling the live count is reported, and no `scaling` key appears.
    let mut live = json!({"desired_count": 4});
    with_scaling(&mut live, None, &json!({"desired_count": 2}));
    assert_eq!(live, json!({"desired_count": 4}));
    // A target registered outside iac shows as drift to remove.
    let mut live = json!({"desired_count": 4});
    with_scaling(&mut live, Some(&scaling), &json!({"desired_count": 2}));
    assert_eq!(live["scaling"], scaling);
    assert_eq!(live["desired_count"], json!(4));
    assert_eq!(
        scaling_id_of(
            &json!({"cluster": "arn:aws:ecs:us-east-1:1:cluster/shop", "name": "shop-web"}),
            "arn:aws:ecs:us-east-1:1:service/shop/shop-web"
        ),
        "service/shop/shop-web"
    );
}

fn client() -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::Config::builder()
            .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
            .region(aws_sdk_ecs::config::Region::new("us-east-1"))
            .build(),
    )
}

#[test]
fn a_strategy_change_is_sent_with_a_new_deployment() {
    let new = json!({"capacity_provider_strategy": [
        {"capacity_provider": "ec2", "base": 1},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3}
    ]});
    let req = with_strategy(client().update_service(), &new).unwrap();
    let input = req.as_input();
    assert_eq!(input.get_force_new_deployment(), &Some(true));
    let sent: Vec<(String, i32, i32)> = input
        .get_capacity_provider_strategy()
        .clone()
        .unwrap()
        .iter()
        .map(|i| (i.capacity_provider().to_owned(), i.weight(), i.base()))
        .collect();
    assert_eq!(
        sent,
        [("ec2".to_owned(), 1, 1), ("FARGATE_SPOT".to_owned(), 3, 0)]
    );
    // Back to the launch type: an empty strategy, still with a new deployment.
    let req = with_strategy(client().update_service(), &json!({"launch_type": "EC2"})).unwrap();
    assert_eq!(
        req.as_input().get_capacity_provider_strategy(),
        &Some(Vec::new())
    );
    assert_eq!(req.as_input().get_force_new_deployment(), &Some(true));
}

#[test]
fn launch_types_and_strategies() {
    assert_eq!(launch_type(&json!({})), Some(LaunchType::Fargate));
    assert_eq!(
        launch_type(&json!({"launch_type": "EC2"})),
        Some(LaunchType::Ec2)
    );
    assert_eq!(
        launch_type(&json!({"capacity_provider_strategy": [{"capacity_provider": "ec2"}]})),
        None
    );
    // One launch type to the other forces a new service; to or from a strategy does not.
    let changed = ["launch_type".to_owned()];
    let to = |v: &'static str| move |p: &str| (p == "launch_type").then(|| json!(v));
    assert_eq!(
        forced_by_launch_type(&json!({"launch_type": "EC2"}), &to("FARGATE"), &changed),
        ["launch_type"]
    );
    // Written or not, a service without a strategy runs on FARGATE: to EC2 is a new service.
    assert_eq!(
        forced_by_launch_type(&json!({}), &to("EC2"), &changed),
        ["launch_type"]
    );
    assert!(forced_by_launch_type(&json!({}), &to("FARGATE"), &changed).is_empty());
    let strategy = json!({"capacity_provider_strategy": [{"capacity_provider": "ec2"}]});
    assert!(forced_by_launch_type(&strategy, &to("EC2"), &changed).is_empty());
    // From EC2 to nothing written (FARGATE) is a new service too; to a strategy is not.
    assert_eq!(
        forced_by_launch_type(&json!({"launch_type": "EC2"}), &|_: &str| None, &changed),
        ["launch_type"]
    );
    let to_strategy = |p: &str| {
        (p == "capacity_provider_strategy").then(|| json!([{"capacity_provider": "ec2"}]))
    };
    assert!(
        forced_by_launch_type(&json!({"launch_type": "EC2"}), &to_strategy, &changed).is_empty()
    );
    assert!(forced_by_launch_type(&json!({"launch_type": "EC2"}), &to("FARGATE"), &[]).is_empty());
}

#[test]
fn strategies_and_placement_read_back_as_applied() {
    let last = json!({
        "launch_type": null,
        "capacity_provider_strategy": [{"capacity_provider": "ec2"}],
        "placement_strategy": [{"type": "binpack", "field": "memory"}],
    });
    // The emulator's answer: no strategy, no placement, `EC2`.
    let s = SdkService::builder()
        .service_name("web")
        .launch_type(LaunchType::Ec2)
        .build();
    let live = live_inputs(&s, &last);
    assert_eq!(
        live["capacity_provider_strategy"],
        last["capacity_provider_strategy"]
    );
    assert_eq!(live["placement_strategy"], last["placement_strategy"]);
    assert!(live.get("launch_type").is_none(), "{live}");
    // AWS's answer: the strategy with ECS's weight and base; the defaults read as omitted,
    // a weight changed outside iac shows.
    let s = SdkService::builder()
        .service_name("web")
        .capacity_provider_strategy(
            CapacityProviderStrategyItem::builder()
                .capacity_provider("ec2")
                .weight(2)
                .base(0)
                .build()
                .unwrap(),
        )
        .build();
    assert_eq!(
        live_inputs(&s, &last)["capacity_provider_strategy"],
        json!([{"capacity_provider": "ec2", "weight": 2}])
    );
}
