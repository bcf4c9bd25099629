use serde_json::{json, Value as J};

use crate::rules::testkit::Kit;
use crate::Value;

/// A cluster, a task definition `web` (container `app` on port 8080 logging to `logs`),
/// a target group and a service `svc` wired to them.
fn kit(td: J, svc_lb: J) -> Kit {
    let mut k = Kit::new("ecs");
    k.network(&["a", "b"]);
    k.add(
        "lb_sg",
        "aws.security_group",
        json!({"vpc": "${vpc.id}",
        "ingress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}),
    );
    k.add(
        "task_sg",
        "aws.security_group",
        json!({"vpc": "${vpc.id}",
        "ingress": [{"protocol": "tcp", "port": 8080, "source": "${lb_sg.id}"}]}),
    );
    k.add("logs", "aws.log_group", json!({}));
    k.add(
        "exec",
        "aws.iam_role",
        json!({"assumed_by": "ecs-tasks.amazonaws.com"}),
    );
    k.add(
        "tg",
        "aws.target_group",
        json!({"vpc": "${vpc.id}", "port": 8080, "protocol": "HTTP"}),
    );
    k.add("alb_sg", "aws.security_group", json!({"vpc": "${vpc.id}"}));
    k.add(
        "alb",
        "aws.load_balancer",
        json!({"subnets": ["${a.id}", "${b.id}"], "security_groups": ["${alb_sg.id}"]}),
    );
    k.add(
        "fwd",
        "aws.listener",
        json!({"load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP",
               "forward": "${tg.arn}"}),
    );
    k.add("cluster", "aws.ecs_cluster", json!({}));
    k.add("web", "aws.task_definition", td);
    k.add(
        "svc",
        "aws.ecs_service",
        json!({
        "cluster": "${cluster.arn}", "task_definition": "${web.arn}", "desired_count": 2,
        "subnets": ["${a.id}"], "security_groups": ["${task_sg.id}"],
        "load_balancer": svc_lb}),
    )
    .depends_on = vec!["fwd".into()];
    k
}

fn td() -> J {
    json!({"cpu": 256, "memory": 512, "execution_role": "${exec.arn}",
           "containers": [{"name": "app", "image": "nginx", "port": 8080,
                           "log_group": "${logs.name}"}]})
}

fn lb() -> J {
    json!({"target_group": "${tg.arn}", "container": "app", "port": 8080})
}

#[test]
fn a_well_wired_service_passes() {
    let k = kit(td(), lb());
    assert!(k.codes().is_empty(), "{:?}", k.codes());
}

#[test]
fn fargate_sizes() {
    for (cpu, mem, ok) in [
        (256, 512, true),
        (256, 2048, true),
        (256, 1536, false),
        (256, 4096, false),
        (512, 3072, true),
        (512, 1536, false),
        (1024, 8192, true),
        (2048, 16384, true),
        (4096, 30720, true),
        (4096, 32768, false),
        (8192, 20480, true),
        (8192, 18432, false),
        (16384, 122880, true),
        (16384, 36864, false),
        (300, 512, false),
    ] {
        let mut t = td();
        t["cpu"] = json!(cpu);
        t["memory"] = json!(mem);
        let codes = kit(t, lb()).codes();
        assert_eq!(codes.is_empty(), ok, "{cpu}/{mem}: {codes:?}");
    }
    let mut t = td();
    t["memory"] = json!(4096);
    let k = kit(t, lb());
    let d = k.one("iac::task_definition::fargate_size");
    assert_eq!(k.labels(&d), ["web:memory", "web:cpu"]);
    let help = d.help.unwrap();
    assert_eq!(
        help,
        "with `cpu: 256`, `memory` must be one of `512`, `1024` or `2048`; \
         or keep `memory: 4096` and set `cpu` to `512`, `1024` or `2048`"
    );
}

#[test]
fn container_reservations_above_task_memory() {
    let mut t = td();
    t["containers"] = json!([
        {"name": "app", "image": "nginx", "port": 8080, "memory_reservation": 400},
        {"name": "side", "image": "envoy", "memory": 200},
    ]);
    t.as_object_mut().unwrap().remove("execution_role");
    let k = kit(t, lb());
    let d = k.one("iac::task_definition::container_memory_exceeds_task");
    assert!(d.message.contains("`600` MiB"), "{}", d.message);
    assert_eq!(
        k.labels(&d),
        [
            "web:memory",
            "web:containers[0].memory_reservation",
            "web:containers[1].memory"
        ]
    );
}

#[test]
fn logs_without_execution_role() {
    let mut t = td();
    t.as_object_mut().unwrap().remove("execution_role");
    let k = kit(t, lb());
    assert_eq!(
        k.labels_of("iac::task_definition::logs_need_execution_role"),
        ["web:containers[0].log_group", "web:<name>"]
    );
}

#[test]
fn service_container_and_port_must_exist() {
    let k = kit(
        td(),
        json!({"target_group": "${tg.arn}", "container": "ap", "port": 8080}),
    );
    let d = k.one("iac::service::unknown_container");
    assert_eq!(d.help.as_deref(), Some("did you mean `app`?"));
    assert_eq!(
        k.labels(&d),
        ["svc:load_balancer.container", "web:containers:key"]
    );

    let k = kit(
        td(),
        json!({"target_group": "${tg.arn}", "container": "app", "port": 80}),
    );
    assert_eq!(
        k.labels_of("iac::service::container_port_mismatch"),
        ["svc:load_balancer.port", "web:containers[0].port"]
    );

    let mut t = td();
    t["containers"][0].as_object_mut().unwrap().remove("port");
    let k = kit(t, lb());
    assert_eq!(
        k.labels_of("iac::service::container_port_mismatch"),
        ["svc:load_balancer.port", "web:containers[0]"]
    );
}

#[test]
fn the_service_port_may_be_one_of_port_mappings() {
    let mut t = td();
    t["containers"][0].as_object_mut().unwrap().remove("port");
    t["containers"][0]["port_mappings"] = json!([{"port": 9901}, {"port": 8080}]);
    assert!(kit(t.clone(), lb()).codes().is_empty());

    t["containers"][0]["port_mappings"] = json!([{"port": 9901}, {"port": 8081}]);
    let k = kit(t, lb());
    let d = k.one("iac::service::container_port_mismatch");
    assert!(
        d.message.ends_with("which listens on `9901` and `8081`"),
        "{}",
        d.message
    );
    assert_eq!(
        k.labels(&d),
        [
            "svc:load_balancer.port",
            "web:containers[0].port_mappings[0].port",
            "web:containers[0].port_mappings[1].port"
        ]
    );
}

#[test]
fn awslogs_in_the_long_form_needs_the_execution_role_too() {
    let mut t = td();
    t.as_object_mut().unwrap().remove("execution_role");
    t["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("log_group");
    t["containers"][0]["log_configuration"] =
        json!({"driver": "awslogs", "options": {"awslogs-group": "g"}});
    let k = kit(t.clone(), lb());
    assert_eq!(
        k.labels_of("iac::task_definition::logs_need_execution_role"),
        ["web:containers[0].log_configuration.driver", "web:<name>"]
    );
    t["containers"][0]["log_configuration"]["driver"] = json!("splunk");
    assert!(kit(t, lb()).codes().is_empty());
}

#[test]
fn target_type_must_be_ip() {
    let mut k = kit(td(), lb());
    k.stack.resources["tg"].props["target_type"] = Value::Str("instance".into());
    let d = k.one("iac::service::target_type_not_ip");
    assert_eq!(k.labels(&d)[0], "svc:load_balancer.target_group");
}

#[test]
fn deployment_bounds_and_count() {
    let mut k = kit(td(), lb());
    k.stack.resources["svc"].props["desired_count"] = Value::Int(-1);
    assert_eq!(k.codes(), ["iac::service::negative_desired_count"]);

    let mut k = kit(td(), lb());
    let d: Value = serde_json::from_value(json!({"max_percent": 50})).unwrap();
    k.stack.resources["svc"]
        .props
        .insert("deployment".into(), d);
    let d = k.one("iac::service::min_healthy_above_max");
    assert!(d
        .message
        .contains("`min_healthy_percent: 100` above `max_percent: 50`"));
    assert!(d.labels[0]
        .text
        .as_deref()
        .unwrap()
        .contains("(the default)"));

    let mut k = kit(td(), lb());
    let d: Value =
        serde_json::from_value(json!({"min_healthy_percent": 50, "max_percent": 100})).unwrap();
    k.stack.resources["svc"]
        .props
        .insert("deployment".into(), d);
    assert!(k.codes().is_empty());
}

#[test]
fn tasks_open_to_the_internet_behind_a_load_balancer_warn() {
    let mut k = kit(td(), lb());
    let svc = &mut k.stack.resources["svc"];
    svc.props["security_groups"] = Value::List(vec![Value::Ref(crate::Reference {
        resource: "lb_sg".into(),
        attr: "id".into(),
    })]);
    let d = k.one("iac::service::open_to_internet");
    assert!(!d.is_error());
    assert_eq!(k.labels(&d)[1], "lb_sg:ingress[0].cidr");
    // The help names the load balancer's own security group, found through the listener.
    let d = k.one("iac::service::open_to_internet");
    assert!(d.help.unwrap().contains("`source: ${alb_sg.id}`"));
    // Without a load balancer, a public service is the point: no warning.
    k.stack.resources["svc"].props.shift_remove("load_balancer");
    assert!(k.codes().is_empty(), "{:?}", k.codes());
}

#[test]
fn the_target_group_needs_a_listener() {
    let mut k = kit(td(), lb());
    // The service needs no `depends_on` on the listener: the loader adds that ordering.
    k.stack.resources["svc"].depends_on.clear();
    assert!(k.codes().is_empty(), "{:?}", k.codes());

    k.stack.resources.shift_remove("fwd");
    let d = k.one("iac::service::target_group_not_attached");
    assert_eq!(
        k.labels(&d),
        ["svc:load_balancer.target_group", "tg:<name>"]
    );
    assert!(d
        .help
        .unwrap()
        .starts_with("add an `aws.listener` with `forward: ${tg.arn}`"));
}
