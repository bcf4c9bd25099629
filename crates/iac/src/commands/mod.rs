//! One module per command; each `run` returns the process exit code.
//!
//! Commands that read a stack share [`load`]: `--var` parsing, paths shown relative to the
//! working directory, diagnostics printed the same way everywhere.

mod completions;
mod graph;
pub mod load;
mod schema;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

/// The exit codes of `iac` (see the crate docs for what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // `Changes` and `Interrupted` are for the engine commands.
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
        Command::Schema => schema::run(printer),
        Command::Completions(args) => completions::run(&args, printer),
        Command::Plan(_) => not_available("plan", printer),
        Command::Apply(_) => not_available("apply", printer),
        Command::Destroy(_) => not_available("destroy", printer),
        Command::Output(_) => not_available("output", printer),
        Command::State(_) => not_available("state", printer),
        Command::ForceUnlock(_) => not_available("force-unlock", printer),
    }
}

/// A command whose engine is not part of this build.
fn not_available(command: &str, printer: &Printer) -> ExitCode {
    printer.error(&format!(
        "`iac {command}` is not available in this build yet"
    ));
    Exit::Error.into()
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
