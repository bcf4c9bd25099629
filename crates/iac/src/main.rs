//! The `iac` binary: parses arguments and hands each command to its module.

mod cli;
mod commands;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    commands::run(cli)
}
