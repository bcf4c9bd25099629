//! `iac force-unlock STACK`: remove the lock of a stack's state and say who held it.
//!
//! For a lock left by a run that is gone. A local lock is released by the operating system
//! when its process dies, so this is mostly for remote state and shared file systems; no
//! question is asked, but the holder is printed so a mistake is visible.

use std::process::ExitCode;

use super::aws::{connect_context, Target};
use super::backend::{self, location_of, state_diag};
use super::load::{load_and_report, StackRequest};
use super::Exit;
use crate::cli::ForceUnlockArgs;
use crate::printer::Printer;

pub fn run(args: &ForceUnlockArgs, printer: &Printer) -> ExitCode {
    let rt = match super::runtime(printer) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let req = StackRequest::from(&args.stack);
        let loaded = match load_and_report(&req, printer) {
            Ok(l) => l,
            Err(code) => return code,
        };
        let name = &loaded.stack.name;
        let location = location_of(&args.stack.stack, loaded.stack.state.as_deref());
        let ctx = if location.is_remote() {
            let target = Target {
                region: loaded.stack.region.as_deref(),
                aws: &args.aws,
            };
            match connect_context(&target, printer).await {
                Ok(ctx) => Some(ctx),
                Err(code) => return code,
            }
        } else {
            None
        };
        let backend = match backend::open(&location, name, ctx.as_ref(), printer) {
            Ok(b) => b,
            Err(code) => return code,
        };
        match backend.force_unlock().await {
            Ok(Some(holder)) => super::write_out(
                printer,
                &format!("Removed the lock of `{name}`, held by {holder}.\n"),
            ),
            Ok(None) => {
                super::write_out(printer, &format!("The state of `{name}` was not locked.\n"))
            }
            Err(e) => {
                printer.diagnostic(&state_diag(&e, backend.as_ref(), name));
                Exit::Error.into()
            }
        }
    })
}
