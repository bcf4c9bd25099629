use std::collections::HashMap as Map;

use super::*;
use crate::model::{RefSite, ResourceSpans};
use crate::value::{Reference, Value};
use crate::SourceFile;

/// A stack built by hand: `(name, type, refs as "res.attr", depends_on)`. Each reference
/// becomes a property value and a reference site with a distinct made-up span.
fn stack(resources: &[(&str, &str, &[&str], &[&str])]) -> Stack {
    let mut next = 0;
    let mut span = || {
        next += 2;
        Span::new(next, next + 1)
    };
    let mut out = IndexMap::new();
    for &(name, rtype, refs, deps) in resources {
        let mut spans = ResourceSpans {
            name: span(),
            ..Default::default()
        };
        let mut props = IndexMap::new();
        for (i, r) in refs.iter().enumerate() {
            let (resource, attr) = r.split_once('.').unwrap();
            let reference = Reference {
                resource: resource.into(),
                attr: attr.into(),
            };
            let path = format!("p{i}");
            spans.refs.push(RefSite {
                reference: reference.clone(),
                span: span(),
                path: path.clone(),
            });
            props.insert(path, Value::Ref(reference));
        }
        spans.depends_on = deps.iter().map(|_| span()).collect();
        out.insert(
            name.to_string(),
            Resource {
                name: name.into(),
                schema: crate::schema::lookup(rtype).expect("known type"),
                props,
                depends_on: deps.iter().map(|d| d.to_string()).collect(),
                protect: false,
                ignore_changes: vec![],
                existing: false,
                lookup_id: None,
                import: None,
                defaulted: vec![],
                implied: Vec::new(),
                spans,
            },
        );
    }
    Stack {
        source: SourceFile::new("test.yaml", ""),
        name: "test".into(),
        region: None,
        state: None,
        vars: IndexMap::new(),
        resources: out,
        outputs: IndexMap::new(),
        moved: Vec::new(),
        usage: Default::default(),
        spans: Map::new(),
    }
}

fn build(s: &Stack) -> (StackGraph, Diagnostics) {
    let mut d = Diagnostics::default();
    let g = StackGraph::build(s, &mut d);
    (g, d)
}

fn web() -> Stack {
    stack(&[
        (
            "svc",
            "aws.ecs_service",
            &["cluster.arn", "tg.arn"],
            &["https"],
        ),
        ("vpc", "aws.vpc", &[], &[]),
        ("cluster", "aws.ecs_cluster", &[], &[]),
        ("tg", "aws.target_group", &["vpc.id"], &[]),
        ("alb", "aws.load_balancer", &["a.id", "b.id"], &[]),
        ("a", "aws.subnet", &["vpc.id"], &[]),
        ("b", "aws.subnet", &["vpc.id", "vpc.cidr"], &[]),
        ("https", "aws.listener", &["alb.arn", "tg.arn"], &[]),
    ])
}

#[test]
fn topological_order_puts_dependencies_first_ties_in_file_order() {
    let (g, d) = build(&web());
    assert!(d.0.is_empty());
    assert_eq!(
        g.topo_order(),
        ["vpc", "cluster", "tg", "a", "b", "alb", "https", "svc"]
    );
}

#[test]
fn topological_order_is_deterministic() {
    let s = web();
    let first = build(&s).0.topo_order().join(",");
    for _ in 0..20 {
        assert_eq!(build(&s).0.topo_order().join(","), first);
    }
}

#[test]
fn direct_and_transitive_queries() {
    let (g, _) = build(&web());
    assert_eq!(g.dependencies("svc"), ["cluster", "tg", "https"]);
    assert_eq!(g.dependents("vpc"), ["tg", "a", "b"]);
    assert_eq!(
        g.transitive_dependents("vpc"),
        ["tg", "a", "b", "alb", "https", "svc"]
    );
    assert_eq!(
        g.transitive_dependencies("https"),
        ["vpc", "tg", "a", "b", "alb"]
    );
    assert!(g.transitive_dependents("svc").is_empty());
    assert!(g.dependents("nope").is_empty());
    assert!(g.transitive_dependents("nope").is_empty());
}

#[test]
fn edges_record_attributes_and_depends_on() {
    let (g, _) = build(&web());
    let b = g.dependency("b", "vpc").unwrap();
    assert_eq!(b.attrs, ["cidr", "id"]);
    assert!(!b.depends_on);
    let svc = g.dependency("svc", "https").unwrap();
    assert!(svc.attrs.is_empty());
    assert!(svc.depends_on);
    assert!(g.dependency("vpc", "b").is_none());
    assert_eq!(g.edges().len(), 10);
}

#[test]
fn unknown_and_self_references_make_no_edge() {
    let s = stack(&[
        ("vpc", "aws.vpc", &["vpc.cidr"], &[]),
        ("a", "aws.subnet", &["ghost.id"], &["nobody"]),
    ]);
    let (g, d) = build(&s);
    assert!(d.0.is_empty());
    assert!(g.edges().is_empty());
    assert!(!g.is_cyclic());
    assert_eq!(g.topo_order(), ["vpc", "a"]);
}

#[test]
fn cycle_of_three_is_named_whole_with_every_site_labelled() {
    let s = stack(&[
        ("vpc", "aws.vpc", &[], &[]),
        ("a", "aws.security_group", &["b.id"], &[]),
        ("b", "aws.security_group", &["c.id"], &[]),
        ("c", "aws.security_group", &["vpc.id"], &["a"]),
    ]);
    let (g, d) = build(&s);
    assert!(g.is_cyclic());
    assert_eq!(d.0.len(), 1);
    let diag = &d.0[0];
    assert_eq!(diag.code, "iac::graph::cycle");
    assert!(
        diag.message.contains("`a -> b -> c -> a`"),
        "{}",
        diag.message
    );
    let texts: Vec<&str> = diag
        .labels
        .iter()
        .map(|l| l.text.as_deref().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["`a` reads `b.id`", "`b` reads `c.id`", "`c` depends on `a`"]
    );
    assert!(diag.help.as_deref().unwrap().contains("break the cycle"));
    // Ordering still covers every resource.
    assert_eq!(g.topo_order().len(), 4);
}

#[test]
fn each_knot_is_reported_once_with_its_shortest_cycle() {
    // Two separate knots; the first holds two cycles (a<->b, a->b->c->a).
    let s = stack(&[
        ("a", "aws.security_group", &["b.id"], &[]),
        ("b", "aws.security_group", &["a.id", "c.id"], &[]),
        ("c", "aws.security_group", &["a.id"], &[]),
        ("x", "aws.security_group", &["y.id"], &[]),
        ("y", "aws.security_group", &["x.id"], &[]),
    ]);
    let (_, d) = build(&s);
    let msgs: Vec<&str> = d.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("`a -> b -> a`"), "{}", msgs[0]);
    assert!(d.0[0].help.as_deref().unwrap().contains("`c`"));
    assert!(msgs[1].contains("`x -> y -> x`"), "{}", msgs[1]);
}

#[test]
fn drawings_are_stable_and_styled() {
    let (g, _) = build(&web());
    let dot = g.to_dot();
    assert_eq!(dot, build(&web()).0.to_dot());
    assert!(dot.contains("\"vpc\" [label=\"vpc\\naws.vpc\"];"), "{dot}");
    assert!(
        dot.contains("\"vpc\" -> \"b\" [label=\"cidr, id\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"https\" -> \"svc\" [style=dashed];"),
        "{dot}"
    );
    assert!(dot.contains("subgraph \"cluster_network\""), "{dot}");
    let mm = g.to_mermaid();
    assert!(mm.starts_with("flowchart LR\n"), "{mm}");
    assert!(mm.contains("vpc[\"vpc<br/>aws.vpc\"]"), "{mm}");
    assert!(mm.contains("  vpc -->|\"cidr, id\"| b\n"), "{mm}");
    assert!(mm.contains("  https -.-> svc\n"), "{mm}");
}

fn node(name: &str) -> Node {
    Node {
        name: name.into(),
        rtype: "aws.vpc".into(),
        existing: false,
    }
}

fn edge(from: &str, to: &str, attr: &str) -> (String, String, Dependency) {
    let why = Dependency {
        attrs: vec![attr.into()],
        depends_on: false,
        implied: None,
    };
    (from.into(), to.into(), why)
}

#[test]
fn graphs_from_parts_merge_edges_and_share_the_queries() {
    let g = StackGraph::from_parts(
        "plan",
        ["web", "db", "net"].map(node),
        [
            edge("net", "db", "id"),
            edge("db", "web", "port"),
            edge("db", "web", "host"),
            edge("net", "web", "id"),
        ],
    )
    .unwrap();
    assert_eq!(g.topo_order(), ["net", "db", "web"]);
    assert_eq!(g.dependency("web", "db").unwrap().attrs, ["host", "port"]);
    assert_eq!(g.transitive_dependents("net"), ["db", "web"]);
    assert_eq!(g.edges().len(), 3);
}

#[test]
fn graphs_from_parts_refuse_bad_input() {
    let err = StackGraph::from_parts(
        "plan",
        ["a", "b", "c"].map(node),
        [
            edge("a", "b", "id"),
            edge("b", "c", "id"),
            edge("c", "a", "id"),
        ],
    )
    .unwrap_err();
    // `a` depends on `c` (edge c -> a), `c` on `b`, `b` on `a`.
    assert_eq!(err.to_string(), "dependency cycle `a -> c -> b -> a`");
    let err = StackGraph::from_parts("plan", ["a"].map(node), [edge("a", "zz", "id")]);
    assert_eq!(err.unwrap_err(), GraphError::UnknownNode("zz".into()));
    let err = StackGraph::from_parts("plan", ["a", "a"].map(node), []);
    assert_eq!(err.unwrap_err(), GraphError::DuplicateNode("a".into()));
}

#[test]
fn mermaid_keywords_are_not_used_as_ids() {
    let s = stack(&[
        ("end", "aws.vpc", &[], &[]),
        ("a", "aws.subnet", &["end.id"], &[]),
    ]);
    let mm = build(&s).0.to_mermaid();
    assert!(mm.contains("    End[\"end<br/>aws.vpc\"]"), "{mm}");
    assert!(mm.contains("  End -->|\"id\"| a"), "{mm}");
}
