//! `iac completions SHELL`: a completion script generated from the same clap definitions the
//! binary parses with, so it never falls behind the arguments.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::printer::Printer;

pub fn run(args: &CompletionsArgs, printer: &Printer) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "iac", &mut script);
    super::write_out(printer, &String::from_utf8_lossy(&script))
}
