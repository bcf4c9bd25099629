//! The crate boundaries of docs/architecture.md, checked on the manifests: only `iac-aws`
//! depends on the AWS SDK, only the binary on terminal and argument crates, and the stack
//! crate on neither the engine nor tokio.

use std::path::Path;

fn dependencies(krate: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            // Normal dependencies only: dev-dependencies may use anything.
            in_deps = line == "[dependencies]";
        } else if in_deps {
            if let Some((name, _)) = line.split_once(['=', '.']) {
                if !name.trim().is_empty() && !name.starts_with('#') {
                    deps.push(name.trim().to_string());
                }
            }
        }
    }
    deps
}

#[test]
fn only_iac_aws_names_the_sdk() {
    for krate in ["iac", "iac-stack", "iac-engine", "iac-cost", "iac-testkit"] {
        let sdk: Vec<_> = dependencies(krate)
            .into_iter()
            .filter(|d| d.starts_with("aws-"))
            .collect();
        assert!(
            sdk.is_empty(),
            "{krate} depends on {sdk:?}; only iac-aws may"
        );
    }
    assert!(dependencies("iac-aws").iter().any(|d| d == "aws-sdk-ec2"));
}

#[test]
fn only_the_binary_names_terminal_and_argument_crates() {
    for krate in ["iac-stack", "iac-engine", "iac-aws", "iac-cost"] {
        for dep in dependencies(krate) {
            assert!(
                !["clap", "clap_complete", "indicatif"].contains(&dep.as_str()),
                "{krate} depends on {dep}; only the binary may"
            );
        }
    }
}

#[test]
fn the_stack_crate_does_no_engine_or_async_work() {
    for dep in dependencies("iac-stack") {
        assert!(
            !["iac-engine", "iac-aws", "tokio"].contains(&dep.as_str()),
            "iac-stack depends on {dep}"
        );
    }
}
