use serde_json::{json, Value as J};

use crate::rules::testkit::{merge, Kit};

/// A task definition `web` (1024 CPU units) with the given containers and volumes, and the
/// roles and log group they may need.
fn kit(containers: J, volumes: Option<J>) -> Kit {
    kit_with(containers, volumes, json!({}))
}

/// [`kit`] with more task definition properties.
fn kit_with(containers: J, volumes: Option<J>, extra: J) -> Kit {
    let mut k = Kit::new("ecs");
    k.add("logs", "aws.log_group", json!({}));
    k.add(
        "exec",
        "aws.iam_role",
        json!({"assumed_by": "ecs-tasks.amazonaws.com"}),
    );
    let mut td = json!({"cpu": 1024, "memory": 2048, "execution_role": "${exec.arn}",
                        "containers": containers});
    if let Some(v) = volumes {
        td["volumes"] = v;
    }
    k.add("web", "aws.task_definition", merge(td, &extra));
    k
}

/// An app behind a log router it waits for, with a volume and every new property used as
/// AWS accepts it.
fn good() -> J {
    json!([
        {"name": "app", "image": "nginx", "cpu": 512,
         "port_mappings": [{"port": 8080, "host_port": 8080, "name": "http"}],
         "log_configuration": {"driver": "awsfirelens", "options": {"Name": "cloudwatch"}},
         "health_check": {"command": ["CMD", "true"], "interval": 10, "timeout": 5,
                          "retries": 3, "start_period": 0},
         "depends_on": [{"container": "router", "condition": "HEALTHY"},
                        {"container": "migrate", "condition": "SUCCESS"}],
         "mount_points": [{"volume": "cache", "path": "/cache"}],
         "volumes_from": [{"container": "router"}],
         "linux_parameters": {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["ALL"]}},
         "restart_policy": {"restart_attempt_period": 60, "ignored_exit_codes": [0]},
         "stop_timeout": 120,
         "ulimits": [{"name": "nofile", "soft": 1024, "hard": 4096}]},
        {"name": "router", "image": "fluent-bit", "cpu": 256,
         "firelens_configuration": {"type": "fluentbit"},
         "health_check": {"command": ["CMD", "true"]},
         "log_group": "${logs.name}", "log_stream_prefix": "router"},
        {"name": "migrate", "image": "app", "essential": false}
    ])
}

fn volumes() -> Option<J> {
    Some(json!([
        {"name": "cache"},
        {"name": "shared", "efs": {"file_system": "fs-1", "access_point": "fsap-1",
                                   "root_directory": "/", "transit_encryption": true,
                                   "iam": true}}
    ]))
}

/// `good()` with `edit` applied to it.
fn with(edit: impl FnOnce(&mut J)) -> Kit {
    let mut c = good();
    edit(&mut c);
    kit(c, volumes())
}

#[test]
fn containers_wired_as_aws_accepts_pass() {
    let k = kit(good(), volumes());
    assert!(k.codes().is_empty(), "{:?}", k.codes());
    let mut td = good();
    td[0]["port"] = json!(8080);
    td[0].as_object_mut().unwrap().remove("port_mappings");
    let k = kit_with(
        td,
        volumes(),
        json!({"pid_mode": "task", "ephemeral_storage": 200}),
    );
    assert!(k.codes().is_empty(), "{:?}", k.codes());
}

#[test]
fn duplicate_names() {
    let k = with(|c| c[2]["name"] = json!("app"));
    assert_eq!(
        k.labels_of("iac::task_definition::duplicate_name"),
        ["web:containers[2].name", "web:containers[0].name"]
    );
    let mut v = volumes().unwrap();
    v[1]["name"] = json!("cache");
    let k = kit(good(), Some(v));
    let d = k.one("iac::task_definition::duplicate_name");
    assert!(
        d.message.contains("two volumes named `cache`"),
        "{}",
        d.message
    );
}

#[test]
fn at_least_one_essential_container() {
    let k = kit(
        json!([{"name": "a", "image": "x", "essential": false},
               {"name": "b", "image": "x", "essential": false}]),
        None,
    );
    assert_eq!(
        k.labels_of("iac::task_definition::no_essential_container"),
        [
            "web:containers:key",
            "web:containers[0].essential",
            "web:containers[1].essential"
        ]
    );
}

#[test]
fn dependencies_name_other_containers_of_the_task() {
    let k = with(|c| c[0]["depends_on"][0]["container"] = json!("rooter"));
    let d = k.one("iac::task_definition::unknown_container");
    assert_eq!(d.help.as_deref(), Some("did you mean `router`?"));
    assert_eq!(
        k.labels(&d),
        [
            "web:containers[0].depends_on[0].container",
            "web:containers:key"
        ]
    );
    let k = with(|c| c[0]["volumes_from"][0]["container"] = json!("nobody"));
    let d = k.one("iac::task_definition::unknown_container");
    assert!(d.message.contains("in `volumes_from`"), "{}", d.message);

    let k = with(|c| c[0]["depends_on"][1]["container"] = json!("app"));
    assert_eq!(
        k.labels_of("iac::task_definition::self_dependency"),
        ["web:containers[0].depends_on[1].container"]
    );
}

#[test]
fn conditions_need_what_they_wait_for() {
    let k = with(|c| {
        c[1].as_object_mut().unwrap().remove("health_check");
    });
    assert_eq!(
        k.labels_of("iac::task_definition::healthy_without_health_check"),
        [
            "web:containers[0].depends_on[0].condition",
            "web:containers[1].name"
        ]
    );
    // `migrate` essential by default: it cannot be waited for to exit.
    let k = with(|c| {
        c[2].as_object_mut().unwrap().remove("essential");
    });
    assert_eq!(
        k.labels_of("iac::task_definition::exit_condition_on_essential"),
        [
            "web:containers[0].depends_on[1].condition",
            "web:containers[2].name"
        ]
    );
    let k = with(|c| c[2]["essential"] = json!(true));
    let d = k.one("iac::task_definition::exit_condition_on_essential");
    assert_eq!(k.labels(&d)[1], "web:containers[2].essential");
}

#[test]
fn container_cpu_fits_the_task() {
    let k = with(|c| c[0]["cpu"] = json!(2048));
    let d = k.one("iac::task_definition::container_cpu_exceeds_task");
    assert!(d.message.contains("the containers"), "{}", d.message);
    assert_eq!(
        k.labels(&d),
        ["web:cpu", "web:containers[0].cpu", "web:containers[1].cpu"]
    );
    let k = with(|c| {
        c[0]["cpu"] = json!(2048);
        c[1].as_object_mut().unwrap().remove("cpu");
    });
    let d = k.one("iac::task_definition::container_cpu_exceeds_task");
    assert!(
        d.message
            .starts_with("container `app` of task definition `web` asks for `cpu: 2048`"),
        "{}",
        d.message
    );
    // Exactly the task's CPU is fine.
    let k = with(|c| c[0]["cpu"] = json!(768));
    assert!(k.codes().is_empty(), "{:?}", k.codes());
}

#[test]
fn mount_points_name_volumes_of_the_task() {
    let k = with(|c| c[0]["mount_points"][0]["volume"] = json!("cahce"));
    let d = k.one("iac::task_definition::unknown_volume");
    assert_eq!(d.help.as_deref(), Some("did you mean `cache`?"));
    assert_eq!(
        k.labels(&d),
        [
            "web:containers[0].mount_points[0].volume",
            "web:volumes:key"
        ]
    );
    let k = kit(good(), None);
    let d = k.one("iac::task_definition::unknown_volume");
    assert!(d
        .help
        .unwrap()
        .starts_with("add `volumes: [{name: cache}]`"));
}

#[test]
fn efs_access_points_and_iam_need_transit_encryption() {
    let mut v = volumes().unwrap();
    v[1]["efs"]["transit_encryption"] = json!(false);
    let k = kit(good(), Some(v.clone()));
    assert_eq!(
        k.labels_of("iac::task_definition::efs_needs_transit_encryption"),
        [
            "web:volumes[1].efs.access_point",
            "web:volumes[1].efs.iam",
            "web:volumes[1].efs.transit_encryption"
        ]
    );
    v[1]["efs"]
        .as_object_mut()
        .unwrap()
        .remove("transit_encryption");
    v[1]["efs"].as_object_mut().unwrap().remove("access_point");
    let k = kit(good(), Some(v));
    assert_eq!(
        k.labels_of("iac::task_definition::efs_needs_transit_encryption"),
        ["web:volumes[1].efs.iam"]
    );

    let mut v = volumes().unwrap();
    v[1]["efs"]["root_directory"] = json!("/data");
    let k = kit(good(), Some(v));
    assert_eq!(
        k.labels_of("iac::task_definition::efs_root_with_access_point"),
        [
            "web:volumes[1].efs.root_directory",
            "web:volumes[1].efs.access_point"
        ]
    );
}

#[test]
fn one_log_router_and_firelens_needs_it() {
    let k = with(|c| c[2]["firelens_configuration"] = json!({"type": "fluentd"}));
    assert_eq!(
        k.labels_of("iac::task_definition::multiple_log_routers"),
        [
            "web:containers[2].firelens_configuration:key",
            "web:containers[1].firelens_configuration:key"
        ]
    );
    let k = with(|c| {
        c[1].as_object_mut()
            .unwrap()
            .remove("firelens_configuration");
    });
    assert_eq!(
        k.labels_of("iac::task_definition::firelens_without_router"),
        [
            "web:containers[0].log_configuration.driver",
            "web:containers:key"
        ]
    );
}

#[test]
fn short_and_long_forms_are_exclusive() {
    let k = with(|c| c[0]["port"] = json!(8080));
    assert_eq!(
        k.labels_of("iac::task_definition::port_and_port_mappings"),
        [
            "web:containers[0].port_mappings:key",
            "web:containers[0].port:key"
        ]
    );
    let k = with(|c| c[0]["log_group"] = json!("${logs.name}"));
    let d = k.one("iac::task_definition::log_group_and_log_configuration");
    assert_eq!(k.labels(&d)[0], "web:containers[0].log_configuration:key");
    let k = with(|c| c[0]["log_stream_prefix"] = json!("app"));
    let d = k.one("iac::task_definition::stream_prefix_without_log_group");
    assert!(d.help.unwrap().contains("awslogs-stream-prefix"));
    let k = with(|c| c[0]["port_mappings"][0]["host_port"] = json!(80));
    assert_eq!(
        k.labels_of("iac::task_definition::host_port_mismatch"),
        [
            "web:containers[0].port_mappings[0].host_port",
            "web:containers[0].port_mappings[0].port"
        ]
    );
}

#[test]
fn values_outside_what_aws_accepts() {
    for (edit, path) in [
        (
            json!({"health_check": {"command": ["CMD", "true"], "interval": 1}}),
            "containers[0].health_check.interval",
        ),
        (
            json!({"health_check": {"command": ["CMD", "true"], "retries": 11}}),
            "containers[0].health_check.retries",
        ),
        (json!({"stop_timeout": 300}), "containers[0].stop_timeout"),
        (
            json!({"restart_policy": {"restart_attempt_period": 30}}),
            "containers[0].restart_policy.restart_attempt_period",
        ),
    ] {
        let k = with(|c| {
            c[0] = merge(c[0].take(), &edit);
        });
        assert_eq!(
            k.labels_of("iac::task_definition::out_of_range"),
            [format!("web:{path}")],
            "{edit}"
        );
    }
    let k = kit_with(good(), volumes(), json!({"ephemeral_storage": 20}));
    let d = k.one("iac::task_definition::out_of_range");
    assert!(d.message.contains("21 to 200 GiB"), "{}", d.message);
    let k =
        with(|c| c[0]["restart_policy"]["ignored_exit_codes"] = json!((0..51).collect::<Vec<_>>()));
    k.one("iac::task_definition::out_of_range");
    let k = with(|c| c[0]["ulimits"][0]["soft"] = json!(8192));
    assert_eq!(
        k.labels_of("iac::task_definition::ulimit_soft_above_hard"),
        [
            "web:containers[0].ulimits[0].soft",
            "web:containers[0].ulimits[0].hard"
        ]
    );
}

#[test]
fn fargate_refuses_host_pid_mode_and_most_capabilities() {
    let k = kit_with(good(), volumes(), json!({"pid_mode": "host"}));
    assert_eq!(
        k.labels_of("iac::task_definition::pid_mode_host"),
        ["web:pid_mode"]
    );
    let k = with(|c| {
        c[0]["linux_parameters"]["capabilities"]["add"] = json!(["SYS_PTRACE", "NET_ADMIN"])
    });
    assert_eq!(
        k.labels_of("iac::task_definition::fargate_capability"),
        ["web:containers[0].linux_parameters.capabilities.add[1]"]
    );
}

#[test]
fn names_known_only_at_apply_skip_the_name_rules() {
    let k = with(|c| {
        c[1]["name"] = json!("${logs.arn}");
        c[0]["depends_on"][0]["container"] = json!("whoever");
    });
    assert!(
        !k.codes()
            .contains(&"iac::task_definition::unknown_container"),
        "{:?}",
        k.codes()
    );
}
