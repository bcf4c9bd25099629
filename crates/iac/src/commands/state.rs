//! `iac state list` and `iac state show NAME`: what the state records, read from the state
//! alone (no lock: every save is atomic, so a reader sees a whole version). Local state needs
//! no AWS call; state in S3 is read with the usual AWS connection.
//!
//! `iac state rm` and `iac state mv` edit the state (in their own modules, `state_rm.rs` and
//! `state_mv.rs`), under the lock, through [`open_locked`].

use std::process::ExitCode;

use iac_engine::{State, StateBackend, StateEditError, StateLock};
use iac_stack::{Diag, Loaded};
use serde_json::json;

use super::aws::{connect_context, Target};
use super::backend::{self, location_of};
use super::load::{load_and_report, StackRequest};
use super::Exit;
use crate::cli::{AwsArgs, LockArgs, StackArgs, StateCommand};
use crate::printer::Printer;

/// The stack (for its name and `state:`), its backend, and its state if it was applied.
pub struct Stored {
    pub loaded: Loaded,
    pub backend: Box<dyn StateBackend>,
    pub state: Option<State>,
}

/// Load the stack and read its state; errors are printed, `Err` is the exit code.
pub async fn read(args: &StackArgs, aws: &AwsArgs, printer: &Printer) -> Result<Stored, ExitCode> {
    let (loaded, backend) = open(args, aws, printer).await?;
    let state = backend::load_existing(backend.as_ref(), printer).await?;
    Ok(Stored {
        loaded,
        backend,
        state,
    })
}

/// A stack's state, locked for an edit, and loaded.
pub struct Locked {
    pub loaded: Loaded,
    pub backend: Box<dyn StateBackend>,
    /// Held until dropped: the edit runs under it, as an apply does.
    pub _lock: StateLock,
    /// `None` for a stack never applied.
    pub state: Option<State>,
}

/// Load the stack, take the lock of its state for `operation` (waiting for a busy one as
/// `lock` says), then read the state.
pub async fn open_locked(
    args: &StackArgs,
    aws: &AwsArgs,
    lock: &LockArgs,
    operation: &str,
    printer: &Printer,
) -> Result<Locked, ExitCode> {
    let (loaded, backend) = open(args, aws, printer).await?;
    let lock = backend::lock(
        backend.as_ref(),
        &loaded.stack.name,
        &args.stack,
        operation,
        lock,
        printer,
    )
    .await?;
    let state = backend::load_existing(backend.as_ref(), printer).await?;
    Ok(Locked {
        loaded,
        backend,
        _lock: lock,
        state,
    })
}

/// Load the stack and open its state's backend, connecting to AWS only for a remote state.
async fn open(
    args: &StackArgs,
    aws: &AwsArgs,
    printer: &Printer,
) -> Result<(Loaded, Box<dyn StateBackend>), ExitCode> {
    let req = StackRequest::from(args);
    let loaded = load_and_report(&req, printer)?;
    let location = location_of(&args.stack, loaded.stack.state.as_deref());
    let ctx = if location.is_remote() {
        let target = Target {
            region: loaded.stack.region.as_deref(),
            aws,
        };
        Some(connect_context(&target, printer).await?)
    } else {
        None
    };
    let backend = backend::open(&location, &loaded.stack.name, ctx.as_ref(), printer)?;
    Ok((loaded, backend))
}

/// A refused state edit as a diagnostic; nothing was written.
pub fn edit_diag(e: &StateEditError, state: &State) -> Diag {
    match e {
        StateEditError::Unknown(names) => {
            let known: Vec<&str> = state.resources.keys().map(String::as_str).collect();
            let mut d = unknown_resource(&names[0], &known);
            d.message = format!("{e}; nothing was changed");
            d
        }
        StateEditError::Taken(_) => Diag::error(
            "iac::state::name_taken",
            format!("{e}; nothing was changed"),
        )
        .help("forget it first with `iac state rm`, or choose another name"),
        StateEditError::InvalidName(_) => Diag::error(
            "iac::state::invalid_name",
            format!("{e}; nothing was changed"),
        )
        .help(
            "use lowercase letters, digits and `_`, starting with a letter, as under `resources:`",
        ),
    }
}

pub fn run(cmd: &StateCommand, printer: &Printer) -> ExitCode {
    let rt = match super::runtime(printer) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let (args, aws) = match cmd {
            StateCommand::List(a) => (&a.stack, &a.aws),
            StateCommand::Show(a) => (&a.stack, &a.aws),
            StateCommand::Rm(a) => return super::state_rm::run(a, printer).await,
            StateCommand::Mv(a) => return super::state_mv::run(a, printer).await,
        };
        let stored = match read(args, aws, printer).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let Some(state) = &stored.state else {
            printer.note(&format!(
                "the stack `{}` has no state yet (`{}`): nothing was applied",
                stored.loaded.stack.name,
                stored.backend.location()
            ));
            return match cmd {
                StateCommand::Show(a) => {
                    printer.diagnostic(&unknown_resource(&a.name, &[]));
                    Exit::Error.into()
                }
                _ => Exit::Ok.into(),
            };
        };
        match cmd {
            StateCommand::Show(a) => match show(state, &a.name) {
                Some(text) => super::write_out(printer, &text),
                None => {
                    let names: Vec<&str> = state.resources.keys().map(String::as_str).collect();
                    printer.diagnostic(&unknown_resource(&a.name, &names));
                    Exit::Error.into()
                }
            },
            _ => super::write_out(printer, &list(state)),
        }
    })
}

/// One line per resource, aligned: name, type, physical id; `existing` lookups and old
/// objects awaiting deletion are marked.
pub fn list(state: &State) -> String {
    let mut rows: Vec<[String; 3]> = state
        .resources
        .iter()
        .map(|(name, r)| {
            let id = if r.existing {
                format!("{} (existing)", r.physical_id)
            } else {
                r.physical_id.clone()
            };
            [name.clone(), r.rtype.clone(), id]
        })
        .collect();
    rows.extend(state.deposed.iter().map(|d| {
        [
            d.name.clone(),
            d.rtype.clone(),
            format!("{} (deposed: to be destroyed)", d.physical_id),
        ]
    }));
    let w0 = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
    rows.iter()
        .map(|[a, b, c]| format!("{a:w0$}  {b:w1$}  {c}\n"))
        .collect()
}

/// One resource as pretty JSON: type, physical id, inputs last applied, attributes.
pub fn show(state: &State, name: &str) -> Option<String> {
    let r = state.resources.get(name)?;
    let doc = json!({
        "name": name,
        "type": r.rtype,
        "physical_id": r.physical_id,
        "existing": r.existing,
        "dependencies": r.dependencies,
        "inputs": r.inputs,
        "attrs": r.attrs,
    });
    Some(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
}

pub fn unknown_resource(name: &str, known: &[&str]) -> Diag {
    let help = if known.is_empty() {
        "apply the stack first; `iac state list` shows what the state holds".to_string()
    } else {
        format!(
            "the state holds {}",
            known
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Diag::error(
        "iac::state::unknown_resource",
        format!("the state has no resource `{name}`"),
    )
    .help(help)
}

#[cfg(test)]
mod tests {
    use iac_engine::ResourceState;

    use super::*;

    fn state() -> State {
        let mut s = State::new("demo");
        s.resources.insert(
            "vpc".into(),
            ResourceState {
                rtype: "aws.vpc".into(),
                physical_id: "vpc-1".into(),
                inputs: json!({"cidr": "10.0.0.0/16"}),
                attrs: json!({"id": "vpc-1"}),
                dependencies: vec![],
                existing: false,
                incomplete: false,
                former_names: Vec::new(),
            },
        );
        s.resources.insert(
            "public_a".into(),
            ResourceState {
                rtype: "aws.subnet".into(),
                physical_id: "subnet-1".into(),
                inputs: json!({}),
                attrs: json!({}),
                dependencies: vec!["vpc".into()],
                existing: false,
                incomplete: false,
                former_names: Vec::new(),
            },
        );
        s
    }

    #[test]
    fn list_is_aligned_and_sorted_by_name() {
        assert_eq!(
            list(&state()),
            "public_a  aws.subnet  subnet-1\nvpc       aws.vpc     vpc-1\n"
        );
    }

    #[test]
    fn show_has_inputs_and_attrs() {
        let text = show(&state(), "vpc").unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["inputs"]["cidr"], "10.0.0.0/16");
        assert_eq!(doc["attrs"]["id"], "vpc-1");
        assert!(show(&state(), "nope").is_none());
    }
}
