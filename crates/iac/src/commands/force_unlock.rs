//! `iac force-unlock STACK LOCK_ID`: remove the lock of a stack's state and say who held it.
//!
//! For a lock left by a run that is gone. A local lock is released by the operating system
//! when its process dies, so this is mostly for remote state and shared file systems. No
//! question is asked: the lock id, as the lock error showed it, is the confirmation. A lock
//! with another id (taken by another run since) is left alone and is an error naming it; in
//! S3 the delete is also conditional on the lock object's ETag, so the lock removed is the
//! one that was compared.

use std::process::ExitCode;

use super::aws::{connect_context, Target};
use super::backend::{self, location_of, lock_diag, state_diag};
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
        match backend.force_unlock(&args.lock_id).await {
            Ok(Some(holder)) => super::write_out(
                printer,
                &format!("Removed the lock of `{name}`, held by {holder}.\n"),
            ),
            Ok(None) => {
                super::write_out(printer, &format!("The state of `{name}` was not locked.\n"))
            }
            Err(e) => {
                let d = lock_diag(&e, &args.stack.stack)
                    .unwrap_or_else(|| state_diag(&e, backend.as_ref()));
                printer.diagnostic(&d);
                Exit::Error.into()
            }
        }
    })
}
