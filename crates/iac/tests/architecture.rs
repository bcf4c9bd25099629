//! The crate boundaries of docs/architecture.md, checked on the manifests as cargo reads them
//! (`cargo metadata`): only `iac-aws` depends on the AWS SDK, only the binary on terminal and
//! argument crates, the stack crate on neither the engine nor tokio, and the binary does not
//! build the engine's fake provider.

use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value as Json;

/// One dependency of a workspace crate, as the manifest declares it.
#[derive(Debug, Clone)]
struct Dep {
    /// The package name (a renamed dependency counts under the package it names).
    name: String,
    /// `None` for a normal dependency, `Some("dev")` or `Some("build")` otherwise.
    kind: Option<String>,
    features: Vec<String>,
}

/// `cargo metadata --no-deps` of the workspace: every member's declared dependencies.
fn metadata() -> &'static Json {
    static METADATA: OnceLock<Json> = OnceLock::new();
    METADATA.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
    })
}

/// The dependencies `krate` declares in `metadata`, of every kind and target.
fn declared(metadata: &Json, krate: &str) -> Vec<Dep> {
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == krate)
        .unwrap_or_else(|| panic!("{krate} is a workspace member"));
    package["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| Dep {
            name: d["name"].as_str().unwrap_or_default().to_string(),
            kind: d["kind"].as_str().map(str::to_string),
            features: d["features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect(),
        })
        .collect()
}

/// Normal dependencies only: dev-dependencies (tests) may use anything.
fn dependencies(metadata: &Json, krate: &str) -> Vec<Dep> {
    declared(metadata, krate)
        .into_iter()
        .filter(|d| d.kind.is_none())
        .collect()
}

/// Every broken boundary, as a sentence; empty when the workspace keeps them all.
fn violations(metadata: &Json) -> Vec<String> {
    let mut out = Vec::new();
    for krate in ["iac", "iac-stack", "iac-engine", "iac-cost", "iac-testkit"] {
        for d in dependencies(metadata, krate) {
            if d.name.starts_with("aws-") {
                out.push(format!("{krate} depends on {}; only iac-aws may", d.name));
            }
        }
    }
    if !dependencies(metadata, "iac-aws")
        .iter()
        .any(|d| d.name == "aws-sdk-ec2")
    {
        out.push("iac-aws does not depend on aws-sdk-ec2".into());
    }
    for krate in ["iac-stack", "iac-engine", "iac-aws", "iac-cost"] {
        for d in dependencies(metadata, krate) {
            if ["clap", "clap_complete", "indicatif"].contains(&d.name.as_str()) {
                out.push(format!(
                    "{krate} depends on {}; only the binary may",
                    d.name
                ));
            }
        }
    }
    for d in dependencies(metadata, "iac-stack") {
        if ["iac-engine", "iac-aws", "tokio"].contains(&d.name.as_str()) {
            out.push(format!("iac-stack depends on {}", d.name));
        }
    }
    for krate in ["iac", "iac-aws", "iac-cost"] {
        for d in dependencies(metadata, krate) {
            if d.name == "iac-engine" && d.features.iter().any(|f| f == "fake") {
                out.push(format!(
                    "{krate} builds the engine's fake provider; only tests may"
                ));
            }
        }
    }
    out
}

#[test]
fn the_workspace_keeps_its_crate_boundaries() {
    assert_eq!(violations(metadata()), Vec::<String>::new());
}

#[test]
fn the_check_finds_a_broken_boundary() {
    // The workspace's metadata with one normal dependency added to one member.
    let with = |krate: &str, dep: Json| {
        let mut m = metadata().clone();
        for p in m["packages"].as_array_mut().unwrap() {
            if p["name"] == krate {
                p["dependencies"].as_array_mut().unwrap().push(dep.clone());
            }
        }
        violations(&m)
    };
    let normal = |name: &str| serde_json::json!({ "name": name, "kind": null, "features": [] });
    assert_eq!(
        with("iac-cost", normal("aws-sdk-s3")),
        ["iac-cost depends on aws-sdk-s3; only iac-aws may"]
    );
    assert_eq!(
        with("iac-engine", normal("indicatif")),
        ["iac-engine depends on indicatif; only the binary may"]
    );
    assert_eq!(
        with("iac-stack", normal("tokio")),
        ["iac-stack depends on tokio"]
    );
    assert_eq!(
        with(
            "iac",
            serde_json::json!({ "name": "iac-engine", "kind": null, "features": ["fake"] })
        ),
        ["iac builds the engine's fake provider; only tests may"]
    );
    // Tests may use anything.
    let dev = serde_json::json!({ "name": "aws-sdk-s3", "kind": "dev", "features": [] });
    assert_eq!(with("iac-cost", dev), Vec::<String>::new());
}
