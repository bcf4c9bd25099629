//! The valid `load_*` fixtures, loaded against the real schema with the options their
//! headers name, resolve to what their comments promise.

use super::*;
use std::path::Path;

fn fixture(name: &str, opts: LoadOptions) -> Stack {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/valid")
        .join(name);
    match crate::load_file(&path, &opts) {
        Ok(l) => l.stack,
        Err(d) => panic!(
            "{name}: {:?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

fn vars_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vars")
}

#[test]
fn var_sources_apply_in_order() {
    let s = fixture(
        "load_vars.yaml",
        LoadOptions {
            var_files: vec![vars_dir().join("load_staging.yaml")],
            vars: vec![("tasks".into(), "3".into())],
            region: None,
        },
    );
    assert_eq!(s.name, "shop-staging");
    assert_eq!(s.vars["tasks"], Value::Int(3));
    assert_eq!(
        s.resources["vpc"].props["cidr"],
        Value::Str("10.1.0.0/16".into())
    );
    let tags = s.resources["public_a"].props["tags"].as_map().unwrap();
    assert_eq!(tags["Tasks"], Value::Str("3 tasks in shop-staging".into()));
    assert_eq!(
        s.resources["public_a"].props["az"],
        Value::Str("eu-west-1a".into())
    );
    assert_eq!(s.outputs["tasks"].value, Value::Int(3));
}

#[test]
fn references_templates_and_escapes() {
    let s = fixture("load_refs.yaml", LoadOptions::default());
    let vpc_id = Reference {
        resource: "vpc".into(),
        attr: "id".into(),
    };
    let subnet = &s.resources["public_a"];
    assert_eq!(subnet.props["vpc"], Value::Ref(vpc_id.clone()));
    let tags = subnet.props["tags"].as_map().unwrap();
    assert_eq!(tags["Note"], Value::Str("cost center ${team}".into()));
    assert_eq!(
        tags["Vpc"],
        Value::Template(vec![
            Part::Text("vpc ".into()),
            Part::Ref(vpc_id.clone()),
            Part::Text(" in ".into()),
            Part::Ref(Reference {
                resource: "vpc".into(),
                attr: "cidr".into()
            }),
        ])
    );
    let sg = &s.resources["web_sg"];
    assert!(sg.protect);
    assert_eq!(sg.depends_on, ["public_a"]);
    assert_eq!(sg.ignore_changes, ["tags.Owner", "ingress"]);
    assert_eq!(sg.dependencies(), ["vpc", "web_sg_peer", "public_a"]);
    let site = sg
        .spans
        .refs
        .iter()
        .find(|r| r.reference.resource == "web_sg_peer")
        .unwrap();
    assert_eq!(site.path, "ingress[1].source");
    assert_eq!(
        &s.source.text[site.span.start..site.span.end],
        "${web_sg_peer.id}"
    );
    assert_eq!(
        s.outputs["literal"].value,
        Value::Str("${not.a.reference}".into())
    );
    assert_eq!(
        s.resources["web_sg_peer"].props["description"],
        Value::Str("Managed by iac".into())
    );
}

#[test]
fn list_vars_stay_lists_and_names_default() {
    let s = fixture(
        "load_list_var.yaml",
        LoadOptions {
            vars: vec![("retention".into(), "14".into())],
            ..LoadOptions::default()
        },
    );
    let role = &s.resources["exec_role"];
    assert_eq!(role.props["managed_policies"].as_list().unwrap().len(), 2);
    assert_eq!(role.props["name"], Value::Str("lists-exec-role".into()));
    let logs = &s.resources["app_logs"];
    assert_eq!(logs.props["name"], Value::Str("/iac/lists/app_logs".into()));
    assert_eq!(logs.props["retention_days"], Value::Int(14));
}

fn tags_of(s: &Stack, name: &str) -> Vec<(String, String)> {
    s.resources[name].props["tags"]
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn anchors_merge_keys_and_stack_wide_tags() {
    let s = fixture("load_anchors.yaml", LoadOptions::default());
    // Stack-wide tags first, the resource's own win on a shared key (`env`).
    assert_eq!(
        tags_of(&s, "vpc"),
        pairs(&[
            ("team", "checkout"),
            ("stack", "anchors"),
            ("tier", "web"),
            ("env", "shared"),
        ])
    );
    // Through an alias: the same.
    assert_eq!(tags_of(&s, "public_a"), tags_of(&s, "vpc"));
    // Merged with `<<: *subnet`: everything of public_a but what public_b writes.
    let (a, b) = (&s.resources["public_a"], &s.resources["public_b"]);
    assert_eq!(b.schema.name, "aws.subnet");
    assert_eq!(b.props["vpc"], a.props["vpc"]);
    assert_eq!(b.props["public"], Value::Bool(true));
    assert_eq!(b.props["cidr"], Value::Str("10.0.2.0/24".into()));
    assert_eq!(b.props["az"], Value::Str("us-east-1b".into()));
    assert_eq!(tags_of(&s, "public_b"), tags_of(&s, "vpc"));
    assert_eq!(b.dependencies(), ["vpc"]);
    // `<<: [*subnet]` and a tag map merged with a key of its own.
    let private = &s.resources["private_a"];
    assert_eq!(private.props["public"], Value::Bool(false));
    assert_eq!(
        tags_of(&s, "private_a"),
        pairs(&[
            ("team", "checkout"),
            ("stack", "anchors"),
            ("env", "shared"),
            ("tier", "private"),
        ])
    );
    // A resource with no tags of its own gets the stack-wide ones, vars substituted.
    assert_eq!(
        tags_of(&s, "igw"),
        pairs(&[
            ("team", "checkout"),
            ("env", "staging"),
            ("stack", "anchors")
        ])
    );
    // Spans: an inherited tag points at the top-level `tags:`; a merged value at where
    // it is written, through the alias that brought it.
    let text = &s.source.text;
    let at = |sp: Span| &text[sp.start..sp.end];
    let igw = &s.resources["igw"];
    assert_eq!(at(igw.span_of("tags.team")), "checkout");
    assert_eq!(at(igw.spans.keys["tags.team"]), "team");
    let vpc_ref = b.spans.refs.iter().find(|r| r.path == "vpc").unwrap();
    assert_eq!(at(vpc_ref.span), "${vpc.id}");
    assert_eq!(vpc_ref.span.start, a.spans.refs[0].span.start);
    assert_eq!(at(vpc_ref.span.alias().unwrap()), "*subnet");
    assert_eq!(
        s.spans.get("tags.env").map(|sp| at(*sp)),
        Some("${var.env}")
    );
}

#[test]
fn a_security_group_rule_may_name_the_group_itself() {
    let s = fixture("load_sg_self.yaml", LoadOptions::default());
    let sg = &s.resources["cluster_sg"];
    assert_eq!(
        sg.at_path("ingress[0].source"),
        Some(&Value::Str("self".into()))
    );
    assert_eq!(
        sg.at_path("egress[0].source"),
        Some(&Value::Str("self".into()))
    );
    // No edge to itself: its dependencies are the VPC and the other group.
    assert_eq!(sg.dependencies(), ["vpc", "lb_sg"]);
}
