//! `iac schema`: the JSON Schema of the stack format, for editors
//! (`# yaml-language-server: $schema=...`) and for checking docs/stack.schema.json is current.

use std::process::ExitCode;

use crate::printer::Printer;

pub fn run(printer: &Printer) -> ExitCode {
    let schema = iac_stack::schema::json_schema();
    match serde_json::to_string_pretty(&schema) {
        Ok(text) => super::write_out(printer, &(text + "\n")),
        Err(e) => {
            printer.error(&format!("cannot serialise the JSON Schema: {e}"));
            super::Exit::Error.into()
        }
    }
}
