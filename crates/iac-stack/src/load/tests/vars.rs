//! Vars: `--var` values, var files, required vars, list vars, and where vars may be used.

use super::*;

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
