//! Loader tests against a small local schema, so they do not depend on the v1 table.
//!
//! Over 600 lines: one test per part of the loader (top level, vars, resources, references,
//! meta keys, aliases), sharing the schema and the helpers at the top.

use super::*;
use crate::schema::{Attr, AttrKind, AwsName, Prop};

static HEALTH: &[Prop] = &[
    Prop {
        name: "path",
        kind: Kind::Str,
        required: true,
        default: None,
        replace: false,
        doc: "Path.",
    },
    Prop {
        name: "interval",
        kind: Kind::Int,
        required: false,
        default: Some(DefaultValue::Int(30)),
        replace: false,
        doc: "Seconds.",
    },
];

static NET: TypeSchema = TypeSchema {
    name: "test.net",
    doc: "A network.",
    props: &[
        Prop {
            name: "cidr",
            kind: Kind::Cidr,
            required: true,
            default: None,
            replace: true,
            doc: "Block.",
        },
        Prop {
            name: "port",
            kind: Kind::Port,
            required: false,
            default: None,
            replace: false,
            doc: "Port.",
        },
        Prop {
            name: "protocol",
            kind: Kind::Enum(&["HTTP", "HTTPS"]),
            required: false,
            default: None,
            replace: false,
            doc: "Protocol.",
        },
        Prop {
            name: "status",
            kind: Kind::Enum(&["301", "302"]),
            required: false,
            default: None,
            replace: false,
            doc: "Status.",
        },
        Prop {
            name: "count",
            kind: Kind::Int,
            required: false,
            default: Some(DefaultValue::Int(2)),
            replace: false,
            doc: "Count.",
        },
        Prop {
            name: "name",
            kind: Kind::Str,
            required: false,
            default: Some(DefaultValue::AwsName),
            replace: true,
            doc: "Name.",
        },
        Prop {
            name: "log",
            kind: Kind::Str,
            required: false,
            default: Some(DefaultValue::Pattern("/iac/{stack}/{name}")),
            replace: true,
            doc: "Log.",
        },
        Prop {
            name: "peer",
            kind: Kind::Id {
                rtype: "test.net",
                attr: "id",
            },
            required: false,
            default: None,
            replace: false,
            doc: "Peer.",
        },
        Prop {
            name: "zones",
            kind: Kind::ListOf(&Kind::Str),
            required: false,
            default: None,
            replace: false,
            doc: "Zones.",
        },
        Prop {
            name: "health",
            kind: Kind::Object(HEALTH),
            required: false,
            default: None,
            replace: false,
            doc: "Health.",
        },
    ],
    attrs: &[
        Attr {
            name: "id",
            kind: AttrKind::Str,
            doc: "Id.",
        },
        Attr {
            name: "zones",
            kind: AttrKind::List,
            doc: "Zones.",
        },
        Attr {
            name: "port",
            kind: AttrKind::Int,
            doc: "Port.",
        },
    ],
    taggable: true,
    aws_name: Some(AwsName {
        prop: Some("name"),
        max_len: 32,
    }),
    holds: None,
    renews: None,
    shows_live: &[],
};

/// Run the loader with `test.net` as the only type (the real table is not consulted).
fn run(text: &str, opts: &LoadOptions) -> (Option<Stack>, Diagnostics) {
    let src = SourceFile::new("t.yaml", text);
    let mut diags = Diagnostics::default();
    let stack = build_with_types(
        &src,
        opts,
        &mut diags,
        &|n| (n == "test.net").then_some(&NET),
        &["test.net"],
    );
    (stack, diags)
}

fn ok(text: &str) -> Stack {
    let (s, d) = run(text, &LoadOptions::default());
    assert!(
        !d.has_errors(),
        "{:#?}",
        d.iter().map(|d| (d.code, &d.message)).collect::<Vec<_>>()
    );
    s.unwrap()
}

fn codes(text: &str) -> Vec<&'static str> {
    let (_, d) = run(text, &LoadOptions::default());
    d.iter().map(|d| d.code).collect()
}

const HEAD: &str = "stack: demo\nregion: eu-west-1\n";

#[test]
fn minimal_stack_with_defaults() {
    let s = ok(&format!(
        "{HEAD}resources:\n  net:\n    type: test.net\n    cidr: 10.0.0.0/16\n"
    ));
    assert_eq!(s.name, "demo");
    assert_eq!(s.region.as_deref(), Some("eu-west-1"));
    let net = &s.resources["net"];
    assert_eq!(net.props["count"], Value::Int(2));
    assert_eq!(net.props["name"], Value::Str("demo-net".into()));
    assert_eq!(net.props["log"], Value::Str("/iac/demo/net".into()));
    // Schema order, not written order.
    let keys: Vec<&str> = net.props.keys().map(String::as_str).collect();
    assert_eq!(keys, ["cidr", "count", "name", "log"]);
    let text = &s.source.text;
    let span = net.spans.props["cidr"];
    assert_eq!(&text[span.start..span.end], "10.0.0.0/16");
    assert_eq!(&text[net.spans.name.start..net.spans.name.end], "net");
}

#[test]
fn vars_keep_their_type_and_interpolate_as_text() {
    let s = ok(&format!(
        "{HEAD}vars:\n  zones: [a, b]\n  port: 8080\n  env: {{default: prod, description: Env}}\nresources:\n  net:\n    type: test.net\n    cidr: 10.0.0.0/16\n    zones: ${{var.zones}}\n    port: ${{var.port}}\n    name: web-${{var.env}}-${{var.port}}-${{region}}\n"
    ));
    let net = &s.resources["net"];
    assert_eq!(
        net.props["zones"],
        Value::List(vec![Value::Str("a".into()), Value::Str("b".into())])
    );
    assert_eq!(net.props["port"], Value::Int(8080));
    assert_eq!(
        net.props["name"],
        Value::Str("web-prod-8080-eu-west-1".into())
    );
}

#[test]
fn references_stay_references() {
    let s = ok(&format!(
        "{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n  b:\n    type: test.net\n    cidr: 10.1.0.0/16\n    peer: ${{a.id}}\n    name: x-${{a.id}}\n    port: ${{a.port}}\noutputs:\n  peer: ${{b.id}}\n  literal: cost $${{not.ref}}\n"
    ));
    let b = &s.resources["b"];
    let r = Reference {
        resource: "a".into(),
        attr: "id".into(),
    };
    assert_eq!(b.props["peer"], Value::Ref(r.clone()));
    assert_eq!(
        b.props["name"],
        Value::Template(vec![Part::Text("x-".into()), Part::Ref(r.clone())])
    );
    assert_eq!(b.spans.refs.len(), 3);
    let site = &b.spans.refs[0];
    assert_eq!(&s.source.text[site.span.start..site.span.end], "${a.id}");
    assert_eq!(site.path, "peer");
    assert_eq!(s.outputs["peer"].refs.len(), 1);
    assert_eq!(
        s.outputs["literal"].value,
        Value::Str("cost ${not.ref}".into())
    );
    assert_eq!(b.dependencies(), ["a"]);
}

use crate::value::{Part, Reference};

#[test]
fn reference_errors() {
    let c = codes(&format!(
        "{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    peer: ${{a.id}}\n    name: ${{b.id}}\n    log: ${{aa.idd}}\n    zones: [\"${{var.nope}}\", \"${{foo}}\", \"${{a.id\"]\n"
    ));
    assert_eq!(
        c,
        [
            "iac::reference::self",
            "iac::reference::unknown_resource",
            "iac::reference::unknown_resource",
            "iac::reference::unknown_var",
            "iac::reference::syntax",
            "iac::reference::syntax",
        ]
    );
}

#[test]
fn unknown_attribute_names_the_attributes() {
    let (_, d) = run(
        &format!("{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n  b:\n    type: test.net\n    cidr: 10.1.0.0/16\n    peer: ${{a.ids}}\n"),
        &LoadOptions::default(),
    );
    let diag = &d.0[0];
    assert_eq!(diag.code, "iac::reference::unknown_attribute");
    assert!(
        diag.help.as_deref().unwrap().contains("did you mean `id`?"),
        "{:?}",
        diag.help
    );
}

#[test]
fn reference_span_is_exact_inside_the_string() {
    let text = format!("{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    name: \"pre-${{nope.id}}-post\"\n");
    let (_, d) = run(&text, &LoadOptions::default());
    let l = d.0[0].labels[0].span;
    assert_eq!(&text[l.start..l.end], "${nope.id}");
}

#[test]
fn value_errors() {
    let c = codes(&format!(
        "{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.1/16\n    port: 70000\n    protocol: HTTP2\n    count: abc\n    health: {{interval: 5, extra: 1}}\n    tags: {{team: 3}}\n    bogus: 1\n"
    ));
    assert_eq!(
        c,
        [
            "iac::value::invalid_cidr",
            "iac::value::invalid_port",
            "iac::value::invalid_enum",
            "iac::value::wrong_type",
            "iac::resource::unknown_property",
            "iac::resource::missing_property",
            "iac::value::wrong_type",
            "iac::resource::unknown_property",
        ]
    );
}

#[test]
fn cidr_help_gives_network_address() {
    let (_, d) = run(
        &format!("{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.1/16\n"),
        &LoadOptions::default(),
    );
    assert_eq!(
        d.0[0].help.as_deref(),
        Some("use the network address `10.0.0.0/16`")
    );
}

#[test]
fn enum_integers_become_strings_and_nested_defaults_apply() {
    let s = ok(&format!("{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    status: 301\n    health: {{path: /}}\n"));
    let a = &s.resources["a"];
    assert_eq!(a.props["status"], Value::Str("301".into()));
    assert_eq!(a.at_path("health.interval"), Some(&Value::Int(30)));
}

#[test]
fn defaulted_lists_what_the_schema_filled_in() {
    let s = ok(&format!("{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    name: my-net\n    health: {{path: /}}\n  b:\n    type: test.net\n    cidr: 10.1.0.0/16\n    count: 3\n"));
    let (a, b) = (&s.resources["a"], &s.resources["b"]);
    // Written props are not listed, nested defaults are, by path.
    assert_eq!(a.defaulted, ["health.interval", "count", "log"]);
    assert!(!a.is_defaulted("name"));
    assert!(a.is_defaulted("health.interval"));
    assert_eq!(b.defaulted, ["name", "log"]);
    assert!(b.is_defaulted("name"));
    assert_eq!(b.props["name"], Value::Str("demo-b".into()));
    // Defaults leave no span: the list is the only record of where a value came from.
    assert!(!b.spans.props.contains_key("name"));
}

#[test]
fn existing_resources_need_no_required_props() {
    let s = ok(&format!(
        "{HEAD}resources:\n  a:\n    type: test.net\n    existing: true\n    protect: true\n"
    ));
    assert!(s.resources["a"].existing);
    assert!(s.resources["a"].protect);
}

#[test]
fn meta_key_errors() {
    let c = codes(&format!(
        "{HEAD}resources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    depends_on: [b, a]\n    ignore_changes: [cidr, nme]\n    protect: yes\n  B-1:\n    type: test.nett\n  c:\n    cidr: 1\n"
    ));
    assert_eq!(
        c,
        [
            "iac::resource::invalid_name",
            "iac::resource::unknown_type",
            "iac::resource::missing_type",
            "iac::resource::unknown_dependency",
            "iac::reference::self",
            "iac::value::wrong_type",
            "iac::resource::unknown_property",
        ]
    );
}

#[test]
fn top_level_errors() {
    let (_, d) = run("stack: Bad_Name\nresorces: {}\n", &LoadOptions::default());
    let c: Vec<_> = d.iter().map(|d| d.code).collect();
    assert_eq!(
        c,
        [
            "iac::stack::unknown_key",
            "iac::stack::invalid_name",
            // `region` only: the missing `resources` is the typo reported first.
            "iac::stack::missing_key",
        ]
    );
    assert_eq!(d.0[0].help.as_deref(), Some("did you mean `resources`?"));
}

#[test]
fn not_a_map_gives_no_stack() {
    let (s, d) = run("- a\n- b\n", &LoadOptions::default());
    assert!(s.is_none());
    assert_eq!(d.0[0].code, "iac::stack::not_a_map");
}

#[test]
fn cli_vars_override_and_parse_as_scalars() {
    let opts = LoadOptions {
        vars: vec![
            ("tasks".into(), "3".into()),
            ("name".into(), "web".into()),
            ("nmae".into(), "x".into()),
        ],
        region: Some("us-east-2".into()),
        ..LoadOptions::default()
    };
    let (s, d) = run(
        "stack: ${var.name}-app\nregion: eu-west-1\nvars:\n  tasks: 1\n  name: {required: true}\nresources: {}\n",
        &opts,
    );
    let s = s.unwrap();
    assert_eq!(s.vars["tasks"], Value::Int(3));
    assert_eq!(s.name, "web-app");
    assert_eq!(s.region.as_deref(), Some("us-east-2"));
    let c: Vec<_> = d.iter().map(|d| (d.code, d.help.clone())).collect();
    assert_eq!(
        c,
        [(
            "iac::vars::unknown",
            Some("did you mean `name`?".to_string())
        )]
    );
}

#[test]
fn required_var_without_value() {
    let (_, d) = run(
        &format!(
            "{HEAD}vars:\n  domain: {{required: true, description: The domain}}\nresources: {{}}\n"
        ),
        &LoadOptions::default(),
    );
    assert_eq!(d.0[0].code, "iac::vars::required");
    assert_eq!(
        d.0[0].help.as_deref(),
        Some("pass `--var domain=...` or set `domain` in a `--var-file`")
    );
}

#[test]
fn var_file_errors_point_into_the_var_file() {
    let dir = std::env::temp_dir().join(format!("iac-load-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("env.yaml");
    std::fs::write(&file, "tasks: 4\ntaks: 5\n").unwrap();
    let opts = LoadOptions {
        var_files: vec![file.clone()],
        ..LoadOptions::default()
    };
    let (s, d) = run(
        &format!("{HEAD}vars:\n  tasks: 1\nresources: {{}}\n"),
        &opts,
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(s.unwrap().vars["tasks"], Value::Int(4));
    let diag = &d.0[0];
    assert_eq!(diag.code, "iac::vars::unknown");
    assert_eq!(
        diag.source.as_ref().unwrap().name,
        file.display().to_string()
    );
    assert_eq!(diag.labels[0].span, Span::new(9, 13));
}

#[test]
fn list_var_inside_a_longer_string_is_an_error() {
    assert_eq!(
        codes(&format!("{HEAD}vars:\n  z: [a]\nresources:\n  a:\n    type: test.net\n    cidr: 10.0.0.0/16\n    name: x-${{var.z}}\n")),
        ["iac::reference::not_text"]
    );
}

#[test]
fn stack_may_not_use_resource_refs() {
    assert_eq!(
        codes("stack: ${a.id}\nregion: x\nresources: {}\n"),
        ["iac::reference::not_allowed", "iac::stack::invalid_name"]
    );
}

#[test]
fn error_cap_applies() {
    let mut text = format!("{HEAD}resources:\n");
    for i in 0..100 {
        text.push_str(&format!("  r{i}:\n    type: test.net\n    cidr: bad\n"));
    }
    let (_, d) = run(&text, &LoadOptions::default());
    assert_eq!(d.error_count(), crate::diag::MAX_ERRORS);
}

/// The valid `load_*` fixtures, loaded against the real schema with the options their
/// headers name, resolve to what their comments promise.
mod fixtures {
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
}

#[test]
fn stack_wide_tags_reach_every_managed_resource() {
    let s = ok(&format!(
        "{HEAD}vars:\n  team: web\ntags:\n  team: ${{var.team}}\n  where: ${{stack}} in ${{region}}\n\
         resources:\n  net:\n    type: test.net\n    cidr: 10.0.0.0/16\n    tags: {{team: db}}\n\
         \x20 found:\n    type: test.net\n    existing: true\n    cidr: 10.1.0.0/16\n"
    ));
    let tags = s.resources["net"].props["tags"].as_map().unwrap();
    assert_eq!(tags["team"], Value::Str("db".into()));
    assert_eq!(tags["where"], Value::Str("demo in eu-west-1".into()));
    // A lookup of something that exists is not tagged by the stack.
    assert!(!s.resources["found"].props.contains_key("tags"));
}

#[test]
fn stack_wide_tags_are_checked() {
    let net = "resources:\n  net:\n    type: test.net\n    cidr: 10.0.0.0/16\n";
    assert_eq!(
        codes(&format!("{HEAD}tags:\n  id: ${{net.id}}\n{net}")),
        ["iac::reference::not_allowed"]
    );
    assert_eq!(
        codes(&format!("{HEAD}tags:\n  cost: 42\n{net}")),
        ["iac::value::wrong_type"]
    );
    assert_eq!(
        codes(&format!("{HEAD}tags: [a, b]\n{net}")),
        ["iac::value::wrong_type"]
    );
    assert_eq!(
        codes(&format!(
            "{HEAD}tags:\n  AWS:thing: x\n  Name: y\n  ok: z\n{net}"
        )),
        ["iac::stack::reserved_tag", "iac::stack::reserved_tag"]
    );
    // A typo of the key is caught like any other top-level key.
    assert_eq!(
        codes(&format!("{HEAD}tag:\n  a: b\n{net}")),
        ["iac::stack::unknown_key"]
    );
    ok(&format!("{HEAD}tags:\n{net}"));
}

#[test]
fn an_error_in_a_value_used_through_an_alias_is_labelled_at_both_places() {
    let text = format!(
        "{HEAD}resources:\n  net:\n    type: test.net\n    cidr: 10.0.0.0/16\n    health: &h {{path: /, interval: soon}}\n\
         \x20 other:\n    type: test.net\n    cidr: 10.1.0.0/16\n    health: *h\n"
    );
    let (_, d) = run(&text, &LoadOptions::default());
    let errors: Vec<&Diag> = d.iter().collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let at = |sp: Span| &text[sp.start..sp.end];
    // Where it is written, once with no alias (net) and once through `*h` (other).
    assert_eq!(errors[0].labels.len(), 1);
    assert_eq!(at(errors[0].labels[0].span), "soon");
    assert_eq!(errors[1].labels.len(), 2);
    assert_eq!(at(errors[1].labels[0].span), "soon");
    assert_eq!(at(errors[1].labels[1].span), "*h");
    assert_eq!(
        errors[1].labels[1].text.as_deref(),
        Some(crate::diag::ALIAS_LABEL)
    );
}

#[test]
fn existing_is_a_lookup_by_properties_or_by_an_id_of_the_types_forms() {
    let text = "stack: demo\nregion: us-east-1\ntags: { team: web }\nresources:\n  \
                by_id:\n    type: aws.vpc\n    existing: { id: vpc-0a1b2c3d }\n  \
                by_tag:\n    type: aws.vpc\n    existing: true\n    tags: { Name: shared }\n  \
                cluster:\n    type: aws.ecs_cluster\n    existing: true\n    name: shared\n";
    let loaded = crate::load_str("t.yaml", text, &LoadOptions::default()).expect("loads");
    let r = &loaded.stack.resources;
    assert!(r["by_id"].existing);
    assert_eq!(r["by_id"].lookup_id.as_deref(), Some("vpc-0a1b2c3d"));
    assert!(r["by_id"].spans.existing.is_some());
    assert!(r["by_tag"].existing);
    assert_eq!(r["by_tag"].lookup_id, None);
    // What a lookup searches by, as written: no stack-wide tags, no defaults.
    let tags = r["by_tag"].props["tags"].as_map().unwrap();
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["Name"]);
    assert_eq!(r["by_tag"].props.keys().collect::<Vec<_>>(), ["tags"]);
    assert_eq!(r["cluster"].props.keys().collect::<Vec<_>>(), ["name"]);
}
