//! `iac sweep STACK`: what is still in AWS with the stack's `iac:stack` tag that its state
//! does not account for, each with its type, id and `iac:name`; `--delete` deletes it after
//! the same confirmation as `iac destroy`. The same check ends every full `iac destroy`
//! ([`report`]), so a destroy says that nothing tagged with the stack is left, or what is.
//!
//! Exit code 0 when nothing is left, 1 when something is (and was not deleted).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use iac_cost::plan_cost;
use iac_engine::plan_cost::{dollars, ResourceCost};
use iac_engine::sweep::{plan_sweep_delete, sweep, Sweep};
use iac_engine::{render_plan, Provider, State};
use iac_stack::Stack;

use super::apply::{confirm, execute, Run};
use super::load::StackRequest;
use super::plan::{plan_diag, Locking, Session};
use super::Exit;
use crate::cli::SweepArgs;
use crate::printer::Printer;
use crate::reporter_json::{emit_stdout, Event, SweptObject};

pub fn run(args: &SweepArgs, printer: &Printer) -> ExitCode {
    super::block_on_interruptible(printer, run_async(args, printer))
}

async fn run_async(args: &SweepArgs, printer: &Printer) -> ExitCode {
    let req = StackRequest::from(&args.stack);
    let locking = Locking::Exclusive {
        operation: "sweep",
        args: &args.lock,
    };
    let session = match Session::open(&req, &args.aws, locking, printer).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = session.stack().name.clone();
    let provider: Arc<dyn Provider> = session.provider.clone();
    let found = match sweep(&name, Some(&session.state), provider.clone()).await {
        Ok(f) => f,
        Err(e) => {
            printer.diagnostic(&plan_diag(&e, session.stack()));
            return Exit::Error.into();
        }
    };
    let text = report(&found, session.stack(), &session.state);
    let shown = super::write_out(printer, &text);
    if shown != ExitCode::from(Exit::Ok) || found.left.is_empty() {
        return shown;
    }
    if !args.delete {
        printer.note("`iac sweep --delete` deletes them (after confirmation).");
        return Exit::Error.into();
    }
    let plan = plan_sweep_delete(session.stack(), &session.state, &found.left);
    let shown = super::write_out(printer, &render_plan(&plan, printer.out_color()));
    if shown != ExitCode::from(Exit::Ok) {
        return shown;
    }
    if let Err(code) = confirm(
        args.yes,
        "Do you really want to delete every object listed above? Only 'yes' will be accepted: ",
        "delete",
        printer,
    )
    .await
    {
        return code;
    }
    let Session {
        provider,
        backend,
        mut state,
        loaded,
        ..
    } = session;
    let stack = loaded.stack;
    let run = Run {
        plan: &plan,
        saved: false,
        parallelism: args.parallelism,
    };
    let code = execute(
        &run,
        &mut state,
        backend.as_ref(),
        provider.clone(),
        printer,
    )
    .await;
    if code != ExitCode::from(Exit::Ok) {
        return code;
    }
    after(&stack, &state, provider, printer).await
}

/// Sweep again after a destroy (or a `--delete`), print the result, and exit 1 when
/// something tagged with the stack is still there.
pub async fn after(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    printer: &Printer,
) -> ExitCode {
    match sweep(&stack.name, Some(state), provider).await {
        Ok(found) if printer.is_events() => {
            let objects = |list: &[(&'static str, iac_engine::Tagged)]| {
                list.iter()
                    .map(|(rtype, t)| SweptObject {
                        rtype: rtype.to_string(),
                        physical_id: t.physical_id.clone(),
                        name: t.name.clone(),
                    })
                    .collect()
            };
            emit_stdout(&Event::Sweep {
                stack: stack.name.clone(),
                clean: found.left.is_empty(),
                left: objects(&found.left),
                kept: objects(&found.kept),
            });
            if found.left.is_empty() {
                Exit::Ok.into()
            } else {
                Exit::Error.into()
            }
        }
        Ok(found) => {
            let code = super::write_out(printer, &report(&found, stack, state));
            if !found.left.is_empty() {
                printer.note("`iac sweep --delete` deletes them (after confirmation).");
                return Exit::Error.into();
            }
            code
        }
        Err(e) => {
            printer.error(&format!("the sweep for what is left failed: {e}"));
            Exit::Error.into()
        }
    }
}

/// What a sweep found, as the last lines of `iac destroy` and `iac sweep` show it: each
/// object left with its monthly cost, estimated from what was read of it.
pub fn report(found: &Sweep, stack_model: &Stack, state: &State) -> String {
    let stack = stack_model.name.as_str();
    let mut out = String::new();
    if !found.kept.is_empty() {
        let _ = writeln!(
            out,
            "Kept on purpose (forgotten with `iac state rm`), still tagged iac:stack={stack}:"
        );
        for (rtype, t) in &found.kept {
            let _ = writeln!(out, "  {rtype} `{}`{}", t.physical_id, iac_name(t));
        }
    }
    if found.left.is_empty() {
        let _ = writeln!(out, "Nothing tagged iac:stack={stack} is left.");
        return out;
    }
    let cost = plan_cost(
        &plan_sweep_delete(stack_model, state, &found.left),
        &stack_model.usage,
    );
    let _ = writeln!(
        out,
        "Left in AWS, tagged iac:stack={stack} and unknown to the state ({}), about {} a month:",
        found.left.len(),
        dollars(cost.before)
    );
    let by_name: HashMap<&str, &ResourceCost> = cost
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r))
        .collect();
    for (rtype, t) in &found.left {
        let name = t.name.as_deref().unwrap_or(&t.physical_id);
        let priced = by_name.get(name);
        let monthly = match priced {
            Some(r) if r.not_priced.is_some() => format!(
                ", not priced ({})",
                r.not_priced.as_deref().unwrap_or_default()
            ),
            Some(r) => format!(", {}/mo", dollars(r.before)),
            None => ", $0.00/mo".to_string(),
        };
        let _ = writeln!(out, "  {rtype} `{}`{}{monthly}", t.physical_id, iac_name(t));
    }
    out
}

fn iac_name(t: &iac_engine::Tagged) -> String {
    t.name
        .as_deref()
        .map(|n| format!(" (iac:name `{n}`)"))
        .unwrap_or_default()
}
