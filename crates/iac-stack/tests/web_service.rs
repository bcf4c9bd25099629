//! What `aws.web_service` expands into, option by option (tests/fixtures/valid/
//! web_service_options.yaml): the children each configuration creates and the values the
//! parent's fields feed them. The minimal form is checked against the long form by the
//! engine's equivalence test (crates/iac-engine/tests/web_service.rs).

use std::path::Path;

use iac_stack::{load_str, LoadOptions, Stack};
use serde_json::{json, Value as Json};

fn fixture() -> (Stack, iac_stack::StackGraph) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/valid/web_service_options.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    match load_str("web_service_options.yaml", &text, &LoadOptions::default()) {
        Ok(l) => (l.stack, l.graph),
        Err(d) => panic!("{d:?}"),
    }
}

fn children(stack: &Stack, parent: &str) -> Vec<String> {
    let prefix = format!("{parent}.");
    stack
        .resources
        .keys()
        .filter_map(|n| n.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

fn prop(stack: &Stack, name: &str, path: &str) -> Json {
    let r = &stack.resources[name];
    let mut parts = path.split('.');
    let mut v = serde_json::to_value(&r.props[parts.next().unwrap()]).unwrap();
    for p in parts {
        v = match p.parse::<usize>() {
            Ok(i) => v[i].clone(),
            Err(_) => v[p].clone(),
        };
    }
    v
}

fn reference(v: &Json) -> Option<&str> {
    v.get("$ref")?.as_str()
}

#[test]
fn each_option_shapes_the_children() {
    let (stack, _) = fixture();
    // Its own private network: NAT gateways, one per zone, tasks without public IPs.
    assert_eq!(
        children(&stack, "front"),
        [
            "vpc",
            "public_a",
            "public_b",
            "igw",
            "public_routes",
            "private_a",
            "private_b",
            "nat_ip_a",
            "nat_ip_b",
            "nat_a",
            "nat_b",
            "private_routes_a",
            "private_routes_b",
            "alb_sg",
            "tasks_sg",
            "zone",
            "cert",
            "alb",
            "tg",
            "https",
            "http",
            "cluster",
            "logs",
            "execution_role",
            "task",
            "service",
            "dns"
        ]
    );
    assert_eq!(
        prop(&stack, "front.service", "assign_public_ip"),
        json!(false)
    );
    let subnets = prop(&stack, "front.service", "subnets");
    assert_eq!(reference(&subnets[0]), Some("front.private_a.id"));
    assert_eq!(reference(&subnets[1]), Some("front.private_b.id"));
    // The range: starts at min, scales on CPU.
    assert_eq!(prop(&stack, "front.service", "desired_count"), json!(2));
    let scaling = prop(&stack, "front.service", "scaling");
    assert_eq!(
        (&scaling["min"], &scaling["max"], &scaling["cpu"]),
        (&json!(2), &json!(6), &json!(60))
    );
    // Narrowed ingress: 80 and 443 from each allowed CIDR, nothing else.
    let ingress = prop(&stack, "front.alb_sg", "ingress");
    let rules: Vec<(i64, &str)> = ingress
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["port"].as_i64().unwrap(), r["cidr"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            (80, "10.0.0.0/8"),
            (80, "2001:db8::/32"),
            (443, "10.0.0.0/8"),
            (443, "2001:db8::/32")
        ]
    );
    // Container settings and overrides.
    let container = prop(&stack, "front.task", "containers.0");
    assert_eq!(container["name"], json!("front"));
    assert_eq!(container["port"], json!(3000));
    assert_eq!(container["environment"], json!({"NODE_ENV": "production"}));
    assert_eq!(
        container["secrets"]["DB_PASSWORD"],
        json!("arn:aws:ssm:us-east-1:123456789012:parameter/shop/db")
    );
    assert_eq!(prop(&stack, "front.task", "cpu"), json!(512));
    // The secret's read permission goes to the web service's execution role, as for any
    // task definition.
    let policies = prop(&stack, "front.execution_role", "policies").to_string();
    assert!(
        policies.contains("ssm:GetParameters") && policies.contains("parameter/shop/db"),
        "{policies}"
    );
    assert_eq!(prop(&stack, "front.alb", "idle_timeout"), json!(120));
    assert_eq!(prop(&stack, "front.logs", "retention_days"), json!(90));
    assert!(stack.resources["front.logs"].protect);
    assert!(!stack.resources["api.logs"].protect);
    assert_eq!(
        prop(&stack, "front.tg", "health_check.path"),
        json!("/healthCheck")
    );
    // The shared load balancer's certificate covers the host of the service sharing it.
    assert_eq!(
        prop(&stack, "front.cert", "alternative_names"),
        json!(["api.shop.example.com"])
    );

    // Sharing by host: a listener rule instead of a load balancer, listeners and
    // certificate; the front's network; its own alias record.
    let api = children(&stack, "api");
    assert_eq!(
        api,
        [
            "tasks_sg",
            "zone",
            "tg",
            "rule",
            "cluster",
            "logs",
            "execution_role",
            "task",
            "service",
            "dns"
        ]
    );
    assert_eq!(
        reference(&prop(&stack, "api.rule", "listener")),
        Some("front.https.arn")
    );
    assert_eq!(
        prop(&stack, "api.rule", "conditions"),
        json!({"host_header": ["api.shop.example.com"]})
    );
    assert_eq!(
        reference(&prop(&stack, "api.tasks_sg", "ingress.0.source")),
        Some("front.alb_sg.id")
    );
    assert_eq!(
        reference(&prop(&stack, "api.tg", "vpc")),
        Some("front.vpc.id")
    );
    assert_eq!(
        reference(&prop(&stack, "api.dns", "alias.dns_name")),
        Some("front.alb.dns_name")
    );
    // Sharing by path alone: served on the front's name, so no record of its own.
    assert!(!children(&stack, "docs").contains(&"dns".to_string()));
    assert_eq!(
        prop(&stack, "docs.rule", "conditions"),
        json!({"path_pattern": ["/docs/*"]})
    );

    // An existing VPC and cluster: no network, no cluster, the given subnets.
    let admin = children(&stack, "admin");
    for absent in ["vpc", "public_a", "igw", "cluster", "nat_a"] {
        assert!(!admin.contains(&absent.to_string()), "{admin:?}");
    }
    assert_eq!(reference(&prop(&stack, "admin.tg", "vpc")), Some("net.id"));
    assert_eq!(
        prop(&stack, "admin.alb", "subnets"),
        json!(["subnet-0aaa1111", "subnet-0bbb2222"])
    );
    assert_eq!(
        prop(&stack, "admin.service", "subnets"),
        json!(["subnet-0ccc3333", "subnet-0ddd4444"])
    );
    assert_eq!(
        reference(&prop(&stack, "admin.service", "cluster")),
        Some("shared_cluster.arn")
    );
    assert_eq!(
        prop(&stack, "admin.service", "assign_public_ip"),
        json!(false)
    );
}

#[test]
fn children_are_ordinary_resources_with_aws_names_from_their_names() {
    let (stack, graph) = fixture();
    // Derived AWS names: the dot becomes a dash, within the service's limit.
    assert_eq!(prop(&stack, "front.tg", "name"), json!("demo-front-tg"));
    assert_eq!(
        prop(&stack, "front.execution_role", "name"),
        json!("demo-front-execution-role")
    );
    // References between children are graph edges like any other.
    let order = graph.topo_order();
    let at = |n: &str| order.iter().position(|o| *o == n).unwrap();
    assert!(at("front.vpc") < at("front.tg"));
    assert!(at("front.https") < at("api.rule"));
    // An output reads a child's attribute.
    let out = serde_json::to_value(&stack.outputs["shop"].value).unwrap();
    assert_eq!(reference(&out), Some("front.alb.dns_name"));
}

#[test]
fn moved_names_a_child_and_a_child_names_collide_with_own_resources() {
    let base = "stack: demo\nregion: us-east-1\nresources:\n  web:\n    type: aws.web_service\n    image: nginx\n    port: 80\n    domain: app.example.com\n    zone: example.com\n";
    // From the long form's `alb` to the child: a rename the state can follow.
    let moved = format!("{base}moved:\n  - {{ from: alb, to: web.alb }}\n");
    let loaded = load_str("moved.yaml", &moved, &LoadOptions::default()).expect("loads");
    assert_eq!(loaded.stack.moved[0].to, "web.alb");
    // `web.tg` and a resource `web_tg` would share the AWS name `demo-web-tg`.
    let clash = format!(
        "{base}  web_tg:\n    type: aws.target_group\n    vpc: ${{web.vpc.id}}\n    port: 80\n    protocol: HTTP\n"
    );
    let diags = load_str("clash.yaml", &clash, &LoadOptions::default()).unwrap_err();
    assert!(
        diags.iter().any(|d| d.code == "iac::naming::collision"),
        "{:?}",
        diags.iter().map(|d| d.code).collect::<Vec<_>>()
    );
}

#[test]
fn a_shared_load_balancer_is_named_by_its_web_service_or_by_a_reference_to_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/valid/web_service_shared.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("load_balancer: shop\n"));
    let load = |text: &str| match load_str("web_service_shared.yaml", text, &LoadOptions::default())
    {
        Ok(l) => l.stack,
        Err(d) => panic!("{d:?}"),
    };
    let by_name = load(&text);
    for form in ["${shop.alb}", "${shop.alb.arn}"] {
        let by_reference = load(&text.replace(
            "load_balancer: shop\n",
            &format!("load_balancer: \"{form}\"\n"),
        ));
        let names = |s: &Stack| s.resources.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&by_reference), names(&by_name), "{form}");
        for (name, r) in &by_name.resources {
            assert_eq!(
                serde_json::to_value(&by_reference.resources[name].props).unwrap(),
                serde_json::to_value(&r.props).unwrap(),
                "{form}: {name}"
            );
        }
    }
}

#[test]
fn a_value_that_chooses_the_children_is_checked_where_it_is_written() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/web-service.yaml"),
    )
    .unwrap();
    let text = text.replace("    count: 2\n", "    count: 2\n    subnets: privat\n");
    let Err(diags) = load_str("web-service.yaml", &text, &LoadOptions::default()) else {
        panic!("`subnets: privat` must not load (it would quietly mean public subnets)");
    };
    let d = diags
        .iter()
        .find(|d| d.code == "iac::value::invalid_enum")
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert!(d.message.contains("`web.subnets`"), "{}", d.message);
    assert!(d
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("did you mean `private`"));
}

#[test]
fn a_service_sharing_a_load_balancer_runs_in_the_network_of_its_owner() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/valid/web_service_shared.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let refused = |text: &str, says: &str| {
        let Err(diags) = load_str("shared.yaml", text, &LoadOptions::default()) else {
            panic!("must not load:\n{text}");
        };
        let d = diags
            .iter()
            .find(|d| d.code == "iac::web_service::load_balancer")
            .unwrap_or_else(|| panic!("{diags:?}"));
        let help = d.help.clone().unwrap_or_default();
        assert!(help.contains(says), "{help}");
        // Nothing else: no reference to a child that does not exist.
        assert!(
            diags
                .iter()
                .all(|d| d.code != "iac::reference::unknown_resource"),
            "{diags:?}"
        );
    };
    // A network of its own.
    refused(
        &text.replace(
            "    load_balancer: shop\n",
            "    load_balancer: shop\n    vpc: vpc-1\n    public_subnets: [subnet-1, subnet-2]\n",
        ),
        "leave `vpc` out",
    );
    // Private subnets the owner does not have.
    let public_owner = text.replace("    subnets: private\n", "");
    refused(
        &public_owner.replace(
            "    load_balancer: shop\n",
            "    load_balancer: shop\n    subnets: private\n",
        ),
        "no private subnets",
    );
    // The load balancer of one that shares another's.
    let chain = format!(
        "{}  admin:\n    type: aws.web_service\n    image: nginx:1.27\n    port: 80\n    domain: admin.shop.example.com\n    zone: example.com\n    load_balancer: api\n",
        text.split("outputs:").next().unwrap()
    );
    refused(&chain, "name the web service that owns it");

    // An owner in a given VPC: the sharer's target group and tasks are in it too.
    let given = text.replace(
        "    subnets: private\n",
        "    vpc: vpc-0abc\n    public_subnets: [subnet-a, subnet-b]\n",
    );
    let stack = match load_str("shared.yaml", &given, &LoadOptions::default()) {
        Ok(l) => l.stack,
        Err(d) => panic!("{d:?}"),
    };
    assert_eq!(prop(&stack, "api.tg", "vpc"), json!("vpc-0abc"));
    assert_eq!(
        prop(&stack, "api.service", "subnets"),
        json!(["subnet-a", "subnet-b"])
    );
}
