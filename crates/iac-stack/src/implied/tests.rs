use crate::{load_str, LoadOptions, Loaded};

/// A web app whose service names neither its listener nor its route table, and whose load
/// balancer names no internet gateway.
const APP: &str = r#"stack: implied
region: us-east-1
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  igw:
    type: aws.internet_gateway
    vpc: ${vpc.id}
  public_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.1.0/24
    az: ${region}a
  public_b:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.0.2.0/24
    az: ${region}b
  public_rt:
    type: aws.route_table
    vpc: ${vpc.id}
    routes:
      - destination: 0.0.0.0/0
        gateway: ${igw.id}
    subnets:
      - ${public_a.id}
      - ${public_b.id}
  alb:
    type: aws.load_balancer
    subnets:
      - ${public_a.id}
      - ${public_b.id}
  web_tg:
    type: aws.target_group
    vpc: ${vpc.id}
    port: 80
    protocol: HTTP
  http:
    type: aws.listener
    load_balancer: ${alb.arn}
    port: 80
    protocol: HTTP
    forward: ${web_tg.arn}
  cluster:
    type: aws.ecs_cluster
  web:
    type: aws.task_definition
    cpu: 256
    memory: 512
    containers:
      - name: app
        image: public.ecr.aws/nginx/nginx:1.27
        port: 80
  service:
    type: aws.ecs_service
    cluster: ${cluster.arn}
    task_definition: ${web.arn}
    desired_count: 2
    subnets:
      - ${public_a.id}
      - ${public_b.id}
    assign_public_ip: true
    load_balancer:
      target_group: ${web_tg.arn}
      container: app
      port: 80
"#;

fn load(text: &str) -> Loaded {
    load_str("implied.yaml", text, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{:?}", d.0.iter().map(|d| &d.message).collect::<Vec<_>>()))
}

/// `(dependency, reason)` of each implied edge of `name`.
fn implied<'l>(l: &'l Loaded, name: &str) -> Vec<(&'l str, &'l str)> {
    l.stack.resources[name]
        .implied
        .iter()
        .map(|i| (i.dependency.as_str(), i.reason.as_str()))
        .collect()
}

fn before(order: &[&str], a: &str, b: &str) -> bool {
    let at = |n: &str| order.iter().position(|x| *x == n).unwrap();
    at(a) < at(b)
}

#[test]
fn a_service_waits_for_its_listener_and_routes_and_a_public_alb_for_the_gateway() {
    let l = load(APP);
    assert_eq!(
        implied(&l, "service"),
        [
            (
                "http",
                "ECS needs target group `web_tg` attached to a load balancer first"
            ),
            (
                "public_rt",
                "tasks in subnet `public_a` need its routes first"
            ),
        ]
    );
    assert_eq!(
        implied(&l, "alb"),
        [(
            "igw",
            "an internet-facing load balancer needs the internet gateway of VPC `vpc` first"
        )]
    );
    // Nothing else gets one.
    for (name, r) in &l.stack.resources {
        if name != "service" && name != "alb" {
            assert!(r.implied.is_empty(), "{name}: {:?}", r.implied);
        }
    }
    // The span is the property that names the shared object.
    let svc = &l.stack.resources["service"];
    assert_eq!(
        svc.implied[0].span,
        svc.span_of("load_balancer.target_group")
    );

    // The graph orders by them, and says why.
    let order = l.graph.topo_order();
    assert!(before(&order, "http", "service"), "{order:?}");
    assert!(before(&order, "public_rt", "service"), "{order:?}");
    assert!(before(&order, "igw", "alb"), "{order:?}");
    let why = l.graph.dependency("service", "http").expect("an edge");
    assert_eq!(
        why.implied.as_deref(),
        Some("ECS needs target group `web_tg` attached to a load balancer first")
    );
    assert!(why.attrs.is_empty() && !why.depends_on);
    assert!(l.stack.resources["service"]
        .dependencies()
        .contains(&"http"));

    let dot = l.graph.to_dot();
    assert!(
        dot.contains("\"http\" -> \"service\" [style=dashed, color=gray40, label=\"implied: ECS needs target group `web_tg` attached to a load balancer first\"];"),
        "{dot}"
    );
    let mermaid = l.graph.to_mermaid();
    assert!(
        mermaid.contains("http -.->|\"implied: ECS needs target group `web_tg` attached to a load balancer first\"| service"),
        "{mermaid}"
    );
}

#[test]
fn what_the_stack_states_is_not_implied_again() {
    let stated = APP.replace(
        "    assign_public_ip: true\n",
        "    assign_public_ip: true\n    depends_on: [http]\n",
    );
    let l = load(&stated);
    assert_eq!(
        implied(&l, "service"),
        [(
            "public_rt",
            "tasks in subnet `public_a` need its routes first"
        )]
    );
    let why = l.graph.dependency("service", "http").expect("an edge");
    assert!(why.depends_on && why.implied.is_none());
}

#[test]
fn an_internal_load_balancer_needs_no_gateway() {
    let internal = APP.replace(
        "  alb:\n    type: aws.load_balancer\n",
        "  alb:\n    type: aws.load_balancer\n    internal: true\n",
    );
    let l = load(&internal);
    assert!(implied(&l, "alb").is_empty());
}

#[test]
fn lookups_get_no_implied_edges() {
    // A looked-up listener is read, not created: the service still waits for the read. A
    // looked-up load balancer is never created, so it waits for nothing.
    let looked_up = APP.replace(
        "  alb:\n    type: aws.load_balancer\n",
        "  alb:\n    type: aws.load_balancer\n    existing: true\n    name: shared-alb\n",
    );
    let l = load(&looked_up);
    assert!(l.stack.resources["alb"].existing);
    assert!(implied(&l, "alb").is_empty());
    assert_eq!(implied(&l, "service").len(), 2);
}

#[test]
fn a_cycle_through_an_implied_edge_is_reported_with_its_reason() {
    // The listener waits for the service (depends_on), the service for the listener (implied).
    let cyclic = APP.replace(
        "    forward: ${web_tg.arn}\n",
        "    forward: ${web_tg.arn}\n    depends_on: [service]\n",
    );
    let diags = load_str("implied.yaml", &cyclic, &LoadOptions::default()).expect_err("a cycle");
    let d = diags
        .0
        .iter()
        .find(|d| d.code == "iac::graph::cycle")
        .expect("a cycle diagnostic");
    let labels: Vec<&str> = d
        .labels
        .iter()
        .map(|l| l.text.as_deref().unwrap_or_default())
        .collect();
    assert!(
        labels
            .iter()
            .any(|l| l.contains("(implied: ECS needs target group `web_tg`")),
        "{labels:?}"
    );
}

#[test]
fn a_service_waits_for_the_listener_rule_forwarding_to_its_target_group() {
    // The listener answers with a fixed response; only a rule forwards to `web_tg` (and, by
    // weight, to `canary_tg`): the rule attaches the target groups, so the services wait for
    // it.
    let with_rule = APP
        .replace(
            "    protocol: HTTP\n    forward: ${web_tg.arn}\n",
            "    protocol: HTTP\n    fixed_response:\n      status: 404\n",
        )
        .replace(
            "  cluster:\n    type: aws.ecs_cluster\n",
            "  canary_tg:\n    type: aws.target_group\n    vpc: ${vpc.id}\n    port: 80\n    protocol: HTTP\n\
             \x20 api:\n    type: aws.listener_rule\n    listener: ${http.arn}\n    conditions:\n      path_pattern: [/api/*]\n\
             \x20   forward:\n      target_groups:\n        - target_group: ${web_tg.arn}\n          weight: 90\n\
             \x20       - target_group: ${canary_tg.arn}\n          weight: 10\n\
             \x20 cluster:\n    type: aws.ecs_cluster\n",
        );
    let l = load(&with_rule);
    assert_eq!(
        implied(&l, "service"),
        [
            (
                "api",
                "ECS needs target group `web_tg` attached to a load balancer first"
            ),
            (
                "public_rt",
                "tasks in subnet `public_a` need its routes first"
            ),
        ]
    );
    let order = l.graph.topo_order();
    assert!(before(&order, "api", "service"), "{order:?}");
    // The rule itself needs nothing implied: its listener and target groups are references.
    assert!(implied(&l, "api").is_empty());
}
