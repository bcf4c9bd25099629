//! The warnings of the rule set, as users see them. Warnings never fail a load, so the
//! fixture harness (tests/fixtures.rs) only checks their codes; here each
//! tests/fixtures/valid/rule_warn_*.yaml is loaded and its rendered warnings are snapshotted,
//! and a stack with errors is shown to report its warnings alongside them.

use iac_stack::{diag::render, load_str, LoadOptions, Severity};

#[test]
fn rule_warnings_render() {
    insta::glob!(
        "../../../tests/fixtures/valid",
        "rule_warn_*.yaml",
        |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let name = format!(
                "tests/fixtures/valid/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            let loaded = match load_str(&name, &text, &LoadOptions::default()) {
                Ok(l) => l,
                Err(d) => panic!(
                    "{name}: failed to load:\n{}",
                    d.iter().map(|d| render(d, false)).collect::<String>()
                ),
            };
            assert!(
                !loaded.warnings.0.is_empty(),
                "{name}: a warning fixture must warn"
            );
            assert!(loaded
                .warnings
                .iter()
                .all(|d| d.severity == Severity::Warning));
            let rendered: Vec<String> = loaded.warnings.iter().map(|d| render(d, false)).collect();
            insta::assert_snapshot!(rendered.join("\n"));
        }
    );
}

/// A stack with a rule error still reports the warnings found next to it, so one run of
/// `validate` shows everything; the error makes the load fail.
#[test]
fn warnings_are_reported_alongside_errors() {
    let text = "\
stack: mixed
region: us-east-1
resources:
  vpc:
    type: aws.vpc
    cidr: 10.0.0.0/16
  sg:
    type: aws.security_group
    vpc: ${vpc.id}
    ingress:
      - protocol: tcp
        port: 22
        cidr: 0.0.0.0/0
      - protocol: tcp
        ports: 9000-8000
        cidr: 10.0.0.0/8
";
    let diags = load_str("mixed.yaml", text, &LoadOptions::default())
        .expect_err("a backwards port range is an error");
    let mut codes: Vec<(&str, Severity)> = diags.iter().map(|d| (d.code, d.severity)).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("iac::security_group::open_to_world", Severity::Warning),
            ("iac::security_group::ports_backwards", Severity::Error),
        ]
    );
    let json = diags
        .iter()
        .find(|d| d.code == "iac::security_group::ports_backwards")
        .unwrap()
        .to_json();
    assert_eq!((json.line, json.column), (Some(15), Some(16)));
}

/// Every code the rules emit has a section in docs/rules.md and a fixture that fires it, and
/// every documented code exists: the docs page is the list users and CI filters rely on.
#[test]
fn every_rule_code_is_documented_and_has_a_fixture() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut emitted: Vec<String> = Vec::new();
    // The rule modules, and their test modules in subdirectories (`rules/containers/tests.rs`).
    let mut files = Vec::new();
    let mut dirs = vec![root.join("crates/iac-stack/src/rules")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        // Codes appear as string literals `"iac::area::rule"`; the test modules name only
        // codes that the rule code above them emits.
        for piece in text.split('"').skip(1).step_by(2) {
            let parts: Vec<&str> = piece.split("::").collect();
            let is_code = parts.len() == 3
                && parts[0] == "iac"
                && parts[1..].iter().all(|p| {
                    !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if is_code && !emitted.iter().any(|c| c == piece) {
                emitted.push(piece.to_string());
            }
        }
    }
    emitted.sort();
    assert!(emitted.len() >= 30, "found only {emitted:?}");

    let docs = std::fs::read_to_string(root.join("docs/rules.md")).unwrap();
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .collect();
    for code in &emitted {
        assert!(
            documented.contains(&code.as_str()),
            "`{code}` has no `### `{code}`` section in docs/rules.md"
        );
    }
    for code in &documented {
        assert!(
            emitted.iter().any(|c| c == code),
            "docs/rules.md documents `{code}`, which no rule emits"
        );
    }

    let mut fixtures = String::new();
    for dir in ["tests/fixtures/invalid", "tests/fixtures/valid"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("rule_")
            {
                fixtures.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    for code in &emitted {
        assert!(
            fixtures.contains(&format!("# expect: {code} "))
                || fixtures.contains(&format!("# warning: {code}\n")),
            "`{code}` has no rule_*.yaml fixture that fires it"
        );
    }
}
