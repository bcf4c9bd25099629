//! `iac import STACK NAME ID`: take an existing AWS object into the stack as resource
//! `NAME`, without changing it. The object is read and recorded as it is, so the next
//! `iac plan` shows only where it differs from the stack.
//!
//! Everything that can be checked locally is, before any AWS call: `NAME` is a resource
//! the stack manages, and `ID` has a form of its type. Then, under the state lock: the
//! state has no object for `NAME`, nor this object under another name, and no other
//! stack's `iac:stack` tag claims it (unless `--force`). On any refusal nothing is written.

use std::process::ExitCode;

use iac_engine::import::{self, ImportError};
use iac_engine::{state_ops, State};
use iac_stack::{Diag, Stack};

use super::backend::state_diag;
use super::load::StackRequest;
use super::plan::{Locking, Session};
use super::Exit;
use crate::cli::ImportArgs;
use crate::printer::Printer;

pub fn run(args: &ImportArgs, printer: &Printer) -> ExitCode {
    let rt = match super::runtime(printer) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let req = StackRequest::from(&args.stack);
        // The local checks, against an empty state: no AWS call for a wrong name or id.
        let precheck = |stack: &Stack| {
            import::check(stack, &State::new(&stack.name), &args.name, &args.id)
                .err()
                .map(|e| import_diag(&e, stack))
        };
        let locking = Locking::Exclusive {
            operation: "import",
            args: &args.lock,
        };
        let opened = Session::open_checked(&req, &args.aws, locking, &precheck, true, printer);
        let mut session = match opened.await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let stack = &session.loaded.stack;
        let found = import::read(
            stack,
            &session.state,
            session.provider.as_ref(),
            &args.name,
            &args.id,
            args.force,
        )
        .await;
        let imported = match found {
            Ok(i) => i,
            Err(e) => {
                printer.diagnostic(&import_diag(&e, stack));
                return Exit::Error.into();
            }
        };
        let edit = import::record(stack, &imported);
        if let Err(e) =
            state_ops::commit(session.backend.as_ref(), &mut session.state, vec![edit]).await
        {
            printer.diagnostic(&state_diag(&e, session.backend.as_ref()));
            return Exit::Error.into();
        }
        let claimed = imported
            .object
            .live
            .inputs
            .get("tags")
            .and_then(|t| t.get("iac:stack"))
            .and_then(serde_json::Value::as_str)
            .filter(|s| *s != stack.name);
        if let Some(other) = claimed {
            printer.note(&format!(
                "warning: `{}` carried the tags of stack `{other}` (imported with --force): the next apply of `{}` re-tags it, and `{other}` should forget it with `iac state rm`",
                imported.object.physical_id, stack.name
            ));
        }
        super::write_out(
            printer,
            &format!(
                "Imported `{}` ({} `{}`) into the state; AWS was not changed.\nRun `iac plan` to see how it differs from the stack.\n",
                imported.name, imported.rtype, imported.object.physical_id
            ),
        )
    })
}

/// A refused import as a diagnostic, pointing at the resource (and its `import:` key)
/// in the stack file where there is one. Nothing was written.
pub fn import_diag(e: &ImportError, stack: &Stack) -> Diag {
    let resource = stack.resources.get(e.name());
    let at = |d: Diag, text: &str| match resource {
        Some(r) => d
            .in_file(&stack.source)
            .label(r.spans.import.unwrap_or(r.spans.name), text.to_string()),
        None => d,
    };
    let message = format!("{e}; nothing was changed");
    match e {
        ImportError::UnknownName(name) => {
            let managed = stack
                .resources
                .values()
                .filter(|r| !r.existing)
                .map(|r| r.name.as_str());
            let help = iac_stack::suggest(name, managed.clone(), || {
                format!(
                    "the stack's resources are {}",
                    managed
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            Diag::error("iac::import::unknown_name", message)
                .help(format!("{help}; declare the resource in the stack first, then import its object"))
        }
        ImportError::Existing(_) => at(
            Diag::error("iac::import::existing", message),
            "a lookup",
        )
        .help("drop `existing: true` so iac manages the object, then import it"),
        ImportError::InState { .. } => at(
            Diag::error("iac::import::in_state", message),
            "managed already",
        )
        .help("`iac state rm` forgets the object it has, if this one should take its place"),
        ImportError::BadId { help, .. } => at(
            Diag::error("iac::import::bad_id", message),
            "this resource's type",
        )
        .help(help.clone()),
        ImportError::NotFound { .. } => at(
            Diag::error("iac::import::not_found", message),
            "nothing to import",
        )
        .help("check the id and the region (`--region`, the stack's `region:`)"),
        ImportError::Held { .. } | ImportError::Twice { .. } => at(
            Diag::error("iac::import::held", message),
            "the same object",
        )
        .help("`iac state mv` renames a resource of the state; `iac state rm` forgets one"),
        ImportError::Claimed { stack: other, .. } => at(
            Diag::error("iac::import::claimed", message),
            "another stack's object",
        )
        .help(format!(
            "if it really moves to this stack, run `iac state rm` on `{other}`'s state, then `iac import --force`"
        )),
        ImportError::Read { .. } => at(
            Diag::error("iac::import::read", message),
            "could not be read",
        )
        .help("run the command again; if it keeps failing, check the credentials' permissions"),
    }
}
