//! The real `iac` binary, run as a user or CI would run it.
//!
//! Paths are passed absolute, so the tests do not depend on where cargo runs them, and the
//! working directory is the repository root, so the binary prints them relative
//! (`stacks/lemon-mart.yaml`) and snapshots are the same on every machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// An absolute path to a file of the repository.
fn file(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn iac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iac"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        // The stacks name their region; an ambient AWS_REGION must not override it.
        .env_remove("AWS_REGION")
        .output()
        .expect("run iac")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Both streams, for snapshots.
fn transcript(o: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        code(o),
        stdout(o),
        stderr(o)
    )
}

#[test]
fn validate_lemon_mart_succeeds() {
    let o = iac(&["validate", &file("stacks/lemon-mart.yaml")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("stacks/lemon-mart.yaml: stack `lemon-mart` is valid ("),
        "{out}"
    );
    // stdout only: the warning's source lines move whenever the example stack is edited;
    // its rendering is covered by the fixture snapshots of the rules.
    insta::assert_snapshot!(out);
    assert!(stderr(&o).contains("iac::protect::unprotected_stateful"));
}

#[test]
fn validate_with_var_files_and_vars() {
    let o = iac(&[
        "validate",
        &file("stacks/lemon-mart.yaml"),
        "--var-file",
        &file("stacks/env/staging.yaml"),
        "--var",
        "image=public.ecr.aws/nginx/nginx:1.28",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let path = file("stacks/lemon-mart.yaml");
    let allowed = iac(&["validate", &path]);
    assert_eq!(code(&allowed), 0);
    assert!(
        stderr(&allowed).contains("iac::protect::unprotected_stateful"),
        "lemon-mart keeps one warning on purpose:\n{}",
        stderr(&allowed)
    );
    let denied = iac(&["validate", &path, "--deny-warnings"]);
    assert_eq!(code(&denied), 1);
    assert!(
        stderr(&denied).contains("denied by `--deny-warnings`"),
        "{}",
        stderr(&denied)
    );
    let json = iac(&["validate", &path, "--deny-warnings", "--format", "json"]);
    assert_eq!(code(&json), 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["valid"], false);
}

#[test]
fn validate_invalid_stack_fails_and_points_at_the_line() {
    let o = iac(&["validate", &file("tests/fixtures/invalid/graph_cycle.yaml")]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("[tests/fixtures/invalid/graph_cycle.yaml:16:17]"),
        "{err}"
    );
    assert!(err.contains("iac::graph::cycle"), "{err}");
    assert!(stdout(&o).is_empty());
    insta::assert_snapshot!(transcript(&o));
}

#[test]
fn validate_json_is_one_document() {
    let bad = iac(&[
        "validate",
        &file("tests/fixtures/invalid/graph_cycle.yaml"),
        "--format",
        "json",
    ]);
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).is_empty(), "{}", stderr(&bad));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&bad)).unwrap();
    assert_eq!(doc["valid"], false);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d["code"], "iac::graph::cycle");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "tests/fixtures/invalid/graph_cycle.yaml");
    assert_eq!(d["line"], 16);
    assert_eq!(d["column"], 17);
    assert!(d["message"].as_str().unwrap().contains("alb_sg -> app_sg"));
    assert!(d["help"].is_string());

    let good = iac(&[
        "validate",
        &file("stacks/lemon-mart.yaml"),
        "--format",
        "json",
    ]);
    assert_eq!(code(&good), 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&good)).unwrap();
    assert_eq!(doc["valid"], true);
    for d in doc["diagnostics"].as_array().unwrap() {
        assert_eq!(d["severity"], "warning", "{d}");
    }
}

#[test]
fn malformed_var_is_a_clear_error() {
    let o = iac(&[
        "validate",
        &file("stacks/lemon-mart.yaml"),
        "--var",
        "tasks",
    ]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("`--var tasks` is not `name=value`"), "{err}");
    assert!(err.contains("iac::cli::var"), "{err}");
    assert!(
        err.contains("error: `stacks/lemon-mart.yaml` was not checked: fix the command line first"),
        "{err}"
    );
    let graph = iac(&["graph", &file("stacks/lemon-mart.yaml"), "--var", "=3"]);
    assert_eq!(code(&graph), 1);
    assert!(stdout(&graph).is_empty());
    assert!(stderr(&graph).contains("`--var =3` is not `name=value`"));
}

#[test]
fn missing_file_is_an_error() {
    let o = iac(&["validate", "no/such/stack.yaml"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no/such/stack.yaml"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 means "changes" under `plan --detailed-exitcode`; a typo must never look like that.
    let o = iac(&["validate"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = iac(&["no-such-command"]);
    assert_eq!(code(&o), 1);
    let help = iac(&["--help"]);
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("validate"));
}

#[test]
fn graph_dot_of_lemon_mart_has_the_expected_edges() {
    let o = iac(&["graph", &file("stacks/lemon-mart.yaml")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dot = stdout(&o);
    assert!(dot.starts_with("digraph \"lemon-mart\" {"), "{dot}");
    for edge in [
        "\"vpc\" -> \"public_a\" [label=\"id\"];",
        "\"alb\" -> \"https\" [label=\"arn\"];",
        "\"cert\" -> \"https\" [label=\"arn\"];",
        "\"task\" -> \"web\" [label=\"arn\"];",
        "\"alb\" -> \"site\" [label=\"dns_name, zone_id\"];",
    ] {
        assert!(dot.contains(edge), "missing {edge} in\n{dot}");
    }
}

#[test]
fn graph_mermaid_and_invalid_stack() {
    let o = iac(&[
        "graph",
        &file("stacks/lemon-mart.yaml"),
        "--format",
        "mermaid",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("flowchart LR\n"));
    assert!(stdout(&o).contains("  vpc -->|\"id\"| public_a\n"));

    // Lookups and other stacks' outputs have shapes of their own.
    let o = iac(&[
        "graph",
        &file("tests/fixtures/valid/stack_ref.yaml"),
        "--format",
        "mermaid",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("    network[[\"network<br/>iac.stack\"]]:::existing\n"),
        "{}",
        stdout(&o)
    );
    let o = iac(&[
        "graph",
        &file("stacks/lemon-mart.yaml"),
        "--format",
        "mermaid",
    ]);
    assert!(
        stdout(&o).contains("    zone([\"zone<br/>aws.hosted_zone\"]):::existing\n"),
        "{}",
        stdout(&o)
    );
    let o = iac(&["graph", &file("tests/fixtures/valid/stack_ref.yaml")]);
    assert!(
        stdout(&o).contains("network\\niac.stack\", shape=folder, style=dashed];"),
        "{}",
        stdout(&o)
    );

    let bad = iac(&["graph", &file("tests/fixtures/invalid/graph_cycle.yaml")]);
    assert_eq!(code(&bad), 1);
    assert!(stdout(&bad).is_empty(), "no graph for an invalid stack");
    assert!(stderr(&bad).contains("iac::graph::cycle"));
}

#[test]
fn schema_is_json_schema() {
    let o = iac(&["schema"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert_eq!(doc, iac_stack::schema::json_schema());
}

#[test]
fn completions_for_bash() {
    let o = iac(&["completions", "bash"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.contains("_iac()"), "{script}");
    assert!(script.contains("validate"));
}

#[test]
fn many_diagnostics_of_one_kind_are_summed_up_unless_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("stack: many\nregion: us-east-1\nresources:\n");
    for i in 0..6 {
        text.push_str(&format!(
            "  lg{i}:\n    type: aws.log_group\n    retention_days: 7\n"
        ));
    }
    let path = dir.path().join("many.yaml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();

    let o = iac(&["validate", &path]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let full = err
        .matches("holds data that `destroy` would delete")
        .count();
    assert_eq!(full, 3, "{err}");
    assert!(
        err.contains(
            "3 more `iac::protect::unprotected_stateful` warnings like the above: `lg3`, `lg4`, `lg5`; `--verbose` shows each"
        ),
        "{err}"
    );

    let o = iac(&["validate", "--verbose", &path]);
    let err = stderr(&o);
    assert_eq!(
        err.matches("holds data that `destroy` would delete")
            .count(),
        6,
        "{err}"
    );
    assert!(!err.contains("more `iac::protect"), "{err}");

    // JSON always carries every one.
    let o = iac(&["validate", "--format", "json", &path]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 6);
}
