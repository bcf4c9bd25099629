//! Loader tests against a small local schema, so they do not depend on the v1 table.
//!
//! The schema and the helpers are here with the tests of resources, references, values, meta
//! keys and aliases; the top level and stack-wide tags are in `top_level`, vars in `vars`,
//! the valid fixtures (against the real schema) in `fixtures`.

use super::*;
use crate::schema::{attr, opt, AttrKind, AwsName, Prop};

static HEALTH: &[Prop] = &[
    Prop {
        required: true,
        ..opt("path", Kind::Str, "Path.")
    },
    Prop {
        default: Some(DefaultValue::Int(30)),
        ..opt("interval", Kind::Int, "Seconds.")
    },
];

static NET: TypeSchema = TypeSchema {
    name: "test.net",
    doc: "A network.",
    props: &[
        Prop {
            required: true,
            replace: true,
            ..opt("cidr", Kind::Cidr, "Block.")
        },
        opt("port", Kind::Port, "Port."),
        opt("protocol", Kind::Enum(&["HTTP", "HTTPS"]), "Protocol."),
        opt("status", Kind::Enum(&["301", "302"]), "Status."),
        Prop {
            default: Some(DefaultValue::Int(2)),
            ..opt("count", Kind::Int, "Count.")
        },
        Prop {
            default: Some(DefaultValue::AwsName),
            replace: true,
            ..opt("name", Kind::Str, "Name.")
        },
        Prop {
            default: Some(DefaultValue::Pattern("/iac/{stack}/{name}")),
            replace: true,
            ..opt("log", Kind::Str, "Log.")
        },
        opt(
            "peer",
            Kind::Id {
                rtype: "test.net",
                attr: "id",
            },
            "Peer.",
        ),
        opt("zones", Kind::ListOf(&Kind::Str), "Zones."),
        opt("health", Kind::Object(HEALTH), "Health."),
    ],
    attrs: &[
        attr("id", AttrKind::Str, "Id."),
        attr("zones", AttrKind::List, "Zones."),
        attr("port", AttrKind::Int, "Port."),
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

mod fixtures;
mod top_level;
mod vars;

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
fn error_cap_applies() {
    let mut text = format!("{HEAD}resources:\n");
    for i in 0..100 {
        text.push_str(&format!("  r{i}:\n    type: test.net\n    cidr: bad\n"));
    }
    let (_, d) = run(&text, &LoadOptions::default());
    assert_eq!(d.error_count(), crate::diag::MAX_ERRORS);
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
