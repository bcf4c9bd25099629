//! The task-level mapping and the whole revision read back; each container property's own
//! tests are in `super::container`'s.

use super::*;
use aws_sdk_ecs::types::{
    KeyValuePair, LogConfiguration, LogDriver, PortMapping, Secret, Tag, TransportProtocol,
};

fn applied() -> Json {
    json!({
        "family": "shop-app",
        "cpu": 256,
        "memory": 512,
        "execution_role": "arn:aws:iam::123456789012:role/shop-exec",
        "architecture": "X86_64",
        "containers": [{
            "name": "web",
            "image": "nginx:1.27",
            "port": 80,
            "environment": {"B_MODE": "prod", "A_PORT": 3000},
            "secrets": {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
            "log_group": "/iac/shop/logs"
        }],
        "tags": {"iac:name": "app", "iac:stack": "shop", "Name": "shop-app"}
    })
}

/// What DescribeTaskDefinition returns for `applied()`: strings for numbers, ECS's
/// defaults filled in, the environment in another order, empty lists. `essential` and
/// the runtime platform vary to test them.
fn described_with(essential: bool, platform: Option<CpuArchitecture>) -> TaskDefinition {
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", "/iac/shop/logs")
        .options("awslogs-region", "us-east-1")
        .options("awslogs-stream-prefix", "web")
        .build()
        .unwrap();
    let container = ContainerDefinition::builder()
        .name("web")
        .image("nginx:1.27")
        .cpu(0)
        .essential(essential)
        .port_mappings(
            PortMapping::builder()
                .container_port(80)
                .host_port(80)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_command(Some(vec![]))
        .environment(KeyValuePair::builder().name("B_MODE").value("prod").build())
        .environment(KeyValuePair::builder().name("A_PORT").value("3000").build())
        .secrets(
            Secret::builder()
                .name("DB_PASSWORD")
                .value_from("arn:aws:ssm:us-east-1:123456789012:parameter/db")
                .build()
                .unwrap(),
        )
        .set_mount_points(Some(vec![]))
        .set_volumes_from(Some(vec![]))
        .set_system_controls(Some(vec![]))
        .log_configuration(logs)
        .build();
    TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-app:3")
        .family("shop-app")
        .revision(3)
        .cpu("256")
        .memory("512")
        .execution_role_arn("arn:aws:iam::123456789012:role/shop-exec")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .compatibilities(Compatibility::Ec2)
        .compatibilities(Compatibility::Fargate)
        .status(TaskDefinitionStatus::Active)
        .set_runtime_platform(platform.map(|arch| {
            RuntimePlatform::builder()
                .cpu_architecture(arch)
                .operating_system_family(OsFamily::Linux)
                .build()
        }))
        .container_definitions(container)
        .build()
}

fn described() -> TaskDefinition {
    described_with(true, None)
}

fn tags() -> Json {
    live_tags(&[
        Tag::builder().key("Name").value("shop-app").build(),
        Tag::builder().key("iac:stack").value("shop").build(),
        Tag::builder().key("iac:name").value("app").build(),
    ])
}

#[test]
fn an_unchanged_revision_reads_back_exactly_as_applied() {
    let live = normalise(&described(), tags(), &applied());
    assert_eq!(live, applied());
    // Even the order of the environment, which ECS does not keep, is the stack's: the
    // plan shows maps as text.
    let keys: Vec<&String> = live["containers"][0]["environment"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["B_MODE", "A_PORT"]);
}

#[test]
fn omitted_optional_properties_stay_omitted() {
    // The same revision, applied without `architecture`, `essential`, `command` or
    // `task_role`: ECS's defaults must not show up as changes.
    let mut minimal = applied();
    minimal.as_object_mut().unwrap().remove("architecture");
    let live = normalise(&described(), tags(), &minimal);
    assert_eq!(live, minimal);
    let with_platform = described_with(true, Some(CpuArchitecture::X8664));
    assert_eq!(normalise(&with_platform, tags(), &minimal), minimal);
    assert_eq!(normalise(&with_platform, tags(), &applied()), applied());
}

#[test]
fn real_changes_still_show() {
    let mut other = applied();
    other["containers"][0]["image"] = json!("nginx:1.26");
    other["containers"][0]["environment"]["A_PORT"] = json!("8080");
    let live = normalise(&described(), tags(), &other);
    assert_eq!(live["containers"][0]["image"], json!("nginx:1.27"));
    assert_eq!(
        live["containers"][0]["environment"]["A_PORT"],
        json!("3000")
    );
    let live = normalise(&described_with(false, None), tags(), &applied());
    assert_eq!(live["containers"][0]["essential"], json!(false));
}

#[test]
fn every_change_but_tags_gives_a_new_arn() {
    let paths = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        attrs_changed_by_update(&paths(&["containers[0].image"])),
        ["arn", "revision"]
    );
    assert_eq!(
        attrs_changed_by_update(&paths(&["cpu", "tags.team"])),
        ["arn", "revision"]
    );
    assert!(attrs_changed_by_update(&paths(&["tags.team", "tags"])).is_empty());
}

#[test]
fn families_come_from_revision_arns() {
    assert_eq!(
        family_of("arn:aws:ecs:us-east-1:1:task-definition/shop-app:12"),
        Some("shop-app")
    );
    assert_eq!(family_of("shop-app"), None);
}

/// A context that sends nothing: `container_definitions` only reads its region.
async fn offline_cx() -> Cx {
    let config = crate::AwsConfig {
        region: Some("us-east-1".to_owned()),
        source: crate::ConfigSource::Vars(vec![]),
        ..crate::AwsConfig::default()
    };
    Cx::new(
        crate::AwsContext::load(&config)
            .await
            .expect("config loads"),
        "shop",
    )
}

/// `described()` with what `register` gives ECS for `inputs` (containers, volumes,
/// ephemeral storage, PID mode), plus what ECS fills in itself (`cpu: 0`, empty mount
/// points, the root directory of an EFS volume).
async fn described_as_sent(inputs: &Json) -> TaskDefinition {
    let cx = offline_cx().await;
    let mut td = described();
    td.container_definitions = Some(
        container_definitions(&cx, inputs)
            .unwrap()
            .into_iter()
            .map(|mut c| {
                c.mount_points.get_or_insert_with(Vec::new);
                c
            })
            .collect(),
    );
    td.volumes = volume::volumes(inputs).unwrap().map(|mut vs| {
        for v in &mut vs {
            if let Some(efs) = v.efs_volume_configuration.as_mut() {
                efs.root_directory.get_or_insert_with(|| "/".to_owned());
            }
        }
        vs
    });
    td.ephemeral_storage = task_int(inputs, "ephemeral_storage")
        .unwrap()
        .map(|gib| EphemeralStorage::builder().size_in_gib(gib).build());
    td.pid_mode = inputs
        .get("pid_mode")
        .and_then(Json::as_str)
        .map(PidMode::from);
    td
}

/// `applied()` with every task property of the schema set, each to a value that is not
/// its default, and a second container, the web container's log router.
fn applied_with_every_task_property() -> Json {
    let mut all = applied();
    all["volumes"] = json!([
        {"name": "cache"},
        {"name": "shared", "efs": {"file_system": "fs-0123", "access_point": "fsap-0456",
                                   "transit_encryption": true, "iam": true}}
    ]);
    all["ephemeral_storage"] = json!(50);
    all["pid_mode"] = json!("task");
    let web = &mut all["containers"][0];
    web["memory"] = json!(384);
    web["mount_points"] = json!([{"volume": "cache", "path": "/var/cache/nginx"}]);
    web["depends_on"] = json!([{"container": "router", "condition": "START"}]);
    all["containers"].as_array_mut().unwrap().push(json!({
        "name": "router",
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        "essential": true,
        "firelens_configuration": {"type": "fluentbit"},
        "mount_points": [{"volume": "shared", "path": "/shared", "read_only": true}]
    }));
    all
}

#[tokio::test]
async fn every_property_reads_back_exactly_as_applied() {
    for inputs in [applied(), applied_with_every_task_property()] {
        let live = normalise(&described_as_sent(&inputs).await, tags(), &inputs);
        assert_eq!(live, inputs);
    }
}

#[tokio::test]
async fn task_properties_are_sent_and_their_changes_show() {
    let inputs = applied_with_every_task_property();
    let mut td = described_as_sent(&inputs).await;
    assert_eq!(td.volumes().len(), 2);
    assert_eq!(td.ephemeral_storage().map(|e| e.size_in_gib()), Some(50));
    assert_eq!(td.pid_mode(), Some(&PidMode::Task));
    td.ephemeral_storage = Some(EphemeralStorage::builder().size_in_gib(21).build());
    td.pid_mode = None;
    td.volumes.as_mut().unwrap().pop();
    let live = normalise(&td, tags(), &inputs);
    assert_eq!(live["ephemeral_storage"], json!(21));
    assert_eq!(live["pid_mode"], Json::Null);
    assert_eq!(live["volumes"], json!([{"name": "cache"}]));
    // Omitted: Fargate's 20 GiB is what a task without `ephemeral_storage` has.
    let mut td = described();
    td.ephemeral_storage = Some(EphemeralStorage::builder().size_in_gib(20).build());
    assert_eq!(normalise(&td, tags(), &applied()), applied());
    // A number ECS cannot take names the property.
    let mut too_big = applied();
    too_big["ephemeral_storage"] = json!(1_i64 << 40);
    let err = task_int(&too_big, "ephemeral_storage").unwrap_err();
    assert!(err.message.contains("ephemeral_storage"), "{}", err.message);
}

/// Only a role this process created moments ago makes ECS's refusal worth retrying.
#[tokio::test]
async fn only_roles_this_process_just_made_are_fresh() {
    let cx = offline_cx().await;
    let window = std::time::Duration::from_secs(90);
    let arn = "arn:aws:iam::123456789012:role/shop-execution";
    assert!(!cx.role_is_fresh(arn, window));
    cx.role_created(arn);
    assert!(cx.role_is_fresh(arn, window));
    assert!(!cx.role_is_fresh(arn, std::time::Duration::ZERO));
    assert!(!cx.role_is_fresh("arn:aws:iam::123456789012:role/older", window));
}
