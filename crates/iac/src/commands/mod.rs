//! One module per command; each `run` returns the process exit code.
//!
//! Commands that read a stack share [`load`]: `--var` parsing, paths shown relative to the
//! working directory, diagnostics printed the same way everywhere.

mod apply;
mod aws;
mod backend;
mod completions;
mod cost;
mod destroy;
mod force_unlock;
mod graph;
mod import;
mod interrupt;
pub mod load;
mod output;
mod plan;
mod schema;
mod stack_refs;
mod state;
mod state_mv;
mod state_rm;
mod sweep;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

/// The exit codes of `iac` (see the crate docs for what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Error,
    /// `plan --detailed-exitcode` found changes.
    Changes,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(match e {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Changes => 2,
            Exit::Interrupted => 130,
        })
    }
}

pub fn run(cli: Cli, printer: &Printer) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(&args, printer),
        Command::Graph(args) => graph::run(&args, printer),
        Command::Cost(args) => cost::run(&args, printer),
        Command::Schema => schema::run(printer),
        Command::Completions(args) => completions::run(&args, printer),
        Command::Plan(args) => plan::run(&args, printer),
        Command::Apply(args) => apply::run(&args, printer),
        Command::Destroy(args) => destroy::run(&args, printer),
        Command::Output(args) => output::run(&args, printer),
        Command::Import(args) => import::run(&args, printer),
        Command::State(cmd) => state::run(&cmd, printer),
        Command::Sweep(args) => sweep::run(&args, printer),
        Command::ForceUnlock(args) => force_unlock::run(&args, printer),
    }
}

/// The async runtime of the commands that talk to AWS or a state backend. Built per
/// command, so `validate` and friends never start threads.
fn runtime(printer: &Printer) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            printer.error(&format!("cannot start the async runtime: {e}"));
            ExitCode::from(Exit::Error)
        })
}

/// Run a command that changes or reads AWS on the runtime, stopped cleanly by Ctrl-C and
/// SIGTERM (see [`interrupt`]).
fn block_on_interruptible(
    printer: &Printer,
    command: impl std::future::Future<Output = ExitCode>,
) -> ExitCode {
    match runtime(printer) {
        Ok(rt) => rt.block_on(interrupt::interruptible(command, printer)),
        Err(code) => code,
    }
}

/// Write a command's result to stdout; a reader that went away (`| head`) is not an error.
fn write_out(printer: &Printer, text: &str) -> ExitCode {
    match printer.out(text) {
        Ok(()) => Exit::Ok.into(),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok.into(),
        Err(e) => {
            printer.error(&format!("cannot write to stdout: {e}"));
            Exit::Error.into()
        }
    }
}
