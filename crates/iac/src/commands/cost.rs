//! `iac cost STACK`: the estimated monthly cost of the stack as written, per resource and
//! line item, from the price table compiled in (no AWS call, no credentials). `--json`
//! prints [`iac_cost::Estimate`].

use std::process::ExitCode;

use crate::cli::CostArgs;
use crate::printer::Printer;

pub fn run(args: &CostArgs, printer: &Printer) -> ExitCode {
    let loaded = match super::load::load_and_report(&(&args.stack).into(), printer) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let estimate = iac_cost::estimate_stack(&loaded.stack);
    let text = if args.json {
        // Plain data: serialising it cannot fail.
        serde_json::to_string_pretty(&estimate).unwrap_or_default() + "\n"
    } else {
        iac_cost::render(&estimate)
    };
    super::write_out(printer, &text)
}
