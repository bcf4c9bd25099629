//! `iac validate STACK`: every problem in a stack, without touching AWS. Human output for
//! people (miette reports, then a summary); `--format json` for editors and CI annotations:
//! one document, `{"valid": bool, "diagnostics": [...]}`, each diagnostic as
//! [`iac_stack::diag::JsonDiag`].

use std::process::ExitCode;

use iac_stack::{Diag, Loaded};
use serde_json::json;

use super::load::{count, failure_summary, load, StackRequest};
use super::Exit;
use crate::cli::{DiagFormat, ValidateArgs};
use crate::printer::Printer;

pub fn run(args: &ValidateArgs, printer: &Printer) -> ExitCode {
    let req = StackRequest::from(&args.stack);
    let result = load(&req);
    let diags: Vec<&Diag> = match &result {
        Ok(loaded) => loaded.warnings.iter().collect(),
        Err(diags) => diags.iter().collect(),
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let valid = result.is_ok() && errors == 0 && !(req.deny_warnings && warnings > 0);

    if args.format == DiagFormat::Json {
        let doc = json!({
            "valid": valid,
            "diagnostics": diags.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
        });
        // A `json!` value of plain data always serialises.
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        let code = super::write_out(printer, &text);
        return if valid { code } else { Exit::Error.into() };
    }

    printer.diagnostics(diags.iter().copied(), req.verbose);
    let file = req.display_path();
    match (&result, valid) {
        (Ok(loaded), true) => super::write_out(
            printer,
            &format!("{}: {}\n", file.display(), success(loaded, warnings)),
        ),
        _ => {
            printer.error(&failure_summary(&file, &diags, req.deny_warnings));
            Exit::Error.into()
        }
    }
}

/// `stack `lemon-mart` is valid (21 resources, 2 outputs, 0 warnings)`.
fn success(loaded: &Loaded, warnings: usize) -> String {
    format!(
        "stack `{}` is valid ({}, {}, {})",
        loaded.stack.name,
        count(loaded.stack.resources.len(), "resource"),
        count(loaded.stack.outputs.len(), "output"),
        count(warnings, "warning"),
    )
}
