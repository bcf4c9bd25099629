//! `iac destroy STACK`: delete everything the state holds (or `--target`s and what depends
//! on them), in reverse dependency order, after the same confirmation as `iac apply`.
//! `existing: true` lookups are only forgotten; protected resources make it an error.
//! `--json` prints the run as JSON events (see [`crate::reporter_json`]) and needs `--yes`.
//!
//! A stack whose outputs other stacks stored beside it still read is not destroyed (unless
//! `--force`), and a whole destroy ends with the sweep ([`super::sweep::after`]).

use std::process::ExitCode;

use iac_engine::{render_plan, PlanKind};
use iac_stack::Diag;

use super::apply::{confirm, execute, refuse_json_without_yes, Run};
use super::backend::state_diag;
use super::load::StackRequest;
use super::plan::{Locking, Session};
use super::stack_refs;
use super::Exit;
use crate::cli::DestroyArgs;
use crate::printer::Printer;
use crate::reporter_json::{emit_stdout, Event, RunSummary};

pub fn run(args: &DestroyArgs, printer: &Printer) -> ExitCode {
    let printer = &if args.json {
        printer.events()
    } else {
        *printer
    };
    if args.json && !args.yes {
        return refuse_json_without_yes("destroy", printer);
    }
    super::block_on_interruptible(printer, run_async(args, printer))
}

async fn run_async(args: &DestroyArgs, printer: &Printer) -> ExitCode {
    let req = StackRequest::from(&args.stack);
    let locking = Locking::Exclusive {
        operation: "destroy",
        args: &args.lock,
    };
    let mut session = match Session::open(&req, &args.aws, locking, printer).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A whole destroy ends by proving nothing tagged with the stack is left (orphans kept on
    // request are, so then there is nothing to prove).
    let sweeps = args.targets.is_empty() && !args.keep_orphans;
    if session.state.resources.is_empty()
        && session.state.deposed.is_empty()
        && session.state.pending.is_empty()
    {
        let message = format!(
            "Nothing to destroy: the state of `{}` (`{}`) holds no resources.",
            session.stack().name,
            session.backend.location()
        );
        if printer.is_events() {
            emit_stdout(&Event::Notice { message });
            emit_stdout(&Event::Summary(RunSummary::of(
                &iac_engine::ApplyReport::default(),
                PlanKind::Destroy,
            )));
        } else {
            printer.note(&message);
        }
        if !sweeps {
            return Exit::Ok.into();
        }
        return super::sweep::after(
            session.stack(),
            &session.state,
            session.provider.clone(),
            printer,
        )
        .await;
    }
    // Like CloudFormation's exports: a stack whose outputs another stack reads stays.
    if args.targets.is_empty() {
        let remote = session.location.is_remote();
        match stack_refs::readers_of(session.backend.as_ref(), remote).await {
            Ok(readers) if !readers.is_empty() && !args.force => {
                printer.diagnostic(&in_use(&session.stack().name, &readers));
                return Exit::Error.into();
            }
            Ok(readers) if !readers.is_empty() => printer.note(&format!(
                "warning: destroying `{}` although {} read its outputs (--force)",
                session.stack().name,
                users(&readers)
            )),
            Ok(_) => {}
            Err(e) => {
                printer.diagnostic(&state_diag(&e, session.backend.as_ref()));
                return Exit::Error.into();
            }
        }
    }
    let plan = match session
        .plan_destroy(&args.targets, args.keep_orphans, printer)
        .await
    {
        Ok(p) => p,
        Err(code) => return code,
    };
    if !printer.is_events() {
        let shown = super::write_out(printer, &render_plan(&plan, printer.out_color()));
        if shown != ExitCode::from(Exit::Ok) || !plan.has_changes() {
            return shown;
        }
        if let Err(code) = confirm(
            args.yes,
            "Do you really want to destroy every resource listed above? They are deleted in AWS \
             and cannot be brought back. Only 'yes' will be accepted: ",
            "destroy",
            printer,
        )
        .await
        {
            return code;
        }
    }
    let Session {
        provider,
        backend,
        ref mut state,
        ref loaded,
        ..
    } = session;
    let run = Run {
        plan: &plan,
        saved: false,
        parallelism: args.parallelism,
    };
    let code = execute(&run, state, backend.as_ref(), provider.clone(), printer).await;
    if code != ExitCode::from(Exit::Ok) || !sweeps {
        return code;
    }
    super::sweep::after(&loaded.stack, state, provider, printer).await
}

fn users(readers: &[(String, String)]) -> String {
    readers
        .iter()
        .map(|(stack, name)| format!("stack `{stack}` (its `{name}`)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refusing to destroy a stack whose outputs other stacks read.
fn in_use(stack: &str, readers: &[(String, String)]) -> Diag {
    Diag::error(
        "iac::destroy::in_use",
        format!(
            "`{stack}` is not destroyed: {} read its outputs; nothing was changed",
            users(readers)
        ),
    )
    .help(format!(
        "destroy those stacks first (or remove their `iac.stack` resource reading `{stack}` and apply them); `--force` destroys it anyway"
    ))
}
