//! The schema table and what is generated from it: the committed docs/stack-reference.md and
//! docs/stack.schema.json must equal a fresh generation, the JSON Schema must accept every
//! stack we ship or test with (and reject broken ones), and the table must be consistent.
//!
//! After changing crates/iac-stack/src/schema/types.rs, regenerate the committed files with
//! `IAC_BLESS=1 cargo test -p iac-stack --test schema`.

use std::path::{Path, PathBuf};

use iac_stack::schema::{
    json_schema, reference_markdown, DefaultValue, Kind, Prop, TypeSchema, TYPES,
};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compare a committed generated file with a fresh generation; with `IAC_BLESS=1`, write it.
fn check_generated(rel: &str, fresh: &str) {
    let path = root().join(rel);
    if std::env::var_os("IAC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, fresh).unwrap_or_else(|e| panic!("cannot write {rel}: {e}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(fresh.lines().count()));
        panic!(
            "{rel} is out of date with crates/iac-stack/src/schema (first difference at line {}); \
             run `IAC_BLESS=1 cargo test -p iac-stack --test schema` and commit the result",
            first + 1
        );
    }
}

fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn committed_reference_page_is_current() {
    check_generated("docs/stack-reference.md", &reference_markdown());
}

#[test]
fn committed_json_schema_is_current() {
    check_generated("docs/stack.schema.json", &schema_text());
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&json_schema()).expect("the generated JSON Schema compiles")
}

/// A YAML file as the JSON an editor validates, merge keys (`<<: *base`) resolved.
fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    yaml.apply_merge()
        .unwrap_or_else(|e| panic!("{}: merge keys: {e}", path.display()));
    serde_json::to_value(yaml)
        .unwrap_or_else(|e| panic!("{}: not YAML as JSON: {e}", path.display()))
}

fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("  {} at `{}`", e, e.instance_path()))
        .collect()
}

#[test]
fn json_schema_is_a_valid_draft_2020_12_schema() {
    let schema = json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("not a valid JSON Schema: {e}");
    }
}

#[test]
fn example_stack_and_valid_fixtures_pass_the_json_schema() {
    let v = validator();
    // Every example stack under stacks/ (lemon-mart.yaml, sidecar-app.yaml...).
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("stacks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.iter().any(|p| p.ends_with("lemon-mart.yaml")));
    let valid = root().join("tests/fixtures/valid");
    if valid.is_dir() {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&valid)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let mut failures = Vec::new();
    for path in &files {
        let errors = schema_errors(&v, &yaml_file(path));
        if !errors.is_empty() {
            failures.push(format!("{}:\n{}", path.display(), errors.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn example_stack_starts_with_the_schema_comment() {
    let text = std::fs::read_to_string(root().join("stacks/lemon-mart.yaml")).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("# yaml-language-server: $schema=../docs/stack.schema.json")
    );
}

/// The env var files only set vars the example stack declares.
#[test]
fn env_var_files_set_declared_vars() {
    let stack = yaml_file(&root().join("stacks/lemon-mart.yaml"));
    let declared = stack["vars"].as_object().expect("lemon-mart.yaml has vars");
    for env in ["staging", "prod"] {
        let path = root().join(format!("stacks/env/{env}.yaml"));
        let vars = yaml_file(&path);
        let vars = vars.as_object().expect("a var file is a map");
        assert!(!vars.is_empty(), "{}", path.display());
        for k in vars.keys() {
            assert!(
                declared.contains_key(k),
                "{}: `{k}` is not a var of lemon-mart.yaml",
                path.display()
            );
        }
    }
}

/// The example loads through the real loader with each environment's var file, the var file
/// winning over the defaults, and with no warning besides the one the example declares.
#[test]
fn example_stack_loads_with_each_env_var_file() {
    let stack = root().join("stacks/lemon-mart.yaml");
    for (env, domain, tasks) in [
        ("staging", "staging.lemonmart.example.com", 1),
        ("prod", "lemonmart.example.com", 2),
    ] {
        let opts = iac_stack::LoadOptions {
            var_files: vec![root().join(format!("stacks/env/{env}.yaml"))],
            ..Default::default()
        };
        let loaded = match iac_stack::load_file(&stack, &opts) {
            Ok(l) => l,
            Err(diags) => panic!(
                "lemon-mart.yaml with {env}.yaml failed to load:\n{}",
                diags
                    .iter()
                    .map(|d| iac_stack::diag::render(d, false))
                    .collect::<String>()
            ),
        };
        assert_eq!(loaded.stack.vars["domain"].as_str(), Some(domain), "{env}");
        assert_eq!(
            loaded.stack.vars["tasks"],
            iac_stack::Value::Int(tasks),
            "{env}"
        );
        let warnings: Vec<&str> = loaded.warnings.iter().map(|d| d.code).collect();
        assert_eq!(warnings, ["iac::protect::unprotected_stateful"], "{env}");
    }
}

/// A small valid stack, to break one piece at a time.
fn base() -> Value {
    json!({
        "stack": "demo",
        "region": "us-east-1",
        "vars": { "tasks": { "default": 2, "description": "tasks" }, "port": 80 },
        "resources": {
            "vpc": { "type": "aws.vpc", "cidr": "10.0.0.0/16" },
            "tg": {
                "type": "aws.target_group",
                "vpc": "${vpc.id}",
                "port": "${var.port}",
                "protocol": "HTTP",
                "health_check": { "path": "/healthCheck" }
            },
            "http": {
                "type": "aws.listener",
                "load_balancer": "${alb.arn}",
                "port": 80,
                "protocol": "HTTP",
                "redirect": { "protocol": "HTTPS", "port": 443, "status": 301 }
            }
        },
        "outputs": { "vpc": "${vpc.id}" }
    })
}

#[test]
fn json_schema_accepts_references_and_integer_status() {
    let v = validator();
    let mut doc = base();
    assert_eq!(schema_errors(&v, &doc), Vec::<String>::new());
    doc["resources"]["http"]["redirect"]["status"] = json!("302");
    doc["resources"]["vpc"]["dns_hostnames"] = json!("${var.dns}");
    doc["resources"]["vpc"]["cidr"] = json!("10.${var.net}.0.0/16");
    doc["resources"]["vpc"]["tags"] = json!({ "team": "web" });
    // A map var that is not the long form is a default value, as the loader reads it.
    doc["vars"]["common_tags"] = json!({ "team": "web", "required": "always" });
    doc["vars"]["token"] = json!({ "required": true });
    assert_eq!(schema_errors(&v, &doc), Vec::<String>::new());
    // A lookup needs only what identifies it.
    doc["resources"]["zone"] =
        json!({ "type": "aws.hosted_zone", "existing": true, "name": "example.com" });
    doc["resources"]["vpc2"] = json!({ "type": "aws.vpc", "existing": true });
    assert_eq!(schema_errors(&v, &doc), Vec::<String>::new());
}

/// One way to break the base stack.
type Breaker = fn(&mut Value);

#[test]
fn json_schema_rejects_broken_stacks() {
    let v = validator();
    let cases: &[(&str, Breaker)] = &[
        ("unknown top-level key", |d| d["resourcez"] = json!({})),
        ("missing resources", |d| {
            d.as_object_mut().unwrap().remove("resources");
        }),
        ("bad resource name", |d| {
            d["resources"]["Bad-Name"] = json!({ "type": "aws.vpc", "cidr": "10.0.0.0/16" })
        }),
        ("unknown type", |d| {
            d["resources"]["x"] = json!({ "type": "aws.vpcc" })
        }),
        ("unknown property", |d| {
            d["resources"]["vpc"]["cidrr"] = json!("x")
        }),
        ("missing required property", |d| {
            d["resources"]["vpc"]
                .as_object_mut()
                .unwrap()
                .remove("cidr");
        }),
        ("enum value", |d| {
            d["resources"]["tg"]["protocol"] = json!("TCP")
        }),
        ("integer status outside the enum", |d| {
            d["resources"]["http"]["redirect"]["status"] = json!(307)
        }),
        ("port out of range", |d| {
            d["resources"]["http"]["port"] = json!(70000)
        }),
        ("not a CIDR", |d| {
            d["resources"]["vpc"]["cidr"] = json!("10.0.0.0")
        }),
        ("string for an integer", |d| {
            d["resources"]["tg"]["deregistration_delay"] = json!("thirty")
        }),
        ("unknown nested field", |d| {
            d["resources"]["tg"]["health_check"]["paht"] = json!("/")
        }),
        ("tags on an untaggable type", |d| {
            d["resources"]["rec"] = json!({
                "type": "aws.dns_record", "zone": "Z1", "name": "a.example.com",
                "record_type": "A", "ttl": 60, "values": ["192.0.2.1"], "tags": {}
            })
        }),
        ("var marked required with a string", |d| {
            d["vars"]["x"] = json!({ "required": "yes", "description": "x" })
        }),
        ("protect written as a string", |d| {
            d["resources"]["vpc"]["protect"] = json!("yes")
        }),
    ];
    for (what, break_it) in cases {
        let mut doc = base();
        break_it(&mut doc);
        assert!(
            !v.is_valid(&doc),
            "the schema accepted a stack with: {what}"
        );
    }
}

/// Walk every property, nested fields included, with its dotted path.
fn each_prop(t: &'static TypeSchema, f: &mut dyn FnMut(&str, &'static Prop)) {
    fn walk(prefix: &str, props: &'static [Prop], f: &mut dyn FnMut(&str, &'static Prop)) {
        for p in props {
            let path = format!("{prefix}{}", p.name);
            f(&path, p);
            match &p.kind {
                Kind::Object(fields) => walk(&format!("{path}."), fields, f),
                Kind::ListOf(Kind::Object(fields)) => walk(&format!("{path}[]."), fields, f),
                Kind::OneOf(alts) => {
                    for alt in alts.iter() {
                        if let Kind::Object(fields) = alt {
                            walk(&format!("{path}."), fields, f);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    walk("", t.props, f);
}

fn is_snake_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

/// The kinds a reference may point into: every `Kind::Id` names a real type and attribute.
fn check_kind(where_: &str, kind: &Kind, problems: &mut Vec<String>) {
    match kind {
        Kind::Id { rtype, attr } => match iac_stack::schema::lookup(rtype) {
            None => problems.push(format!("{where_}: Id names unknown type `{rtype}`")),
            Some(t) if t.attr(attr).is_none() => {
                problems.push(format!("{where_}: `{rtype}` has no attribute `{attr}`"))
            }
            Some(_) => {}
        },
        Kind::ListOf(k) | Kind::MapOf(k) => check_kind(where_, k, problems),
        Kind::OneOf(alts) => alts.iter().for_each(|k| check_kind(where_, k, problems)),
        Kind::Enum(vs) => {
            if vs.is_empty() {
                problems.push(format!("{where_}: empty enum"));
            }
            let mut sorted = vs.to_vec();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != vs.len() {
                problems.push(format!("{where_}: duplicate enum variants"));
            }
        }
        _ => {}
    }
}

fn default_fits(kind: &Kind, d: DefaultValue) -> bool {
    match (kind, d) {
        (Kind::Bool, DefaultValue::Bool(_)) => true,
        (Kind::Int, DefaultValue::Int(_)) => true,
        (Kind::Port, DefaultValue::Int(i)) => (0..=65535).contains(&i),
        (Kind::Enum(vs), DefaultValue::Str(s)) => vs.contains(&s),
        (Kind::Str | Kind::Cidr | Kind::Id { .. }, DefaultValue::Str(_)) => true,
        (Kind::Str, DefaultValue::AwsName | DefaultValue::Pattern(_)) => true,
        (Kind::Any, _) => true,
        _ => false,
    }
}

#[test]
fn schema_table_is_consistent() {
    let mut problems = Vec::new();
    let mut type_names: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
    type_names.sort();
    type_names.dedup();
    if type_names.len() != TYPES.len() {
        problems.push("duplicate type names".to_string());
    }
    for t in TYPES {
        let n = t.name;
        // `iac.stack` is iac's own: another stack's outputs.
        let own = iac_stack::schema::is_stack_ref(n);
        if !own && (!t.name.starts_with("aws.") || !is_snake_case(&t.name["aws.".len()..])) {
            problems.push(format!("`{n}`: type names are `aws.snake_case`"));
        }
        if t.doc.is_empty() || t.doc.ends_with('.') {
            problems.push(format!("`{n}`: doc empty or ending in a period"));
        }
        // Unique snake_case names per object (top level and each nested object).
        let mut seen: Vec<String> = Vec::new();
        each_prop(t, &mut |path, p| {
            if !is_snake_case(p.name) {
                problems.push(format!("`{n}`.{path}: not snake_case"));
            }
            if crate_meta_keys().contains(&p.name) && !path.contains('.') {
                problems.push(format!("`{n}`.{path}: clashes with a meta key"));
            }
            if seen.contains(&path.to_string()) {
                problems.push(format!("`{n}`.{path}: defined twice"));
            }
            seen.push(path.to_string());
            if p.doc.is_empty() || p.doc.ends_with('.') {
                problems.push(format!("`{n}`.{path}: doc empty or ending in a period"));
            }
            check_kind(&format!("`{n}`.{path}"), &p.kind, &mut problems);
            if let Some(d) = p.default {
                if !default_fits(&p.kind, d) {
                    problems.push(format!("`{n}`.{path}: default {d:?} does not fit its kind"));
                }
                if p.required {
                    problems.push(format!("`{n}`.{path}: required and defaulted"));
                }
            }
            if matches!(
                p.default,
                Some(DefaultValue::AwsName | DefaultValue::Pattern(_))
            ) && t.aws_name.and_then(|a| a.prop) != Some(p.name)
            {
                problems.push(format!(
                    "`{n}`.{path}: a computed name default but not the type's aws_name prop"
                ));
            }
        });
        let mut attrs: Vec<&str> = t.attrs.iter().map(|a| a.name).collect();
        if attrs.is_empty() && !own {
            problems.push(format!("`{n}`: no attributes"));
        }
        attrs.sort();
        attrs.dedup();
        if attrs.len() != t.attrs.len() {
            problems.push(format!("`{n}`: duplicate attributes"));
        }
        for a in t.attrs {
            if !is_snake_case(a.name) || a.doc.is_empty() || a.doc.ends_with('.') {
                problems.push(format!("`{n}`: attribute `{}` name or doc", a.name));
            }
        }
        // Taggable types take `tags` as a map of strings; the others do not take it.
        match (t.taggable, t.prop("tags")) {
            (
                true,
                Some(Prop {
                    kind: Kind::MapOf(Kind::Str),
                    ..
                }),
            )
            | (false, None) => {}
            _ => problems.push(format!("`{n}`: `tags` does not match taggable")),
        }
        if let Some(a) = t.aws_name {
            if let Some(p) = a.prop {
                match t.prop(p) {
                    Some(prop) if matches!(prop.kind, Kind::Str) => {}
                    _ => problems.push(format!("`{n}`: aws_name prop `{p}` is not a string prop")),
                }
            }
            if a.max_len == 0 {
                problems.push(format!("`{n}`: aws_name max_len 0"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn crate_meta_keys() -> &'static [&'static str] {
    iac_stack::schema::META_KEYS
}

/// Every type of the v1 contract is in the table.
#[test]
fn every_contract_type_is_present() {
    for name in [
        "aws.vpc",
        "aws.subnet",
        "aws.internet_gateway",
        "aws.eip",
        "aws.nat_gateway",
        "aws.route_table",
        "aws.security_group",
        "aws.hosted_zone",
        "aws.certificate",
        "aws.load_balancer",
        "aws.target_group",
        "aws.listener",
        "aws.ecs_cluster",
        "aws.log_group",
        "aws.iam_role",
        "aws.ecr_repository",
        "aws.task_definition",
        "aws.ecs_service",
        "aws.dns_record",
    ] {
        assert!(
            iac_stack::schema::lookup(name).is_some(),
            "`{name}` missing"
        );
    }
}
