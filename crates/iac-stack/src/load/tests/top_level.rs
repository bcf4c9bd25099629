//! The top level of a stack file: its keys, a file that is not a map, and the stack-wide
//! `tags:`.

use super::*;

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
fn stack_may_not_use_resource_refs() {
    assert_eq!(
        codes("stack: ${a.id}\nregion: x\nresources: {}\n"),
        ["iac::reference::not_allowed", "iac::stack::invalid_name"]
    );
}
