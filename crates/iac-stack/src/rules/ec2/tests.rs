use serde_json::{json, Value as J};

use crate::rules::testkit::{merge, Kit};

/// A VPC with two subnets, an ALB forwarding to target group `tg` (`target_type` given), a
/// cluster, task definition `web` and service `svc` as given, and namespace `internal`.
fn kit(tg_type: &str, td: J, svc: J) -> Kit {
    let mut k = Kit::new("ec2");
    k.network(&["a", "b"]);
    k.add("other", "aws.vpc", json!({"cidr": "10.1.0.0/16"}));
    k.add(
        "tg",
        "aws.target_group",
        json!({"vpc": "${vpc.id}", "port": 8080, "protocol": "HTTP", "target_type": tg_type}),
    );
    k.add(
        "alb",
        "aws.load_balancer",
        json!({"subnets": ["${a.id}", "${b.id}"]}),
    );
    k.add(
        "fwd",
        "aws.listener",
        json!({"load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP",
               "forward": "${tg.arn}"}),
    );
    k.add(
        "cluster",
        "aws.ecs_cluster",
        json!({"capacity_providers": ["ec2", "FARGATE", "FARGATE_SPOT"]}),
    );
    k.add(
        "internal",
        "aws.service_discovery_namespace",
        json!({"name": "internal", "vpc": "${vpc.id}"}),
    );
    k.add("web", "aws.task_definition", td);
    let props = merge(
        json!({"cluster": "${cluster.arn}", "task_definition": "${web.arn}"}),
        &svc,
    );
    k.add("svc", "aws.ecs_service", props).depends_on = vec!["fwd".into()];
    k
}

fn bridge_td() -> J {
    json!({"network_mode": "bridge", "requires_compatibilities": ["EC2"],
           "containers": [{"name": "app", "image": "nginx", "memory": 256,
                           "port_mappings": [{"port": 8080, "host_port": 0}]}]})
}

fn bridge_svc() -> J {
    json!({"desired_count": 2, "launch_type": "EC2",
           "load_balancer": {"target_group": "${tg.arn}", "container": "app", "port": 8080}})
}

#[test]
fn a_bridge_service_on_an_instance_target_group_passes() {
    let k = kit("instance", bridge_td(), bridge_svc());
    assert!(k.codes().is_empty(), "{:?}", k.codes());
    // A capacity provider strategy instead of the launch type, with placement, SRV records.
    let mut svc = bridge_svc();
    svc.as_object_mut().unwrap().remove("launch_type");
    svc["capacity_provider_strategy"] = json!([{"capacity_provider": "ec2"}]);
    svc["placement_strategy"] = json!([{"type": "binpack", "field": "memory"}]);
    svc["discovery"] = json!({"namespace": "${internal.id}", "dns_type": "SRV"});
    let k = kit("instance", bridge_td(), svc);
    assert!(k.codes().is_empty(), "{:?}", k.codes());
}

#[test]
fn target_types_follow_the_network_mode() {
    let k = kit("ip", bridge_td(), bridge_svc());
    assert_eq!(
        k.labels_of("iac::service::target_type_not_instance"),
        [
            "svc:load_balancer.target_group",
            "tg:target_type:key",
            "web:network_mode"
        ]
    );
    // awsvpc tasks (on EC2 too) in an instance target group: the Fargate rule's code.
    let td = json!({"requires_compatibilities": ["EC2"], "memory": 512,
                    "containers": [{"name": "app", "image": "nginx", "port": 8080}]});
    let mut svc = bridge_svc();
    svc["subnets"] = json!(["${a.id}"]);
    let k = kit("instance", td, svc);
    assert_eq!(k.codes(), ["iac::service::target_type_not_ip"]);
}

#[test]
fn host_ports_collide_on_one_instance() {
    let mut td = bridge_td();
    td["containers"] = json!([
        {"name": "app", "image": "nginx", "memory": 256,
         "port_mappings": [{"port": 8080, "host_port": 80}]},
        {"name": "side", "image": "envoy", "memory": 128,
         "port_mappings": [{"port": 9000, "host_port": 80}, {"port": 9001, "host_port": 0},
                           {"port": 9002}]},
    ]);
    let k = kit("instance", td, bridge_svc());
    assert_eq!(
        k.labels_of("iac::task_definition::host_port_collision"),
        [
            "web:containers[1].port_mappings[0].host_port",
            "web:containers[0].port_mappings[0].host_port"
        ]
    );
    // Host mode: every container port is the instance's, and no other host port exists.
    let td = json!({"network_mode": "host", "requires_compatibilities": ["EC2"],
        "containers": [
            {"name": "app", "image": "nginx", "memory": 256, "port": 8080},
            {"name": "side", "image": "envoy", "memory": 128,
             "port_mappings": [{"port": 8080}, {"port": 9000, "host_port": 9001}]}]});
    let mut svc = bridge_svc();
    svc.as_object_mut().unwrap().remove("load_balancer");
    let k = kit("instance", td, svc);
    assert_eq!(
        k.codes(),
        [
            "iac::task_definition::host_port_collision",
            "iac::task_definition::host_port_mismatch"
        ]
    );
}

#[test]
fn fargate_needs_a_size_and_awsvpc() {
    let td = json!({"network_mode": "bridge",
                    "containers": [{"name": "app", "image": "nginx", "port": 8080}]});
    let k = kit("instance", td, bridge_svc());
    let codes = k.codes();
    assert!(
        codes.contains(&"iac::task_definition::fargate_needs_size"),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"iac::task_definition::fargate_network_mode"),
        "{codes:?}"
    );
    let mut placed = bridge_td();
    placed["placement_constraints"] =
        json!([{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ g5.*"}]);
    assert!(kit("instance", placed.clone(), bridge_svc())
        .codes()
        .is_empty());
    placed["requires_compatibilities"] = json!(["EC2", "FARGATE"]);
    placed["network_mode"] = json!("awsvpc");
    placed["containers"][0]["port_mappings"] = json!([{"port": 8080}]);
    placed["cpu"] = json!(256);
    placed["memory"] = json!(512);
    let mut svc = bridge_svc();
    svc["subnets"] = json!(["${a.id}"]);
    svc.as_object_mut().unwrap().remove("load_balancer");
    assert_eq!(
        kit("instance", placed, svc).codes(),
        ["iac::task_definition::fargate_placement"]
    );
    // The service would run it on EC2, which the task definition does not allow.
    assert!(
        codes.contains(&"iac::service::launch_type_incompatible"),
        "{codes:?}"
    );
    // Without a launch type or strategy, a bridge task definition would go to Fargate.
    let mut svc = bridge_svc();
    svc.as_object_mut().unwrap().remove("launch_type");
    let k = kit("instance", bridge_td(), svc);
    let d = k.one("iac::service::launch_type_incompatible");
    assert!(d.message.contains("runs on Fargate"), "{}", d.message);
}

#[test]
fn launch_type_and_strategy_exclude_each_other() {
    let mut svc = bridge_svc();
    svc["capacity_provider_strategy"] = json!([{"capacity_provider": "ec2", "weight": 1}]);
    let k = kit("instance", bridge_td(), svc);
    assert_eq!(
        k.labels_of("iac::service::launch_type_and_strategy"),
        ["svc:launch_type", "svc:capacity_provider_strategy:key"]
    );
}

#[test]
fn network_configuration_only_for_awsvpc() {
    let mut svc = bridge_svc();
    svc["subnets"] = json!(["${a.id}"]);
    svc["assign_public_ip"] = json!(true);
    let k = kit("instance", bridge_td(), svc);
    assert_eq!(
        k.codes(),
        [
            "iac::service::network_config_not_awsvpc",
            "iac::service::network_config_not_awsvpc"
        ]
    );
    // awsvpc without subnets.
    let td = json!({"cpu": 256, "memory": 512,
                    "containers": [{"name": "app", "image": "nginx", "port": 8080}]});
    let svc = json!({"desired_count": 1});
    assert_eq!(
        kit("ip", td.clone(), svc).codes(),
        ["iac::service::subnets_required"]
    );
    // A whole list known only at apply (another stack's output) is subnets.
    let svc = json!({"desired_count": 1, "subnets": "${network.public_subnets}"});
    assert!(kit("ip", td, svc).codes().is_empty());
}

#[test]
fn daemons_have_no_count_and_run_on_ec2() {
    let mut svc = bridge_svc();
    svc["scheduling_strategy"] = json!("DAEMON");
    let k = kit("instance", bridge_td(), svc.clone());
    assert_eq!(k.codes(), ["iac::service::daemon_with_count"]);
    svc.as_object_mut().unwrap().remove("desired_count");
    assert!(kit("instance", bridge_td(), svc.clone()).codes().is_empty());
    svc.as_object_mut().unwrap().remove("launch_type");
    let codes = kit("instance", bridge_td(), svc).codes();
    assert!(
        codes.contains(&"iac::service::daemon_on_fargate"),
        "{codes:?}"
    );
    // A replica service needs its count.
    let mut svc = bridge_svc();
    svc.as_object_mut().unwrap().remove("desired_count");
    assert_eq!(
        kit("instance", bridge_td(), svc).codes(),
        ["iac::service::desired_count_required"]
    );
}

#[test]
fn discovery_records_fit_the_network_mode_and_vpc() {
    let mut svc = bridge_svc();
    svc["discovery"] = json!({"namespace": "${internal.id}"});
    let k = kit("instance", bridge_td(), svc.clone());
    assert_eq!(
        k.labels_of("iac::service::discovery_a_record"),
        ["svc:discovery:key", "web:network_mode"]
    );
    // SRV records without a container port to give.
    svc.as_object_mut().unwrap().remove("load_balancer");
    svc["discovery"] = json!({"namespace": "${internal.id}", "dns_type": "SRV"});
    assert_eq!(
        kit("instance", bridge_td(), svc.clone()).codes(),
        ["iac::service::discovery_srv_port"]
    );
    svc["discovery"]["container"] = json!("app");
    svc["discovery"]["port"] = json!(8080);
    assert!(kit("instance", bridge_td(), svc).codes().is_empty());

    // awsvpc tasks in subnets of another VPC than the namespace's.
    let td = json!({"cpu": 256, "memory": 512,
                    "containers": [{"name": "app", "image": "nginx", "port": 8080}]});
    let svc = json!({"desired_count": 1, "subnets": ["${a.id}"],
                     "discovery": {"namespace": "${internal.id}"}});
    assert!(kit("ip", td.clone(), svc.clone()).codes().is_empty());
    let mut k = kit("ip", td, svc);
    k.add(
        "internal",
        "aws.service_discovery_namespace",
        json!({"name": "internal", "vpc": "${other.id}"}),
    );
    assert_eq!(
        k.labels_of("iac::service::discovery_other_vpc"),
        ["svc:discovery.namespace", "svc:subnets[0]", "internal:vpc"]
    );
}

#[test]
fn bridge_tasks_register_in_the_vpc_of_their_instances() {
    // SRV records of a bridge service on a capacity provider: its tasks are where the
    // instances of the provider's group are.
    let mut svc = bridge_svc();
    svc.as_object_mut().unwrap().remove("launch_type");
    svc["capacity_provider_strategy"] = json!([{"capacity_provider": "${ec2.name}"}]);
    svc["discovery"] = json!({"namespace": "${internal.id}", "dns_type": "SRV"});
    let with_capacity = |ns_vpc: &str, strategy: bool| {
        let mut svc = svc.clone();
        if !strategy {
            svc.as_object_mut()
                .unwrap()
                .remove("capacity_provider_strategy");
            svc["launch_type"] = json!("EC2");
        }
        let mut k = kit("instance", bridge_td(), svc);
        k.add(
            "lt",
            "aws.launch_template",
            json!({"instance_type": "t3.small"}),
        );
        k.add(
            "asg",
            "aws.autoscaling_group",
            json!({"launch_template": "${lt.id}", "subnets": ["${a.id}", "${b.id}"],
                   "min": 0, "max": 2, "protect_from_scale_in": true}),
        );
        k.add(
            "ec2",
            "aws.capacity_provider",
            json!({"autoscaling_group": "${asg.arn}"}),
        );
        k.add(
            "cluster",
            "aws.ecs_cluster",
            json!({"capacity_providers": ["${ec2.name}", "FARGATE_SPOT"]}),
        );
        k.add(
            "internal",
            "aws.service_discovery_namespace",
            json!({"name": "internal", "vpc": format!("${{{ns_vpc}.id}}")}),
        );
        k
    };
    assert!(with_capacity("vpc", true).codes().is_empty());
    for strategy in [true, false] {
        // By its own strategy, or (with a launch type) the cluster's providers.
        let k = with_capacity("other", strategy);
        assert_eq!(
            k.labels_of("iac::service::discovery_other_vpc"),
            ["svc:discovery.namespace", "asg:subnets[0]", "internal:vpc"],
            "strategy: {strategy}"
        );
    }
}

#[test]
fn fargate_places_its_tasks_itself() {
    let td = json!({"cpu": 256, "memory": 512,
                    "containers": [{"name": "app", "image": "nginx", "port": 8080}]});
    let svc = json!({"desired_count": 1, "subnets": ["${a.id}"],
                     "capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT"}],
                     "placement_strategy": [{"type": "spread", "field": "instanceId"}]});
    let k = kit("ip", td.clone(), svc);
    assert_eq!(
        k.labels_of("iac::service::placement_on_fargate"),
        ["svc:placement_strategy:key"]
    );
    // The same placement on EC2 is fine.
    let mut td = td;
    td["requires_compatibilities"] = json!(["EC2"]);
    let svc = json!({"desired_count": 1, "subnets": ["${a.id}"], "launch_type": "EC2",
                     "placement_strategy": [{"type": "spread", "field": "instanceId"}]});
    assert!(kit("ip", td, svc).codes().is_empty());
}
