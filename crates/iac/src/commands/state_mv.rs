//! `iac state mv STACK OLD NEW`: rename a resource in the state, keeping its object (what a
//! `moved:` entry does when applied). `OLD` must be in the state and `NEW` must not. Nothing
//! is changed in AWS: the next plan updates the object's `iac:name` tag to the new name.

use std::process::ExitCode;

use iac_engine::state_ops;

use super::backend::state_diag;
use super::state::{edit_diag, open_locked, unknown_resource};
use super::Exit;
use crate::cli::StateMvArgs;
use crate::printer::Printer;

pub async fn run(args: &StateMvArgs, printer: &Printer) -> ExitCode {
    let mut locked =
        match open_locked(&args.stack, &args.aws, &args.lock, "state mv", printer).await {
            Ok(l) => l,
            Err(code) => return code,
        };
    let stack = &locked.loaded.stack;
    let Some(state) = locked.state.as_mut() else {
        let mut d = unknown_resource(&args.old, &[]);
        d.message = format!(
            "the stack `{}` has no state yet: nothing to move",
            stack.name
        );
        printer.diagnostic(&d);
        return Exit::Error.into();
    };
    let edit = match state_ops::rename(state, &args.old, &args.new) {
        Ok(e) => e,
        Err(e) => {
            printer.diagnostic(&edit_diag(&e, state));
            return Exit::Error.into();
        }
    };
    let (rtype, id) = {
        let r = &state.resources[&args.old];
        (r.rtype.clone(), r.physical_id.clone())
    };
    if let Err(e) = state_ops::commit(locked.backend.as_ref(), state, vec![edit]).await {
        printer.diagnostic(&state_diag(&e, locked.backend.as_ref()));
        return Exit::Error.into();
    }
    let code = super::write_out(
        printer,
        &format!(
            "Moved `{}` to `{}` ({rtype} `{id}`): renamed in the state; the object is unchanged in AWS.\n",
            args.old, args.new
        ),
    );
    if !stack.resources.contains_key(&args.new) {
        printer.note(&format!(
            "`{}` is not in the stack: the next plan destroys its object; rename the resource in the stack too",
            args.new
        ));
    }
    code
}
