//! The dependency graph of real stack text: order, cycles, drawings.

use std::path::Path;

use iac_stack::{diag::render, load_str, LoadOptions};

/// A small web stack: a VPC, two subnets, a load balancer, a target group, a listener and a
/// service that waits for the listener through `depends_on`.
const WEB: &str = r#"stack: web
region: us-east-1
resources:
  svc:
    type: aws.ecs_service
    cluster: ${cluster.arn}
    task_definition: ${task.arn}
    desired_count: 1
    subnets:
      - ${a.id}
      - ${b.id}
    load_balancer:
      target_group: ${tg.arn}
      container: web
      port: 80
    depends_on:
      - https
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.1.0/24
    az: ${region}a
  b:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.2.0/24
    az: ${region}b
    tags:
      within: ${vpc.cidr}
  cluster:
    type: aws.ecs_cluster
  task:
    type: aws.task_definition
    cpu: 256
    memory: 512
    containers:
      - name: web
        image: nginx
        port: 80
  tg:
    type: aws.target_group
    vpc: ${vpc.id}
    port: 80
    protocol: HTTP
  alb:
    type: aws.load_balancer
    subnets:
      - ${a.id}
      - ${b.id}
  https:
    type: aws.listener
    load_balancer: ${alb.arn}
    port: 80
    protocol: HTTP
    forward: ${tg.arn}
"#;

fn graph_of(name: &str, text: &str) -> iac_stack::StackGraph {
    match load_str(name, text, &LoadOptions::default()) {
        Ok(l) => l.graph,
        Err(d) => panic!(
            "{name} does not load:\n{}",
            d.iter().map(|d| render(d, false)).collect::<String>()
        ),
    }
}

#[test]
fn topological_order_is_a_creation_order_with_ties_in_file_order() {
    let g = graph_of("web.yaml", WEB);
    let order = g.topo_order();
    assert_eq!(
        order,
        ["vpc", "a", "b", "cluster", "task", "tg", "alb", "https", "svc"]
    );
    for (i, name) in order.iter().enumerate() {
        for dep in g.dependencies(name) {
            let j = order.iter().position(|n| *n == dep).unwrap();
            assert!(j < i, "`{dep}` must come before `{name}`");
        }
    }
    for _ in 0..10 {
        assert_eq!(graph_of("web.yaml", WEB).topo_order(), order);
    }
}

#[test]
fn dependents_for_targeting() {
    let g = graph_of("web.yaml", WEB);
    assert_eq!(g.dependents("vpc"), ["a", "b", "tg"]);
    assert_eq!(
        g.dependencies("svc"),
        ["a", "b", "cluster", "task", "tg", "https"]
    );
    assert_eq!(g.transitive_dependents("a"), ["alb", "https", "svc"]);
    let why = g.dependency("b", "vpc").unwrap();
    assert_eq!(why.attrs, ["cidr", "id"]);
    assert!(g.dependency("svc", "https").unwrap().depends_on);
}

#[test]
fn cycle_of_three_is_named_whole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text =
        std::fs::read_to_string(root.join("tests/fixtures/invalid/graph_cycle.yaml")).unwrap();
    let diags = load_str(
        "tests/fixtures/invalid/graph_cycle.yaml",
        &text,
        &LoadOptions::default(),
    )
    .expect_err("a cycle must not load");
    let cycles: Vec<_> = diags
        .iter()
        .filter(|d| d.code == "iac::graph::cycle")
        .collect();
    assert_eq!(cycles.len(), 1, "one cycle, reported once");
    assert!(
        cycles[0]
            .message
            .contains("`alb_sg -> app_sg -> db_sg -> alb_sg`"),
        "{}",
        cycles[0].message
    );
    assert_eq!(cycles[0].labels.len(), 3);
    insta::assert_snapshot!(render(cycles[0], false));
}

#[test]
fn drawings_of_a_small_stack() {
    let g = graph_of("web.yaml", WEB);
    insta::assert_snapshot!("web_dot", g.to_dot());
    insta::assert_snapshot!("web_mermaid", g.to_mermaid());
}

#[test]
fn drawings_of_lemon_mart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("stacks/lemon-mart.yaml")).unwrap();
    let g = graph_of("stacks/lemon-mart.yaml", &text);
    insta::assert_snapshot!("lemon_mart_dot", g.to_dot());
    insta::assert_snapshot!("lemon_mart_mermaid", g.to_mermaid());
}

/// stacks/web-service.yaml: the web service's children inside one box named after it,
/// grouped by area within it, the output's read of `web.alb` an ordinary edge target.
#[test]
fn drawings_of_a_web_service() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("stacks/web-service.yaml")).unwrap();
    let g = graph_of("stacks/web-service.yaml", &text);
    let dot = g.to_dot();
    assert!(dot.contains("subgraph \"cluster_web\" {\n    label=\"web (aws.web_service)\";"));
    assert!(dot.contains("    subgraph \"cluster_web_network\" {"));
    assert!(dot.contains("      \"web.alb\" [label=\"web.alb\\naws.load_balancer\"];"));
    let mermaid = g.to_mermaid();
    assert!(mermaid.contains("  subgraph Web_web[\"web (aws.web_service)\"]"));
    assert!(mermaid.contains("    web-alb[\"web.alb<br/>aws.load_balancer\"]"));
    insta::assert_snapshot!("web_service_dot", dot);
    insta::assert_snapshot!("web_service_mermaid", mermaid);
}

/// `source: self` in a security group rule (the group's members reach each other) is no
/// reference: the graph has no edge from the group to itself and no cycle.
#[test]
fn a_security_group_rule_with_source_self_is_no_edge() {
    let text = r#"stack: web
region: us-east-1
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  sg:
    type: aws.security_group
    vpc: ${vpc.id}
    ingress:
      - { protocol: tcp, port: 7946, source: self }
    egress:
      - { protocol: all, source: self }
"#;
    let loaded = match load_str("self.yaml", text, &LoadOptions::default()) {
        Ok(l) => l,
        Err(d) => panic!("{}", d.iter().map(|d| render(d, false)).collect::<String>()),
    };
    let g = &loaded.graph;
    assert!(!g.is_cyclic());
    assert_eq!(g.dependencies("sg"), ["vpc"]);
    assert_eq!(g.topo_order(), ["vpc", "sg"]);
    assert!(!g.to_dot().contains("\"sg\" -> \"sg\""), "{}", g.to_dot());
}
