//! Tests as data: every file in tests/fixtures/invalid must fail with the diagnostics its
//! header names (code and line), rendered as a snapshot; every file in tests/fixtures/valid
//! and every stack in stacks/ must load without errors or unexpected warnings.
//!
//! Header lines a fixture may carry, at the top:
//! - `# expect: CODE line N` : a diagnostic with that code whose primary label starts on
//!   line N (one line per expected diagnostic; `line N` may be omitted for file-less ones)
//! - `# var: name=value` : passed as `--var name=value`
//! - `# var-file: PATH` : passed as `--var-file`, relative to the fixture
//! - `# warning: CODE` (valid fixtures) : a warning the fixture is allowed and required to give

use std::path::{Path, PathBuf};

use iac_stack::{diag::render, load_str, LoadOptions};

struct Header {
    expect: Vec<(String, Option<usize>)>,
    warnings: Vec<String>,
    opts: LoadOptions,
}

fn header(path: &Path, text: &str) -> Header {
    let dir = path.parent().unwrap();
    let mut h = Header {
        expect: vec![],
        warnings: vec![],
        opts: LoadOptions::default(),
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(rest) = line.strip_prefix("expect:") {
            let mut it = rest.split_whitespace();
            let code = it.next().expect("expect: needs a code").to_string();
            let line_no = match (it.next(), it.next()) {
                (Some("line"), Some(n)) => Some(n.parse().expect("line number")),
                _ => None,
            };
            h.expect.push((code, line_no));
        } else if let Some(rest) = line.strip_prefix("warning:") {
            h.warnings.push(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("var:") {
            let (k, v) = rest.trim().split_once('=').expect("var: name=value");
            h.opts.vars.push((k.to_string(), v.to_string()));
        } else if let Some(rest) = line.strip_prefix("var-file:") {
            h.opts.var_files.push(dir.join(rest.trim()));
        }
    }
    h
}

/// The name diagnostics show: the path from the repository root, stable across machines.
fn display_name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap();
    path.canonicalize()
        .unwrap()
        .strip_prefix(&root)
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn invalid_fixtures() {
    insta::glob!("../../../tests/fixtures/invalid", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let h = header(path, &text);
        assert!(
            !h.expect.is_empty(),
            "{}: no `# expect:` header",
            path.display()
        );
        let diags = match load_str(&display_name(path), &text, &h.opts) {
            Ok(_) => panic!("{}: loaded without error", path.display()),
            Err(d) => d,
        };
        for (code, line) in &h.expect {
            let found = diags.iter().any(|d| {
                d.code == code
                    && match line {
                        None => true,
                        Some(n) => d.to_json().line == Some(*n),
                    }
            });
            assert!(
                found,
                "{}: expected `{code}` at line {line:?}, got:\n{}",
                path.display(),
                diags
                    .iter()
                    .map(|d| format!("  {} {:?}: {}", d.code, d.to_json().line, d.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        let rendered: Vec<String> = diags.iter().map(|d| render(d, false)).collect();
        // Var files are named by the absolute path the header resolved; keep snapshots
        // independent of where the checkout lives.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let root = format!("{}/", root.canonicalize().unwrap().display());
        insta::assert_snapshot!(rendered.join("\n").replace(&root, ""));
    });
}

fn valid_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests/fixtures/valid", "stacks"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn valid_fixtures_and_example_stacks_load_clean() {
    let files = valid_files();
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let h = header(&path, &text);
        match load_str(&display_name(&path), &text, &h.opts) {
            Ok(loaded) => {
                let mut got: Vec<String> =
                    loaded.warnings.iter().map(|d| d.code.to_string()).collect();
                got.sort();
                let mut want = h.warnings.clone();
                want.sort();
                assert_eq!(got, want, "{}: warnings differ", path.display());
            }
            Err(diags) => panic!(
                "{}: failed to load:\n{}",
                path.display(),
                diags.iter().map(|d| render(d, false)).collect::<String>()
            ),
        }
    }
}
