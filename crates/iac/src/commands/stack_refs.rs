//! Other stacks' outputs (`type: iac.stack` resources) and the stacks that read this one's.
//!
//! A referenced stack's state is found beside this stack's own (the same `.iac/state/`
//! directory, or the same S3 prefix), or where the resource's `state:` says. It is read
//! without a lock (every save is atomic, so a reader sees a whole version), and every
//! `${NAME.OUTPUT}` the stack writes is checked against the outputs it holds: a stack never
//! applied, or an output it does not have, is an error pointing at the file, made before any
//! AWS call when the states are local.
//!
//! The referencing stack's state records each reference as an `existing` resource of type
//! `iac.stack` whose physical id is the referenced state's location ([`location_id`]): that
//! is how `iac destroy` of the referenced stack finds the stacks that still read it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iac_aws::state::S3Backend;
use iac_aws::AwsContext;
use iac_engine::{Found, LocalBackend, StateBackend};
use iac_stack::schema::is_stack_ref;
use iac_stack::{Diag, Stack};
use serde_json::Value as Json;

use super::backend::{state_diag, StateLocation};
use super::Exit;
use crate::printer::Printer;

/// Where one referenced stack's state is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Where {
    Local(PathBuf),
    S3(String),
}

/// One `iac.stack` resource of the stack.
#[derive(Debug, Clone)]
pub struct StackRef {
    /// The resource.
    name: String,
    /// The referenced stack's name.
    stack: String,
    at: Where,
}

/// The stack's references to other stacks and where each one's state is.
pub fn refs_of(stack: &Stack, location: &StateLocation) -> Vec<StackRef> {
    stack
        .resources
        .values()
        .filter(|r| is_stack_ref(r.schema.name))
        .filter_map(|r| {
            let other = r.prop("stack")?.as_str()?.to_string();
            let at = match r.prop("state").and_then(|v| v.as_str()) {
                Some(url) if url.starts_with("s3://") => Where::S3(url.to_string()),
                Some(path) => Where::Local(beside(&location.stack_file, path)),
                None => match &location.url {
                    Some(url) => Where::S3(sibling_key(url, &other)),
                    None => Where::Local(
                        LocalBackend::for_stack_file(&location.stack_file, &other).path(),
                    ),
                },
            };
            Some(StackRef {
                name: r.name.clone(),
                stack: other,
                at,
            })
        })
        .collect()
}

/// True when reading `refs` needs an AWS connection (a state in S3).
pub fn any_remote(refs: &[StackRef]) -> bool {
    refs.iter().any(|r| matches!(r.at, Where::S3(_)))
}

/// `path` relative to the directory of the stack file.
fn beside(stack_file: &Path, path: &str) -> PathBuf {
    let base = stack_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    base.join(path)
}

/// `s3://b/dir/app.json` and `network` give `s3://b/dir/network.json`.
fn sibling_key(url: &str, stack: &str) -> String {
    let rest = url.trim_start_matches("s3://");
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    match key.rsplit_once('/') {
        Some((dir, _)) => format!("s3://{bucket}/{dir}/{stack}.json"),
        None => format!("s3://{bucket}/{stack}.json"),
    }
}

/// The id a state location is recorded under, the same whoever computes it: the absolute
/// path of a local state file, the URL of an S3 one.
pub fn location_id(backend_location: &str, remote: bool) -> String {
    if remote {
        return backend_location.to_string();
    }
    std::fs::canonicalize(backend_location)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| backend_location.to_string())
}

/// Read every referenced stack's outputs from its state and check each reference the stack
/// writes against them. `aws` is needed only when [`any_remote`]. Every problem is printed,
/// all at once; `Err` is the exit code.
pub async fn resolve(
    stack: &Stack,
    refs: &[StackRef],
    aws: Option<&AwsContext>,
    printer: &Printer,
) -> Result<HashMap<String, Found>, ExitCode> {
    let mut out = HashMap::new();
    let mut problems = Vec::new();
    for r in refs {
        let backend: Box<dyn StateBackend> = match (&r.at, aws) {
            (Where::Local(path), _) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let file_stack = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                if file_stack != r.stack {
                    problems.push(at_resource(
                        stack,
                        &r.name,
                        Diag::error(
                            "iac::stack_ref::state",
                            format!(
                                "`{}` names `{}` as the state of stack `{}`, whose state file is named `{}.json`",
                                r.name,
                                path.display(),
                                r.stack,
                                r.stack
                            ),
                        ),
                        "the other stack's state",
                    )
                    .help("point `state:` at the other stack's `.iac/state/<stack>.json`"));
                    continue;
                }
                Box::new(LocalBackend::new(dir, &r.stack))
            }
            (Where::S3(url), Some(ctx)) => match S3Backend::new(ctx, url, &r.stack) {
                Ok(b) => Box::new(b),
                Err(e) => {
                    problems.push(at_resource(
                        stack,
                        &r.name,
                        Diag::error("iac::stack_ref::state", e.to_string()),
                        "the other stack's state",
                    ));
                    continue;
                }
            },
            (Where::S3(url), None) => {
                problems.push(Diag::error(
                    "iac::stack_ref::state",
                    format!("the state `{url}` of stack `{}` needs an AWS connection, and none was made", r.stack),
                ).help("this is a bug in iac: please report it with the command line"));
                continue;
            }
        };
        let state = match backend.load().await {
            Ok(Some(s)) => s,
            Ok(None) => {
                problems.push(
                    at_resource(
                        stack,
                        &r.name,
                        Diag::error(
                            "iac::stack_ref::not_applied",
                            format!(
                                "stack `{}` has no state at `{}`: it was never applied (or has been destroyed)",
                                r.stack,
                                backend.location()
                            ),
                        ),
                        "reads that stack's outputs",
                    )
                    .help(format!("apply stack `{}` first, or fix `stack:` / `state:`", r.stack)),
                );
                continue;
            }
            Err(e) => {
                problems.push(state_diag(&e, backend.as_ref()));
                continue;
            }
        };
        if state.stack != r.stack {
            problems.push(
                at_resource(
                    stack,
                    &r.name,
                    Diag::error(
                        "iac::stack_ref::state",
                        format!(
                            "the state at `{}` is of stack `{}`, not `{}`",
                            backend.location(),
                            state.stack,
                            r.stack
                        ),
                    ),
                    "the other stack",
                )
                .help("fix `stack:` or `state:`"),
            );
            continue;
        }
        let outputs: serde_json::Map<String, Json> = state
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for r2 in stack.resources.values() {
            for site in r2
                .spans
                .refs
                .iter()
                .filter(|s| s.reference.resource == r.name)
            {
                let key = &site.reference.attr;
                if outputs.contains_key(key) {
                    continue;
                }
                let names: Vec<&str> = outputs.keys().map(String::as_str).collect();
                let listed = if names.is_empty() {
                    format!("stack `{}` has no outputs", r.stack)
                } else {
                    format!(
                        "stack `{}` has the outputs {}",
                        r.stack,
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let help = iac_stack::suggest(key, names.iter().copied(), || listed.clone());
                problems.push(
                    Diag::error(
                        "iac::stack_ref::unknown_output",
                        format!("stack `{}` has no output `{key}`", r.stack),
                    )
                    .in_file(&stack.source)
                    .label(site.span, format!("not an output of `{}`", r.stack))
                    .help(if help == listed {
                        help
                    } else {
                        format!("{help} {listed}")
                    }),
                );
            }
        }
        out.insert(
            r.name.clone(),
            Found {
                physical_id: location_id(&backend.location(), matches!(r.at, Where::S3(_))),
                attrs: Json::Object(outputs),
            },
        );
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        for d in &problems {
            printer.diagnostic(d);
        }
        Err(Exit::Error.into())
    }
}

fn at_resource(stack: &Stack, name: &str, d: Diag, label: &str) -> Diag {
    match stack.resources.get(name) {
        Some(r) => d
            .in_file(&stack.source)
            .label(r.spans.name, label.to_string()),
        None => d,
    }
}

/// The stacks stored beside `backend` whose states read this stack's outputs: `(stack,
/// resource)` pairs, sorted.
pub async fn readers_of(
    backend: &dyn StateBackend,
    remote: bool,
) -> Result<Vec<(String, String)>, iac_engine::StateError> {
    let me = location_id(&backend.location(), remote);
    let mut out = Vec::new();
    for (_, other) in backend.siblings().await? {
        for (name, r) in &other.resources {
            if r.existing && is_stack_ref(&r.rtype) && r.physical_id == me {
                out.push((other.stack.clone(), name.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_key_is_in_the_same_prefix() {
        assert_eq!(
            sibling_key("s3://b/teams/app.json", "network"),
            "s3://b/teams/network.json"
        );
        assert_eq!(
            sibling_key("s3://b/app.json", "network"),
            "s3://b/network.json"
        );
    }
}
