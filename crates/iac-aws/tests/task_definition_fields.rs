//! Every container property of `aws.task_definition` reaches ECS and reads back, through the
//! engine on the local emulator (moto), the way `iac plan` and `iac apply` run: a stack whose
//! containers set every property the schema has (tests/fixtures/aws/task_definition_fields.yaml)
//! is applied; the next plan is clean and the next apply registers no revision and leaves the
//! service alone. A property dropped on the way to RegisterTaskDefinition, or not read back,
//! made every plan differ and every apply register a revision and redeploy the service.
//!
//! moto keeps the container definitions it is given and returns them as they were sent (with
//! its defaults added), so every property is checked here; none is missing from its answer.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::sync::Arc;

use aws_sdk_ecs::types::ContainerDefinition;
use common::{assert_clean, changes, make_plan, run, updated};
use iac_aws::AwsProvider;
use iac_engine::{render_plan, Provider, State};
use iac_stack::Stack;
use iac_testkit::Emulator;

fn load(vars: &[(&str, &str)]) -> Stack {
    common::load("tests/fixtures/aws/task_definition_fields.yaml", vars, &[])
}

/// The containers of the task definition revision `arn`, as ECS (moto) describes them.
async fn described_containers(ecs: &aws_sdk_ecs::Client, arn: &str) -> Vec<ContainerDefinition> {
    ecs.describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .expect("DescribeTaskDefinition")
        .task_definition()
        .expect("taskDefinition")
        .container_definitions()
        .to_vec()
}

/// The container `name` of `containers`.
fn container<'a>(containers: &'a [ContainerDefinition], name: &str) -> &'a ContainerDefinition {
    containers
        .iter()
        .find(|c| c.name() == Some(name))
        .unwrap_or_else(|| panic!("no container `{name}` in {containers:?}"))
}

/// The `NAME=value` pairs of a container's environment, sorted.
fn environment(c: &ContainerDefinition) -> Vec<String> {
    let mut env: Vec<String> = c
        .environment()
        .iter()
        .map(|kv| format!("{}={}", kv.name().unwrap_or(""), kv.value().unwrap_or("")))
        .collect();
    env.sort();
    env
}

/// The `NAME=ARN` pairs of a container's secrets, sorted.
fn secrets(c: &ContainerDefinition) -> Vec<String> {
    let mut secrets: Vec<String> = c
        .secrets()
        .iter()
        .map(|s| format!("{}={}", s.name(), s.value_from()))
        .collect();
    secrets.sort();
    secrets
}

/// The awslogs group a container logs to.
fn log_group(c: &ContainerDefinition) -> Option<&str> {
    c.log_configuration()
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-group"))
        .map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_container_property_is_registered_and_an_unchanged_stack_applies_nothing() {
    let emulator = Emulator::start();
    let tmp = tempfile::tempdir().expect("state dir");
    let dir = tmp.path().to_owned();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let provider: Arc<dyn Provider> = Arc::new(AwsProvider::new(aws.clone(), &stack.name));
    let mut state = State::new(&stack.name);

    let first = make_plan(&stack, &state, &provider).await;
    assert_eq!(first.summary.add, stack.resources.len());
    run(&first, &mut state, &dir, &provider).await;
    let requests = aws.requests();
    assert_eq!(requests.count("ecs", "RegisterTaskDefinition"), 1);

    // What RegisterTaskDefinition was given, as moto describes it: every property of the
    // stack's containers, each by name so that a gap in moto's answer would say which.
    let ecs = aws.clients().ecs.clone();
    let arn = state.resources["task"].attrs["arn"]
        .as_str()
        .expect("task arn")
        .to_owned();
    let log_group_name = state.resources["logs"].attrs["name"]
        .as_str()
        .expect("log group name")
        .to_owned();
    let live = described_containers(&ecs, &arn).await;
    let web = container(&live, "web");
    assert_eq!(
        web.image(),
        Some("public.ecr.aws/nginx/nginx:1.27"),
        "web image"
    );
    assert_eq!(
        web.port_mappings().first().and_then(|p| p.container_port()),
        Some(8080),
        "web port"
    );
    assert_eq!(web.memory(), Some(768), "web memory (ECS `memory`)");
    assert_eq!(
        web.memory_reservation(),
        Some(512),
        "web memory_reservation (ECS `memoryReservation`)"
    );
    assert_eq!(web.command(), ["nginx", "-g", "daemon off;"], "web command");
    assert_eq!(
        environment(web),
        ["LISTEN=8080", "MODE=production"],
        "web environment"
    );
    assert_eq!(
        secrets(web),
        ["DB_PASSWORD=arn:aws:ssm:us-east-1:123456789012:parameter/td-fields/db"],
        "web secrets"
    );
    assert_eq!(
        log_group(web),
        Some(log_group_name.as_str()),
        "web log_group"
    );
    assert_eq!(web.essential(), Some(true), "web essential");
    let sidecar = container(&live, "sidecar");
    assert_eq!(
        sidecar
            .port_mappings()
            .first()
            .and_then(|p| p.container_port()),
        Some(9090),
        "sidecar port"
    );
    assert_eq!(sidecar.memory(), Some(128), "sidecar memory");
    assert_eq!(
        sidecar.memory_reservation(),
        Some(64),
        "sidecar memory_reservation"
    );
    assert_eq!(sidecar.command(), ["sleep", "3600"], "sidecar command");
    assert_eq!(
        environment(sidecar),
        ["ROLE=sidecar"],
        "sidecar environment"
    );
    assert_eq!(
        secrets(sidecar),
        ["TOKEN=arn:aws:ssm:us-east-1:123456789012:parameter/td-fields/token"],
        "sidecar secrets"
    );
    assert_eq!(
        log_group(sidecar),
        Some(log_group_name.as_str()),
        "sidecar log_group"
    );
    assert_eq!(sidecar.essential(), Some(false), "sidecar essential");

    // Nothing changed: the plan is clean (`plan --detailed-exitcode` exits 0)...
    requests.reset();
    let again = make_plan(&load(&[]), &state, &provider).await;
    assert_clean(&again);
    // ...and applying it registers no revision and leaves the service where it is.
    run(&again, &mut state, &dir, &provider).await;
    assert_eq!(
        requests.count("ecs", "RegisterTaskDefinition"),
        0,
        "an unchanged stack registered a revision: {:?}",
        requests.snapshot()
    );
    assert_eq!(
        requests.count("ecs", "UpdateService"),
        0,
        "an unchanged stack redeployed the service: {:?}",
        requests.snapshot()
    );
    assert_eq!(
        state.resources["task"].attrs["arn"].as_str(),
        Some(arn.as_str())
    );

    // A real change of a memory limit still shows, alone, and registers one revision that
    // the service moves to; after it the plan is clean again.
    let lower = [("web_reservation", "256")];
    let change = make_plan(&load(&lower), &state, &provider).await;
    assert_eq!(
        changes(&change),
        vec![
            updated("task", &["containers[0].memory_reservation"]),
            updated("web", &["task_definition"]),
        ],
        "{}",
        render_plan(&change, false)
    );
    requests.reset();
    run(&change, &mut state, &dir, &provider).await;
    assert_eq!(requests.count("ecs", "RegisterTaskDefinition"), 1);
    let arn2 = state.resources["task"].attrs["arn"]
        .as_str()
        .expect("task arn")
        .to_owned();
    assert_ne!(arn2, arn);
    let live = described_containers(&ecs, &arn2).await;
    assert_eq!(
        container(&live, "web").memory_reservation(),
        Some(256),
        "web memory_reservation after the change"
    );
    assert_clean(&make_plan(&load(&lower), &state, &provider).await);
}
