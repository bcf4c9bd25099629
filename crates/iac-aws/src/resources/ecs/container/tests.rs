//! Every container property both ways: what [`definition`] sends for it, and that
//! [`normalise`] reads what ECS describes back to exactly what was applied, with ECS's own
//! values for omitted properties reading as omitted and real changes still showing.

use super::*;
use aws_sdk_ecs::types::Device;
use serde_json::json;

const REGION: &str = "us-east-1";

/// A container in the short forms (`port`, `log_group` with a prefix of its own), every
/// other property set to something that is not its default.
fn app() -> Json {
    json!({
        "name": "app",
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "port": 8080,
        "cpu": 256,
        "memory": 768,
        "memory_reservation": 512,
        "entry_point": ["/docker-entrypoint.sh"],
        "command": ["nginx", "-g", "daemon off;"],
        "working_directory": "/srv",
        "user": "101:101",
        "environment": {"MODE": "production", "LISTEN": 8080},
        "environment_files": [{"type": "s3", "value": "arn:aws:s3:::shop-config/app.env"}],
        "secrets": {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
        "log_group": "/iac/shop/logs",
        "log_stream_prefix": "web",
        "health_check": {
            "command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
            "interval": 10, "timeout": 3, "retries": 5, "start_period": 20
        },
        "depends_on": [
            {"container": "log_router", "condition": "HEALTHY"},
            {"container": "migrate", "condition": "SUCCESS"}
        ],
        "essential": true,
        "restart_policy": {
            "enabled": true, "ignored_exit_codes": [0, 143], "restart_attempt_period": 120
        },
        "stop_timeout": 90,
        "readonly_root_filesystem": true,
        "mount_points": [
            {"volume": "cache", "path": "/var/cache/nginx", "read_only": false},
            {"volume": "assets", "path": "/srv/assets", "read_only": true}
        ],
        "volumes_from": [{"container": "log_router", "read_only": true}],
        "linux_parameters": {
            "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW", "MKNOD"]},
            "init_process_enabled": true
        },
        "ulimits": [{"name": "nofile", "soft": 65536, "hard": 65536}],
        "docker_labels": {"team": "checkout", "com.example.tier": "web"}
    })
}

/// A log router (FireLens) with the long forms: `port_mappings` and `log_configuration`.
fn router() -> Json {
    json!({
        "name": "log_router",
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        "port_mappings": [
            {"port": 2020, "protocol": "tcp", "name": "metrics", "app_protocol": "http"},
            {"port": 24224, "host_port": 24224, "protocol": "udp"}
        ],
        "essential": false,
        "firelens_configuration": {
            "type": "fluentbit",
            "options": {"enable-ecs-log-metadata": "true"}
        },
        "log_configuration": {
            "driver": "awsfirelens",
            "options": {"Name": "cloudwatch_logs", "region": "us-east-1"},
            "secret_options": {"apikey": "arn:aws:ssm:us-east-1:123456789012:parameter/key"}
        }
    })
}

/// What DescribeTaskDefinition returns for a container ECS was given as `sent`: ECS's
/// defaults filled in (`cpu: 0`, host ports, health check timings, the restart attempt
/// period, `readOnly: false`, empty device lists), maps and capabilities in another order.
fn described(mut c: ContainerDefinition) -> ContainerDefinition {
    c.environment.get_or_insert_with(Vec::new).reverse();
    c.secrets.get_or_insert_with(Vec::new);
    c.mount_points.get_or_insert_with(Vec::new);
    c.volumes_from.get_or_insert_with(Vec::new);
    c.system_controls = Some(vec![]);
    for p in c.port_mappings.get_or_insert_with(Vec::new) {
        p.host_port = p.host_port.or(p.container_port);
        p.protocol.get_or_insert(TransportProtocol::Tcp);
    }
    for m in c.mount_points.iter_mut().flatten() {
        m.read_only.get_or_insert(false);
    }
    for v in c.volumes_from.iter_mut().flatten() {
        v.read_only.get_or_insert(false);
    }
    if let Some(h) = c.health_check.as_mut() {
        h.interval.get_or_insert(30);
        h.timeout.get_or_insert(5);
        h.retries.get_or_insert(3);
    }
    if let Some(r) = c.restart_policy.as_mut() {
        r.restart_attempt_period.get_or_insert(300);
    }
    if let Some(l) = c.linux_parameters.as_mut() {
        l.devices = Some(Vec::<Device>::new());
        l.tmpfs = Some(vec![]);
        if let Some(k) = l.capabilities.as_mut() {
            k.drop.get_or_insert_with(Vec::new).reverse();
            k.add.get_or_insert_with(Vec::new);
        }
    }
    c
}

fn sent(c: &Json) -> ContainerDefinition {
    definition(c, REGION).expect("a valid container")
}

/// `c` sent, described by ECS and read back, shaped like `c` itself.
fn round_trip(c: &Json) -> Json {
    normalise(&described(sent(c)), Some(c))
}

#[test]
fn every_property_of_the_short_forms_is_sent() {
    let d = sent(&app());
    assert_eq!(d.name(), Some("app"));
    assert_eq!(d.image(), Some("public.ecr.aws/nginx/nginx:1.27"));
    let [p] = d.port_mappings() else {
        panic!("{:?}", d.port_mappings())
    };
    assert_eq!(p.container_port(), Some(8080));
    assert_eq!(p.protocol(), Some(&TransportProtocol::Tcp));
    assert_eq!(p.host_port(), None);
    assert_eq!(d.cpu(), 256);
    assert_eq!(d.memory(), Some(768));
    assert_eq!(d.memory_reservation(), Some(512));
    assert_eq!(d.entry_point(), ["/docker-entrypoint.sh"]);
    assert_eq!(d.command(), ["nginx", "-g", "daemon off;"]);
    assert_eq!(d.working_directory(), Some("/srv"));
    assert_eq!(d.user(), Some("101:101"));
    // Sorted by name, numbers as text.
    let env: Vec<(&str, &str)> = d
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
        .collect();
    assert_eq!(env, [("LISTEN", "8080"), ("MODE", "production")]);
    let [f] = d.environment_files() else { panic!() };
    assert_eq!(f.r#type(), &EnvironmentFileType::S3);
    assert_eq!(f.value(), "arn:aws:s3:::shop-config/app.env");
    assert_eq!(d.secrets()[0].name(), "DB_PASSWORD");
    let logs = d.log_configuration().unwrap();
    assert_eq!(logs.log_driver(), &LogDriver::Awslogs);
    let options = logs.options().unwrap();
    assert_eq!(options[AWSLOGS_GROUP], "/iac/shop/logs");
    assert_eq!(options[AWSLOGS_REGION], REGION);
    assert_eq!(options[AWSLOGS_PREFIX], "web");
    let h = d.health_check().unwrap();
    assert_eq!(
        h.command(),
        ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]
    );
    assert_eq!(
        [h.interval(), h.timeout(), h.retries(), h.start_period()],
        [Some(10), Some(3), Some(5), Some(20)]
    );
    let deps: Vec<(&str, &str)> = d
        .depends_on()
        .iter()
        .map(|d| (d.container_name(), d.condition().as_str()))
        .collect();
    assert_eq!(deps, [("log_router", "HEALTHY"), ("migrate", "SUCCESS")]);
    assert_eq!(d.essential(), Some(true));
    let r = d.restart_policy().unwrap();
    assert!(r.enabled());
    assert_eq!(r.ignored_exit_codes(), [0, 143]);
    assert_eq!(r.restart_attempt_period(), Some(120));
    assert_eq!(d.stop_timeout(), Some(90));
    assert_eq!(d.readonly_root_filesystem(), Some(true));
    let mounts: Vec<(Option<&str>, Option<&str>, Option<bool>)> = d
        .mount_points()
        .iter()
        .map(|m| (m.source_volume(), m.container_path(), m.read_only()))
        .collect();
    assert_eq!(
        mounts,
        [
            (Some("cache"), Some("/var/cache/nginx"), Some(false)),
            (Some("assets"), Some("/srv/assets"), Some(true))
        ]
    );
    let [from] = d.volumes_from() else { panic!() };
    assert_eq!(from.source_container(), Some("log_router"));
    assert_eq!(from.read_only(), Some(true));
    let l = d.linux_parameters().unwrap();
    assert_eq!(l.capabilities().unwrap().add(), ["SYS_PTRACE"]);
    assert_eq!(l.capabilities().unwrap().drop(), ["NET_RAW", "MKNOD"]);
    assert_eq!(l.init_process_enabled(), Some(true));
    let [u] = d.ulimits() else { panic!() };
    assert_eq!(
        (u.name(), u.soft_limit(), u.hard_limit()),
        (&UlimitName::Nofile, 65536, 65536)
    );
    let labels = d.docker_labels().unwrap();
    assert_eq!(labels["team"], "checkout");
    assert_eq!(labels["com.example.tier"], "web");
    assert!(d.firelens_configuration().is_none());
}

#[test]
fn the_long_forms_and_firelens_are_sent() {
    let d = sent(&router());
    let ports: Vec<_> = d
        .port_mappings()
        .iter()
        .map(|p| {
            (
                p.container_port(),
                p.host_port(),
                p.protocol().map(TransportProtocol::as_str),
                p.name(),
                p.app_protocol().map(ApplicationProtocol::as_str),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (Some(2020), None, Some("tcp"), Some("metrics"), Some("http")),
            (Some(24224), Some(24224), Some("udp"), None, None)
        ]
    );
    let logs = d.log_configuration().unwrap();
    assert_eq!(logs.log_driver(), &LogDriver::Awsfirelens);
    assert_eq!(logs.options().unwrap()["Name"], "cloudwatch_logs");
    assert_eq!(logs.options().unwrap().len(), 2, "sent as written");
    let [s] = logs.secret_options() else { panic!() };
    assert_eq!(
        (s.name(), s.value_from()),
        ("apikey", "arn:aws:ssm:us-east-1:123456789012:parameter/key")
    );
    let f = d.firelens_configuration().unwrap();
    assert_eq!(f.r#type(), &FirelensConfigurationType::Fluentbit);
    assert_eq!(f.options().unwrap()["enable-ecs-log-metadata"], "true");
    assert_eq!(d.essential(), Some(false));
}

#[test]
fn omitted_properties_are_not_sent() {
    let d = sent(&json!({"name": "web", "image": "nginx"}));
    assert!(d.port_mappings.is_none());
    assert_eq!(d.cpu(), 0);
    assert!(d.memory().is_none() && d.memory_reservation().is_none());
    assert!(d.entry_point.is_none() && d.command.is_none());
    assert!(d.working_directory().is_none() && d.user().is_none());
    assert!(d.environment.is_none() && d.environment_files.is_none());
    assert!(d.secrets.is_none() && d.log_configuration().is_none());
    assert!(d.health_check().is_none() && d.depends_on.is_none());
    assert!(d.restart_policy().is_none() && d.stop_timeout().is_none());
    assert!(d.readonly_root_filesystem().is_none());
    assert!(d.mount_points.is_none() && d.volumes_from.is_none());
    assert!(d.linux_parameters().is_none() && d.ulimits.is_none());
    assert!(d.docker_labels().is_none() && d.firelens_configuration().is_none());
    assert_eq!(d.essential(), Some(true));
    // The default stream prefix of `log_group` is the container's name.
    let d = sent(&json!({"name": "web", "image": "nginx", "log_group": "/g"}));
    let options = d.log_configuration().unwrap().options().unwrap();
    assert_eq!(options[AWSLOGS_PREFIX], "web");
}

#[test]
fn every_property_reads_back_exactly_as_applied() {
    for c in [app(), router(), json!({"name": "web", "image": "nginx"})] {
        assert_eq!(round_trip(&c), c);
    }
    // Maps keep the applied order, which ECS does not.
    let keys: Vec<String> = round_trip(&app())["environment"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["MODE", "LISTEN"]);
}

#[test]
fn ecs_defaults_of_omitted_fields_read_as_omitted() {
    // As the loader fills the schema's defaults in...
    let mut filled = app();
    filled["health_check"] = json!({
        "command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3, "start_period": 0
    });
    filled["restart_policy"] = json!({"enabled": true});
    filled["mount_points"] = json!([{"volume": "cache", "path": "/c"}]);
    filled["volumes_from"] = json!([{"container": "log_router"}]);
    filled["linux_parameters"] = json!({"capabilities": {"drop": ["ALL"]}});
    filled.as_object_mut().unwrap().remove("log_stream_prefix");
    filled.as_object_mut().unwrap().remove("cpu");
    assert_eq!(round_trip(&filled), filled);
    // ...and as an older state without them: ECS's values do not show as changes.
    let mut bare = filled.clone();
    bare["health_check"] = json!({"command": ["CMD", "true"]});
    bare["restart_policy"] = json!({});
    assert_eq!(normalise(&described(sent(&filled)), Some(&bare)), bare);
    let mut files = app();
    files["environment_files"] = json!([{"value": "arn:aws:s3:::shop-config/app.env"}]);
    assert_eq!(round_trip(&files), files);
    let mut ports = router();
    ports["port_mappings"] = json!([{"port": 2020}]);
    assert_eq!(round_trip(&ports), ports);
}

#[test]
fn real_changes_show() {
    let mut live = described(sent(&app()));
    live.cpu = 512;
    live.health_check.as_mut().unwrap().retries = Some(3);
    live.depends_on.as_mut().unwrap().pop();
    live.mount_points.as_mut().unwrap()[1].read_only = Some(false);
    live.linux_parameters.as_mut().unwrap().init_process_enabled = Some(false);
    live.restart_policy.as_mut().unwrap().restart_attempt_period = Some(300);
    live.stop_timeout = None;
    live.ulimits.as_mut().unwrap()[0].soft_limit = 1024;
    live.docker_labels.as_mut().unwrap().remove("team");
    let read = normalise(&live, Some(&app()));
    assert_eq!(read["cpu"], json!(512));
    assert_eq!(read["health_check"]["retries"], json!(3));
    assert_eq!(read["depends_on"].as_array().unwrap().len(), 1);
    assert_eq!(read["mount_points"][1]["read_only"], json!(false));
    assert_eq!(
        read["linux_parameters"]["init_process_enabled"],
        json!(false)
    );
    assert_eq!(read["restart_policy"]["restart_attempt_period"], json!(300));
    assert_eq!(read["stop_timeout"], Json::Null);
    assert_eq!(read["ulimits"][0]["soft"], json!(1024));
    assert_eq!(read["docker_labels"], json!({"com.example.tier": "web"}));

    // Values set outside iac on a container that left them out show too.
    let minimal = json!({"name": "web", "image": "nginx"});
    let mut live = described(sent(&minimal));
    live.readonly_root_filesystem = Some(true);
    live.user = Some("root".into());
    let read = normalise(&live, Some(&minimal));
    assert_eq!(read["readonly_root_filesystem"], json!(true));
    assert_eq!(read["user"], json!("root"));
}

#[test]
fn short_forms_read_back_long_when_the_live_value_is_not_theirs() {
    // A second port added outside iac: `port` cannot say it.
    let mut live = described(sent(&app()));
    live.port_mappings.as_mut().unwrap().push(
        PortMapping::builder()
            .container_port(9090)
            .protocol(TransportProtocol::Udp)
            .build(),
    );
    let read = normalise(&live, Some(&app()));
    assert!(read.get("port").is_none());
    assert_eq!(
        read["port_mappings"],
        json!([{"port": 8080}, {"port": 9090, "protocol": "udp"}])
    );
    // Logs moved to another driver: `log_group` cannot say it.
    let mut live = described(sent(&app()));
    live.log_configuration = sent(&router()).log_configuration;
    let read = normalise(&live, Some(&app()));
    assert!(read.get("log_group").is_none());
    assert_eq!(read["log_configuration"]["driver"], json!("awsfirelens"));
    // The stream prefix: the default reads as omitted, another one shows.
    let mut plain = app();
    plain.as_object_mut().unwrap().remove("log_stream_prefix");
    assert_eq!(round_trip(&plain), plain);
    let read = normalise(&described(sent(&app())), Some(&plain));
    assert_eq!(read["log_stream_prefix"], json!("web"));
    // awslogs written in the long form stays in the long form.
    let long = json!({"name": "web", "image": "nginx", "log_configuration": {
        "driver": "awslogs",
        "options": {"awslogs-group": "/g", "awslogs-region": "eu-west-1",
                    "awslogs-stream-prefix": "x"}
    }});
    assert_eq!(round_trip(&long), long);
}

#[test]
fn memory_limits_read_back_and_their_changes_show() {
    let mut with_limits = json!({"name": "web", "image": "nginx", "memory": 384,
                                 "memory_reservation": 256});
    let mut live = described(sent(&with_limits));
    assert_eq!(normalise(&live, Some(&with_limits)), with_limits);
    // Changed outside iac (or in the stack): the live values show.
    live.memory = Some(448);
    live.memory_reservation = None;
    let read = normalise(&live, Some(&with_limits));
    assert_eq!(read["memory"], json!(448));
    assert_eq!(read["memory_reservation"], Json::Null);
    // A limit the stack does not set but the live revision has is drift too.
    with_limits.as_object_mut().unwrap().remove("memory");
    assert_eq!(normalise(&live, Some(&with_limits))["memory"], json!(448));
}

#[test]
fn a_number_ecs_cannot_take_is_an_error_naming_the_property() {
    for (path, value) in [
        ("memory_reservation", json!(1_i64 << 40)),
        ("stop_timeout", json!("soon")),
        ("cpu", json!(-1_i64 << 40)),
    ] {
        let mut c = app();
        c[path] = value;
        let err = definition(&c, REGION).unwrap_err();
        assert!(err.message.contains(path), "{}", err.message);
    }
    let mut c = app();
    c["health_check"]["interval"] = json!(1_i64 << 33);
    let err = definition(&c, REGION).unwrap_err();
    assert!(
        err.message.contains("health_check.interval"),
        "{}",
        err.message
    );
}
