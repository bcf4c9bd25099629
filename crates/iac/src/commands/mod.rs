//! One module per command. Each returns the process exit code.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        _ => ExitCode::from(1),
    }
}
