//! `iac state rm STACK NAME...`: forget resources. Each is removed from the state and its
//! object left in AWS, untouched; the state records it as forgotten, so no later plan adopts
//! it again (it keeps the stack's tags) and `iac destroy` never deletes it. Every name is
//! checked before anything is written, under the state lock.

use std::process::ExitCode;

use iac_engine::state_ops;

use super::backend::state_diag;
use super::state::{edit_diag, open_locked, unknown_resource};
use super::Exit;
use crate::cli::StateRmArgs;
use crate::printer::Printer;

pub async fn run(args: &StateRmArgs, printer: &Printer) -> ExitCode {
    let mut locked =
        match open_locked(&args.stack, &args.aws, &args.lock, "state rm", printer).await {
            Ok(l) => l,
            Err(code) => return code,
        };
    let stack = &locked.loaded.stack;
    let Some(state) = locked.state.as_mut() else {
        let mut d = unknown_resource(&args.names[0], &[]);
        d.message = format!(
            "the stack `{}` has no state yet: nothing to forget",
            stack.name
        );
        printer.diagnostic(&d);
        return Exit::Error.into();
    };
    let (edits, forgotten) = match state_ops::forget(state, &args.names) {
        Ok(x) => x,
        Err(e) => {
            printer.diagnostic(&edit_diag(&e, state));
            return Exit::Error.into();
        }
    };
    if let Err(e) = state_ops::commit(locked.backend.as_ref(), state, edits).await {
        printer.diagnostic(&state_diag(&e, locked.backend.as_ref()));
        return Exit::Error.into();
    }
    let text: String = forgotten
        .iter()
        .map(|f| {
            format!(
                "Forgot `{}` ({} `{}`): removed from the state; the object is left in AWS.\n",
                f.name, f.rtype, f.physical_id
            )
        })
        .collect();
    let code = super::write_out(printer, &text);
    let still: Vec<String> = forgotten
        .iter()
        .filter(|f| stack.resources.contains_key(&f.name))
        .map(|f| format!("`{}`", f.name))
        .collect();
    if !still.is_empty() {
        printer.note(&format!(
            "{} still in the stack: the next plan creates a new object for each; remove them from the stack to stop managing them",
            still.join(", ")
        ));
    }
    code
}
