//! `iac graph STACK`: the dependency graph as Graphviz DOT (`| dot -Tsvg`) or Mermaid
//! (paste into a pull request). Only a valid stack is drawn: a half-checked graph could
//! show edges that do not exist.

use std::process::ExitCode;

use crate::cli::{GraphArgs, GraphFormat};
use crate::printer::Printer;

pub fn run(args: &GraphArgs, printer: &Printer) -> ExitCode {
    let loaded = match super::load::load_and_report(&(&args.stack).into(), printer) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let text = match args.format {
        GraphFormat::Dot => loaded.graph.to_dot(),
        GraphFormat::Mermaid => loaded.graph.to_mermaid(),
    };
    super::write_out(printer, &text)
}
