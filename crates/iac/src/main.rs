//! The `iac` binary: parses arguments and hands each command to its module.
//!
//! Exit codes, stable because CI pipelines branch on them:
//! - `0`: success.
//! - `1`: error: the stack has errors (or warnings under `--deny-warnings`), a command failed,
//!   or the command line is wrong. Usage errors exit 1 too, not clap's usual 2, so that 2
//!   keeps exactly one meaning.
//! - `2`: only `iac plan --detailed-exitcode`: the plan has changes.
//! - `130`: interrupted by Ctrl-C (128 + SIGINT). Commands with nothing to clean up
//!   (validate, graph, schema, ...) keep the default SIGINT disposition: the process is
//!   killed by the signal, which shells and CI runners report as 130. Commands that must
//!   leave the state consistent (apply, destroy) catch the signal, let running operations
//!   finish and save the state, then exit with [`commands::Exit::Interrupted`] (130).

mod cli;
mod commands;
mod printer;
mod reporter;
mod reporter_json;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` arrive here too, with exit code 0.
            let _ = e.print();
            return if e.exit_code() == 0 {
                commands::Exit::Ok.into()
            } else {
                commands::Exit::Error.into()
            };
        }
    };
    let printer = printer::Printer::from_env(cli.no_color);
    printer.install_miette_hook();
    commands::run(cli, &printer)
}
