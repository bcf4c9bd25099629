//! `iac apply STACK|PLANFILE`: make AWS match the stack, or carry out a saved plan.
//!
//! With a stack: plan, show the plan, ask for confirmation on a terminal (`--yes` skips the
//! question; without a terminal and without `--yes` it refuses before changing anything),
//! then apply. With a plan saved by `iac plan --out`: apply it without asking (the plan was
//! the review), refusing it if the state moved on since it was made. The file is told apart
//! by its content: a JSON document with `format_version` is a plan, anything else a stack.
//! A saved plan finds its stack file (beside which local state lives) relative to itself,
//! so it applies from any working directory; a saved destroy plan carries out the destroy.
//!
//! [`execute`] is shared with `iac destroy`: progress on stderr, Ctrl-C handling, the
//! summary, the outputs; or, with `--json`, all of it as JSON events on stdout.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use iac_engine::{
    ApplyError, ApplyOptions, CancelToken, Plan, PlanKind, Provider, State, StateBackend,
};
use iac_stack::Diag;
use indexmap::IndexMap;
use serde_json::Value as Json;

use super::aws::{connect, Target};
use super::backend::{self, StateLocation};
use super::load::{display_path, StackRequest};
use super::plan::{plan_diag, Locking, Session};
use super::Exit;
use crate::cli::ApplyArgs;
use crate::printer::Printer;
use crate::reporter::{failure_report, summary_line, Notes, ProgressReporter};
use crate::reporter_json::{emit_stdout, plan_event, Event, JsonReporter, RunSummary};

pub fn run(args: &ApplyArgs, printer: &Printer) -> ExitCode {
    let printer = &if args.json {
        printer.events()
    } else {
        *printer
    };
    let saved = match read_saved_plan(&args.stack, printer) {
        Ok(saved) => saved,
        Err(code) => return code,
    };
    if args.json && !args.yes && saved.is_none() {
        return refuse_json_without_yes("apply", printer);
    }
    super::block_on_interruptible(printer, async {
        match saved {
            Some((plan, location)) => apply_saved(args, plan, location, printer).await,
            None => apply_stack(args, printer).await,
        }
    })
}

/// `--json` without `--yes` (and not a saved plan): no question can be answered in a
/// pipeline, and the plan was never reviewed, so nothing is done.
pub fn refuse_json_without_yes(verb: &str, printer: &Printer) -> ExitCode {
    printer.diagnostic(
        &Diag::error(
            "iac::cli::json_needs_yes",
            format!("`iac {verb} --json` needs `--yes`: there is no prompt to answer in a pipeline"),
        )
        .help(format!(
            "review the plan with `iac plan{}` first, then run `iac {verb} --json --yes`; or save it with `--out FILE` and run `iac apply --json FILE`",
            if verb == "destroy" { " --destroy" } else { "" }
        )),
    );
    Exit::Error.into()
}

/// The saved plan in `path`, or `None` when the file is not a plan (it is then loaded as a
/// stack, which reports a missing or unreadable file the usual way).
fn read_saved_plan(
    path: &Path,
    printer: &Printer,
) -> Result<Option<(Plan, StateLocation)>, ExitCode> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let Ok(doc) = serde_json::from_str::<Json>(&text) else {
        return Ok(None);
    };
    if doc.get("format_version").is_none() {
        return Ok(None);
    }
    let file = display_path(path);
    let plan = Plan::from_json(&text).map_err(|e| {
        let mut d = plan_diag(&e, &empty_stack_for_messages());
        d.message = format!("`{}`: {}", file.display(), d.message);
        printer.diagnostic(&d);
        ExitCode::from(Exit::Error)
    })?;
    let location = StateLocation::from_plan_json(&doc, path).ok_or_else(|| {
        printer.diagnostic(
            &Diag::error(
                "iac::apply::plan_location",
                format!(
                    "the plan `{}` does not say where the state of `{}` is",
                    file.display(),
                    plan.stack
                ),
            )
            .help("save plans with `iac plan STACK --out FILE`, which records the stack file"),
        );
        ExitCode::from(Exit::Error)
    })?;
    // Local state lives beside the stack file: a plan that cannot find that file would
    // find no state (and refuse as stale, or worse, start a new one elsewhere).
    if !location.is_remote() && !location.stack_file.is_file() {
        printer.diagnostic(
            &Diag::error(
                "iac::apply::plan_location",
                format!(
                    "the plan `{}` was made from the stack file `{}`, which is not there",
                    file.display(),
                    display_path(&location.stack_file).display()
                ),
            )
            .help("keep the plan where it was saved relative to the stack file (a CI job: download it to the same path in the checkout), or make a new plan"),
        );
        return Err(Exit::Error.into());
    }
    Ok(Some((plan, location)))
}

/// [`plan_diag`] needs a stack only to label protected resources, which a plan file error
/// never is.
fn empty_stack_for_messages() -> iac_stack::Stack {
    iac_stack::Stack {
        source: iac_stack::span::SourceFile::new("", ""),
        name: String::new(),
        region: None,
        state: None,
        vars: IndexMap::new(),
        resources: IndexMap::new(),
        outputs: IndexMap::new(),
        moved: Vec::new(),
        usage: IndexMap::new(),
        spans: std::collections::HashMap::new(),
    }
}

/// `iac apply PLANFILE`: no question asked, the plan was the review.
async fn apply_saved(
    args: &ApplyArgs,
    plan: Plan,
    location: StateLocation,
    printer: &Printer,
) -> ExitCode {
    let mut misplaced = Vec::new();
    if !args.load.vars.is_empty() || !args.load.var_files.is_empty() {
        misplaced.push("`--var` and `--var-file`");
    }
    if !args.targets.is_empty() {
        misplaced.push("`--target`");
    }
    if !args.replace.is_empty() {
        misplaced.push("`--replace`");
    }
    if !misplaced.is_empty() {
        printer.diagnostic(
            &Diag::error(
                "iac::cli::saved_plan",
                format!(
                    "{} cannot change a saved plan (`{}`)",
                    misplaced.join(" and "),
                    display_path(&args.stack).display()
                ),
            )
            .help("give them to `iac plan --out FILE` instead, then apply the new plan"),
        );
        return Exit::Error.into();
    }
    if let (Some(wanted), Some(planned)) = (&args.load.region, &plan.region) {
        if wanted != planned {
            printer.diagnostic(
                &Diag::error(
                    "iac::cli::saved_plan",
                    format!("the plan was made for region `{planned}`, not `{wanted}`"),
                )
                .help("drop `--region`, or make a new plan with it"),
            );
            return Exit::Error.into();
        }
    }
    let target = Target {
        region: plan.region.as_deref(),
        aws: &args.aws,
    };
    let provider = match connect(&target, &plan.stack, true, printer).await {
        Ok(p) => Arc::new(p),
        Err(code) => return code,
    };
    let backend = match backend::open(&location, &plan.stack, Some(provider.aws()), printer) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let operation = match plan.kind {
        PlanKind::Apply => "apply",
        PlanKind::Destroy => "destroy",
    };
    let locked = backend::lock(
        backend.as_ref(),
        &plan.stack,
        &location.stack_file,
        operation,
        &args.lock,
        printer,
    )
    .await;
    let _lock = match locked {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut state = match backend::load(backend.as_ref(), &plan.stack, printer).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let run = Run {
        plan: &plan,
        saved: true,
        parallelism: args.parallelism,
    };
    execute(&run, &mut state, backend.as_ref(), provider, printer).await
}

/// `iac apply STACK`: plan, show, confirm, apply.
async fn apply_stack(args: &ApplyArgs, printer: &Printer) -> ExitCode {
    let req = StackRequest::new(&args.stack, &args.load);
    let locking = Locking::Exclusive {
        operation: "apply",
        args: &args.lock,
    };
    let mut session =
        match Session::open_replacing(&req, &args.aws, locking, &args.replace, true, printer).await
        {
            Ok(s) => s,
            Err(code) => return code,
        };
    let opts = iac_engine::PlanOptions {
        targets: args.targets.clone(),
        replace: args.replace.clone(),
        ..iac_engine::PlanOptions::default()
    };
    let plan = match session.plan(&opts, args.refresh_only, printer).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let shown = super::write_out(
        printer,
        &iac_engine::render_plan(&plan, printer.out_color()),
    );
    if shown != ExitCode::from(Exit::Ok) {
        return shown;
    }
    // With `--json` (which needs `--yes`) there is nothing to ask.
    if plan.has_changes() && !printer.is_events() {
        if let Err(code) = confirm(
            args.yes,
            "Do you want to apply these changes? Only 'yes' will be accepted: ",
            "apply",
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

/// Ask before changing anything: `--yes` skips the question; a terminal (stdin and stderr)
/// gets it; anything else is refused, so a script that forgot `--yes` changes nothing. The
/// answer is read off the async threads, so Ctrl-C at the prompt still stops the command
/// (and releases the lock).
pub async fn confirm(
    yes: bool,
    question: &str,
    verb: &str,
    printer: &Printer,
) -> Result<(), ExitCode> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        printer.diagnostic(
            &Diag::error(
                "iac::apply::no_confirmation",
                format!("refusing to {verb} without confirmation: there is no terminal to ask on"),
            )
            .help(
                "review the plan above, then run again with `--yes`; or save a plan with `iac plan --out FILE` and `iac apply FILE`",
            ),
        );
        return Err(Exit::Error.into());
    }
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\n{question}");
        let _ = err.flush();
    }
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer
    })
    .await
    .unwrap_or_default();
    if answer.trim() == "yes" {
        Ok(())
    } else {
        printer.error(&format!("{verb} cancelled: nothing was changed"));
        Err(Exit::Error.into())
    }
}

/// A plan about to be carried out, and how.
pub struct Run<'a> {
    pub plan: &'a Plan,
    /// Saved by `iac plan --out` (the `plan` event says so).
    pub saved: bool,
    /// `--parallelism`.
    pub parallelism: usize,
}

/// Carry out the plan with live progress, Ctrl-C handling, the summary and the outputs
/// (as JSON events when the printer speaks them). Exit 0 when everything was done, 1 when
/// something failed or was skipped, 130 when interrupted (the state holds everything that
/// finished either way).
pub async fn execute(
    run: &Run<'_>,
    state: &mut State,
    backend: &dyn StateBackend,
    provider: Arc<dyn Provider>,
    printer: &Printer,
) -> ExitCode {
    if printer.is_events() {
        return execute_json(run, state, backend, provider, printer).await;
    }
    let (plan, parallelism) = (run.plan, run.parallelism);
    if plan.has_changes() {
        // Progress starts below the plan, not glued to its summary line.
        printer.note("");
    }
    let reporter = Arc::new(ProgressReporter::new(
        printer.err_terminal(),
        printer.err_color(),
    ));
    let cancel = CancelToken::new();
    let interrupts = super::interrupt::during_apply(cancel.clone(), reporter.clone());
    let opts = ApplyOptions {
        parallelism,
        cancel,
        ..ApplyOptions::default()
    };
    let result = iac_engine::apply(plan, state, backend, provider, reporter.clone(), &opts).await;
    drop(interrupts);
    reporter.clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            printer.diagnostic(&apply_diag(&e));
            return Exit::Error.into();
        }
    };
    if !report.success() {
        printer.note("");
        printer.error(failure_report(&report, plan.kind).trim_end());
        return if report.cancelled {
            Exit::Interrupted.into()
        } else {
            Exit::Error.into()
        };
    }
    let mut out = String::new();
    if plan.refresh_only && plan.has_changes() {
        out.push_str(&format!(
            "\nRefresh complete: {} resource(s) recorded from AWS in {:.1}s; AWS was not changed.\n",
            plan.refreshed.len(),
            report.elapsed.as_secs_f64()
        ));
    } else if plan.has_changes() {
        out.push('\n');
        out.push_str(&summary_line(&report, plan.kind));
        out.push('\n');
    }
    if plan.kind == PlanKind::Apply && !report.outputs.is_empty() {
        out.push_str(&format_outputs(&report.outputs));
    }
    super::write_out(printer, &out)
}

/// [`execute`] with `--json`: a `plan` event, the walker's events, a `summary` event (or,
/// when the run cannot start, a `diagnostic`). Nothing else reaches stdout or stderr.
async fn execute_json(
    run: &Run<'_>,
    state: &mut State,
    backend: &dyn StateBackend,
    provider: Arc<dyn Provider>,
    printer: &Printer,
) -> ExitCode {
    let plan = run.plan;
    // A stale saved plan is a run that never started: a diagnostic, no `plan` event. (The
    // engine checks again under the lock it is called with.)
    if let Err(e) = plan.check_fresh(state) {
        printer.diagnostic(&apply_diag(&ApplyError::Stale(e)));
        return Exit::Error.into();
    }
    let reporter = Arc::new(JsonReporter::stdout());
    reporter.emit(&plan_event(plan, run.saved));
    if plan.kind == PlanKind::Destroy && !plan.has_changes() {
        // As without `--json`, a destroy with nothing to do does not touch the state.
        emit_stdout(&Event::Summary(RunSummary::of(
            &iac_engine::ApplyReport::default(),
            plan.kind,
        )));
        return Exit::Ok.into();
    }
    let cancel = CancelToken::new();
    let notes: Arc<dyn Notes> = reporter.clone();
    let interrupts = super::interrupt::during_apply(cancel.clone(), notes);
    let opts = ApplyOptions {
        parallelism: run.parallelism,
        cancel,
        ..ApplyOptions::default()
    };
    let result = iac_engine::apply(plan, state, backend, provider, reporter.clone(), &opts).await;
    drop(interrupts);
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            printer.diagnostic(&apply_diag(&e));
            return Exit::Error.into();
        }
    };
    reporter.emit(&Event::Summary(RunSummary::of(&report, plan.kind)));
    if report.success() {
        Exit::Ok.into()
    } else if report.cancelled {
        Exit::Interrupted.into()
    } else {
        Exit::Error.into()
    }
}

/// The outputs after an apply:
///
/// ```text
/// Outputs:
///   url = "https://lemonmart.example.com"
/// ```
pub fn format_outputs(outputs: &IndexMap<String, Json>) -> String {
    let mut out = String::from("\nOutputs:\n");
    for (name, value) in outputs {
        out.push_str(&format!(
            "  {name} = {}\n",
            serde_json::to_string(value).unwrap_or_default()
        ));
    }
    out
}

/// Why an apply did not start, as a diagnostic.
fn apply_diag(e: &ApplyError) -> Diag {
    match e {
        ApplyError::Stale(_) => Diag::error("iac::apply::stale_plan", e.to_string())
            .help("run `iac plan STACK --out FILE` again and apply the new plan"),
        ApplyError::WrongStack { .. } => Diag::error("iac::apply::wrong_stack", e.to_string())
            .help("apply the plan from the directory it was made in, against its own stack"),
        ApplyError::Cycle(_) => Diag::error("iac::apply::cycle", e.to_string())
            .help("this is a bug in iac: please report it with the plan (`iac plan --json`)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_listed_as_json_values() {
        let mut o = IndexMap::new();
        o.insert("url".to_string(), Json::String("https://x".into()));
        o.insert("tasks".to_string(), Json::from(2));
        assert_eq!(
            format_outputs(&o),
            "\nOutputs:\n  url = \"https://x\"\n  tasks = 2\n"
        );
    }

    #[test]
    fn a_plain_file_is_not_a_saved_plan() {
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("s.yaml");
        std::fs::write(&stack, "stack: demo\n").unwrap();
        let printer = Printer::from_env(false);
        assert!(read_saved_plan(&stack, &printer).unwrap().is_none());
        let other_json = dir.path().join("x.json");
        std::fs::write(&other_json, "{\"stack\": \"demo\"}").unwrap();
        assert!(read_saved_plan(&other_json, &printer).unwrap().is_none());
    }
}
