//! `iac destroy STACK`: delete everything the state holds (or `--target`s and what depends
//! on them), in reverse dependency order, after the same confirmation as `iac apply`.
//! `existing: true` lookups are only forgotten; protected resources make it an error.

use std::process::ExitCode;

use iac_engine::{plan_destroy_live, render_plan, PlanOptions};

use super::apply::{confirm, execute};
use super::load::StackRequest;
use super::plan::{plan_diag, Session};
use super::Exit;
use crate::cli::DestroyArgs;
use crate::printer::Printer;

pub fn run(args: &DestroyArgs, printer: &Printer) -> ExitCode {
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
    {
        let req = StackRequest::from(&args.stack);
        let mut session = match Session::open(&req, &args.aws, "destroy", printer).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        if session.state.resources.is_empty()
            && session.state.deposed.is_empty()
            && session.state.pending.is_empty()
        {
            printer.note(&format!(
                "Nothing to destroy: the state of `{}` (`{}`) holds no resources.",
                session.stack().name,
                session.backend.location()
            ));
            return Exit::Ok.into();
        }
        let opts = PlanOptions {
            targets: args.targets.clone(),
            keep_orphans: args.keep_orphans,
            ..PlanOptions::default()
        };
        let provider = session.provider.clone();
        let mut plan =
            match plan_destroy_live(session.stack(), &session.state, provider, &opts).await {
                Ok(p) => p,
                Err(e) => {
                    printer.diagnostic(&plan_diag(&e, session.stack()));
                    return Exit::Error.into();
                }
            };
        plan.cost = Some(iac_cost::plan_cost(&plan, &session.stack().usage));
        let shown = super::write_out(printer, &render_plan(&plan, printer.out_color()));
        if shown != ExitCode::from(Exit::Ok) {
            return shown;
        }
        if !plan.has_changes() {
            return Exit::Ok.into();
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
        let Session {
            provider,
            backend,
            ref mut state,
            ..
        } = session;
        execute(
            &plan,
            state,
            backend.as_ref(),
            provider,
            args.parallelism,
            printer,
        )
        .await
    }
}
