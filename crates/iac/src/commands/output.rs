//! `iac output STACK [NAME] [--json]`: the outputs the last apply stored in the state. No
//! AWS call for local state. One output prints as plain text (a string without quotes), so scripts can use
//! `$(iac output stack.yaml url)`; `--json` prints JSON (an object, or the one value).

use std::process::ExitCode;

use iac_stack::Diag;
use serde_json::Value as Json;

use super::Exit;
use crate::cli::OutputArgs;
use crate::printer::Printer;

pub fn run(args: &OutputArgs, printer: &Printer) -> ExitCode {
    let rt = match super::runtime(printer) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let stored = match super::state::read(&args.stack, &args.aws, printer).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let outputs = stored
            .state
            .as_ref()
            .map(|s| s.outputs.clone())
            .unwrap_or_default();
        let Some(name) = &args.name else {
            if outputs.is_empty() && !args.json {
                printer.note(&format!(
                    "the stack `{}` has no outputs in its state; they are stored by `iac apply`",
                    stored.loaded.stack.name
                ));
                return Exit::Ok.into();
            }
            let text = if args.json {
                serde_json::to_string_pretty(&outputs).unwrap_or_default() + "\n"
            } else {
                outputs
                    .iter()
                    .map(|(k, v)| format!("{k} = {}\n", compact(v)))
                    .collect()
            };
            return super::write_out(printer, &text);
        };
        match outputs.get(name) {
            Some(v) => {
                let text = if args.json {
                    serde_json::to_string_pretty(v).unwrap_or_default()
                } else {
                    plain(v)
                };
                super::write_out(printer, &(text + "\n"))
            }
            None => {
                let declared = stored.loaded.stack.outputs.contains_key(name);
                let help = if declared {
                    "run `iac apply` first: outputs are computed by an apply".to_string()
                } else {
                    let names: Vec<String> = stored
                        .loaded
                        .stack
                        .outputs
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect();
                    if names.is_empty() {
                        "the stack declares no `outputs:`".to_string()
                    } else {
                        format!("the stack declares {}", names.join(", "))
                    }
                };
                printer.diagnostic(
                    &Diag::error(
                        "iac::output::unknown",
                        format!("the state has no output `{name}`"),
                    )
                    .help(help),
                );
                Exit::Error.into()
            }
        }
    })
}

/// A value on one line, as JSON.
fn compact(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A string as is, anything else as JSON.
fn plain(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => compact(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_print_bare_and_the_rest_as_json() {
        assert_eq!(plain(&Json::String("https://x".into())), "https://x");
        assert_eq!(plain(&serde_json::json!([1, 2])), "[1,2]");
        assert_eq!(compact(&Json::String("a".into())), "\"a\"");
    }
}
