//! Every task and container property of `aws.task_definition` reaches ECS and reads back,
//! through the engine on the local emulator (moto), the way `iac plan` and `iac apply` run: a
//! stack that sets every property the schema has, each to a value that is not its default
//! (tests/fixtures/aws/task_definition_fields.yaml: the short forms `port` and `log_group` on
//! some containers, the long forms `port_mappings` and `log_configuration` on others, a
//! FireLens log router, volumes of each kind) is applied; the next plan is clean and the next
//! apply registers no revision and leaves the service alone. A property dropped on the way to
//! RegisterTaskDefinition, or not read back, made every plan differ and every apply register a
//! revision and redeploy the service.
//!
//! moto 5.2.5 keeps the container definitions, volumes, `ephemeralStorage` and `pidMode` it
//! is given and returns them as they were sent (adding its own defaults: `cpu: 0`, empty lists,
//! `essential`, an EFS volume's root directory `/`), so every property is checked here and
//! none is missing from its answer; the provider needs no fallback to the last applied value.
//! moto checks little of what real ECS refuses (of the new properties only `pid_mode: host`;
//! the plan-time rules in crates/iac-stack/src/rules/containers.rs catch the rest first), and
//! fills in none of the values real ECS may add (host ports, health check timings, the restart
//! attempt period): reading those back is covered by the unit tests of
//! `resources::ecs::container`.
//!
//! The example stack stacks/sidecar-app.yaml, which uses these properties the way an app does
//! (a log router it waits for, a volume), is applied, re-planned and destroyed here too.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use aws_sdk_ecs::types::ContainerDefinition;
use common::{assert_clean, changes, updated, Deployment};
use iac_engine::render_plan;
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

/// `KEY=value` of a string map, sorted.
fn sorted(map: &std::collections::HashMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.sort();
    out
}

/// The properties of the `web` container beyond the first release's, each by name.
fn assert_every_new_web_field(web: &ContainerDefinition, log_group_name: &str) {
    assert_eq!(web.cpu(), 256, "web cpu");
    assert_eq!(
        web.entry_point(),
        ["/docker-entrypoint.sh"],
        "web entry_point"
    );
    assert_eq!(
        web.working_directory(),
        Some("/usr/share/nginx"),
        "web working_directory"
    );
    assert_eq!(web.user(), Some("101:101"), "web user");
    let files: Vec<String> = web
        .environment_files()
        .iter()
        .map(|f| format!("{}:{}", f.r#type().as_str(), f.value()))
        .collect();
    assert_eq!(
        files,
        ["s3:arn:aws:s3:::td-fields-config/web.env"],
        "web environment_files"
    );
    let options = web
        .log_configuration()
        .and_then(|l| l.options())
        .expect("web awslogs options");
    assert_eq!(
        sorted(options),
        [
            format!("awslogs-group={log_group_name}"),
            "awslogs-region=us-east-1".to_owned(),
            "awslogs-stream-prefix=td-web".to_owned()
        ],
        "web log_group and log_stream_prefix"
    );
    let h = web.health_check().expect("web health_check");
    assert_eq!(
        h.command(),
        ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
        "web health_check.command"
    );
    assert_eq!(
        [h.interval(), h.timeout(), h.retries(), h.start_period()],
        [Some(15), Some(4), Some(2), Some(20)],
        "web health_check timings"
    );
    let deps: Vec<String> = web
        .depends_on()
        .iter()
        .map(|d| format!("{}:{}", d.container_name(), d.condition().as_str()))
        .collect();
    assert_eq!(
        deps,
        ["log_router:HEALTHY", "sidecar:START"],
        "web depends_on"
    );
    let r = web.restart_policy().expect("web restart_policy");
    assert!(r.enabled(), "web restart_policy.enabled");
    assert_eq!(
        r.ignored_exit_codes(),
        [0, 143],
        "web restart_policy.ignored_exit_codes"
    );
    assert_eq!(
        r.restart_attempt_period(),
        Some(120),
        "web restart_policy.restart_attempt_period"
    );
    assert_eq!(web.stop_timeout(), Some(60), "web stop_timeout");
    assert_eq!(
        web.readonly_root_filesystem(),
        Some(true),
        "web readonly_root_filesystem"
    );
    let mounts: Vec<String> = web
        .mount_points()
        .iter()
        .map(|m| {
            format!(
                "{}:{}:{:?}",
                m.source_volume().unwrap_or(""),
                m.container_path().unwrap_or(""),
                m.read_only()
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            "cache:/var/cache/nginx:None",
            "shared:/usr/share/nginx/html:Some(true)",
            "data:/data:Some(false)"
        ],
        "web mount_points"
    );
    let from: Vec<String> = web
        .volumes_from()
        .iter()
        .map(|v| format!("{}:{:?}", v.source_container().unwrap_or(""), v.read_only()))
        .collect();
    assert_eq!(from, ["sidecar:Some(true)"], "web volumes_from");
    let linux = web.linux_parameters().expect("web linux_parameters");
    let caps = linux.capabilities().expect("web capabilities");
    assert_eq!(caps.add(), ["SYS_PTRACE"], "web capabilities.add");
    assert_eq!(caps.drop(), ["NET_RAW", "MKNOD"], "web capabilities.drop");
    assert_eq!(
        linux.init_process_enabled(),
        Some(true),
        "web init_process_enabled"
    );
    let ulimits: Vec<String> = web
        .ulimits()
        .iter()
        .map(|u| {
            format!(
                "{}:{}:{}",
                u.name().as_str(),
                u.soft_limit(),
                u.hard_limit()
            )
        })
        .collect();
    assert_eq!(ulimits, ["nofile:4096:8192"], "web ulimits");
    assert_eq!(
        sorted(web.docker_labels().expect("web docker_labels")),
        ["com.example.tier=web", "team=checkout"],
        "web docker_labels"
    );
}

/// The task-level properties of revision `arn`, each by name.
async fn assert_task_fields(ecs: &aws_sdk_ecs::Client, arn: &str) {
    let td = ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .expect("DescribeTaskDefinition");
    let td = td.task_definition().expect("taskDefinition");
    assert_eq!(
        td.ephemeral_storage().map(|e| e.size_in_gib()),
        Some(40),
        "ephemeral_storage"
    );
    assert_eq!(td.pid_mode().map(|p| p.as_str()), Some("task"), "pid_mode");
    let volumes: Vec<String> = td
        .volumes()
        .iter()
        .map(|v| {
            let efs = v.efs_volume_configuration().map(|e| {
                let auth = e.authorization_config();
                format!(
                    "{}:{:?}:{:?}:{:?}:{:?}",
                    e.file_system_id(),
                    e.root_directory(),
                    auth.and_then(|a| a.access_point_id()),
                    e.transit_encryption().map(|t| t.as_str()),
                    auth.and_then(|a| a.iam()).map(|i| i.as_str())
                )
            });
            format!("{}={}", v.name().unwrap_or(""), efs.unwrap_or_default())
        })
        .collect();
    // moto adds the root directory `/` to an EFS volume that names none, as ECS does.
    assert_eq!(
        volumes,
        [
            "cache=",
            "shared=fs-0123456789abcdef0:Some(\"/\"):Some(\"fsap-0123456789abcdef0\"):Some(\"ENABLED\"):Some(\"ENABLED\")",
            "data=fs-0fedcba9876543210:Some(\"/data\"):None:None:None"
        ],
        "volumes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_and_container_property_is_registered_and_an_unchanged_stack_applies_nothing() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = load(&[]);
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;
    let requests = aws.requests();
    assert_eq!(requests.count("ecs", "RegisterTaskDefinition"), 1);

    // What RegisterTaskDefinition was given, as moto describes it: every property of the
    // stack's containers, each by name so that a gap in moto's answer would say which.
    let ecs = aws.clients().ecs.clone();
    let arn = d.attr("task", "arn");
    let log_group_name = d.attr("logs", "name");
    let live = described_containers(&ecs, &arn).await;
    let web = container(&live, "web");
    assert_eq!(
        web.image(),
        Some("public.ecr.aws/nginx/nginx:1.27"),
        "web image"
    );
    let ports: Vec<String> = web
        .port_mappings()
        .iter()
        .map(|p| {
            format!(
                "{:?}/{:?}/{:?}/{:?}/{:?}",
                p.container_port(),
                p.host_port(),
                p.protocol().map(|p| p.as_str()),
                p.name(),
                p.app_protocol().map(|p| p.as_str())
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            "Some(8080)/Some(8080)/Some(\"tcp\")/Some(\"http\")/Some(\"http\")",
            "Some(8125)/None/Some(\"udp\")/None/None"
        ],
        "web port_mappings"
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
    let logs = sidecar
        .log_configuration()
        .expect("sidecar log_configuration");
    assert_eq!(
        logs.log_driver().as_str(),
        "awsfirelens",
        "sidecar log driver"
    );
    assert_eq!(
        sorted(logs.options().expect("sidecar log options")),
        [
            "Name=cloudwatch_logs",
            "log_group_name=/td-fields/sidecar",
            "region=us-east-1"
        ],
        "sidecar log_configuration.options"
    );
    assert_eq!(
        logs.secret_options()
            .iter()
            .map(|s| format!("{}={}", s.name(), s.value_from()))
            .collect::<Vec<_>>(),
        ["apikey=arn:aws:ssm:us-east-1:123456789012:parameter/td-fields/apikey"],
        "sidecar log_configuration.secret_options"
    );
    assert_eq!(sidecar.essential(), Some(false), "sidecar essential");
    assert_eq!(
        sidecar.restart_policy().map(|r| r.enabled()),
        Some(false),
        "sidecar restart_policy.enabled"
    );
    assert_eq!(sidecar.cpu(), 128, "sidecar cpu");
    assert_every_new_web_field(web, &log_group_name);
    let router = container(&live, "log_router");
    let firelens = router
        .firelens_configuration()
        .expect("log_router firelens_configuration");
    assert_eq!(firelens.r#type().as_str(), "fluentbit", "firelens type");
    assert_eq!(
        sorted(firelens.options().expect("firelens options")),
        ["enable-ecs-log-metadata=true"],
        "firelens options"
    );
    assert_eq!(
        router.health_check().map(|h| h.command().to_vec()),
        Some(vec!["CMD-SHELL".to_owned(), "echo ok".to_owned()]),
        "log_router health_check"
    );
    let prefix = router
        .log_configuration()
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-stream-prefix"))
        .map(String::as_str);
    assert_eq!(prefix, Some("log_router"), "the default stream prefix");
    assert_task_fields(&ecs, &arn).await;

    // Nothing changed: the plan is clean (`plan --detailed-exitcode` exits 0)...
    requests.reset();
    let again = d.plan(&load(&[])).await;
    assert_clean(&again);
    // ...and applying it registers no revision and leaves the service where it is.
    d.apply(&again).await;
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
        d.state.resources["task"].attrs["arn"].as_str(),
        Some(arn.as_str())
    );

    // A real change of a memory limit still shows, alone, and registers one revision that
    // the service moves to; after it the plan is clean again.
    let lower = [("web_reservation", "256")];
    let change = d.plan(&load(&lower)).await;
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
    d.apply(&change).await;
    assert_eq!(requests.count("ecs", "RegisterTaskDefinition"), 1);
    let arn2 = d.attr("task", "arn");
    assert_ne!(arn2, arn);
    let live = described_containers(&ecs, &arn2).await;
    assert_eq!(
        container(&live, "web").memory_reservation(),
        Some(256),
        "web memory_reservation after the change"
    );
    d.assert_clean(&load(&lower)).await;
}

/// The example stack stacks/sidecar-app.yaml (an app whose logs go through a FireLens log
/// router it waits for, with a volume) applies as written, plans clean afterwards, applies
/// nothing more, and destroys to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sidecar_example_stack_applies_and_plans_clean() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = common::load("stacks/sidecar-app.yaml", &[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    let first = d.plan(&stack).await;
    d.apply(&first).await;
    let arn = d.attr("task", "arn");
    let live = described_containers(&aws.clients().ecs, &arn).await;
    let app = container(&live, "app");
    assert_eq!(
        app.depends_on()
            .iter()
            .map(|d| format!("{}:{}", d.container_name(), d.condition().as_str()))
            .collect::<Vec<_>>(),
        ["log_router:HEALTHY"]
    );
    assert_eq!(
        app.log_configuration().map(|l| l.log_driver().as_str()),
        Some("awsfirelens")
    );
    assert!(container(&live, "log_router")
        .firelens_configuration()
        .is_some());

    let requests = aws.requests();
    requests.reset();
    let again = d.plan(&stack).await;
    assert_clean(&again);
    d.apply(&again).await;
    assert_eq!(requests.count("ecs", "RegisterTaskDefinition"), 0);

    d.destroy(&stack).await;
}
