//! `iac destroy STACK`: delete everything the state holds (or `--target`s and what depends
//! on them), in reverse dependency order, after the same confirmation as `iac apply`.
//! `existing: true` lookups are only forgotten; protected resources make it an error.
//! `--json` prints the run as JSON events (see [`crate::reporter_json`]) and needs `--yes`.

use std::process::ExitCode;

use iac_engine::{render_plan, PlanKind};

use super::apply::{confirm, execute, refuse_json_without_yes, Run};
use super::load::StackRequest;
use super::plan::Session;
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
    let rt = match super::runtime(printer) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(super::interrupt::interruptible(
        run_async(args, printer),
        printer,
    ))
}

async fn run_async(args: &DestroyArgs, printer: &Printer) -> ExitCode {
    let req = StackRequest::from(&args.stack);
    let mut session = match Session::open(&req, &args.aws, "destroy", printer).await {
        Ok(s) => s,
        Err(code) => return code,
    };
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
        return Exit::Ok.into();
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
        ..
    } = session;
    let run = Run {
        plan: &plan,
        saved: false,
        parallelism: args.parallelism,
    };
    execute(&run, state, backend.as_ref(), provider, printer).await
}
