//! All terminal output goes through one [`Printer`], so colour and stream choices are made
//! once: results on stdout (pipeable), diagnostics and progress on stderr.
//!
//! `iac apply --json` and `iac destroy --json` switch it to events ([`Printer::events`]):
//! then every diagnostic is a JSON event on stdout (see [`crate::reporter_json`]) and the
//! human output (notes, rendered plans, summaries) goes nowhere.

use std::io::{IsTerminal, Write};

use iac_stack::diag::{group, render, JsonDiag, Severity, Shown, SHOWN_PER_CODE};
use iac_stack::Diag;
use owo_colors::{OwoColorize, Style};

use crate::reporter_json::Event;

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// Colour on stderr: only on a terminal, and never when `NO_COLOR` is set
    /// (<https://no-color.org>: any non-empty value).
    color: bool,
    /// Colour on stdout (a plan shown by `iac plan`), decided the same way for stdout.
    out_color: bool,
    /// Whether stderr is a terminal: progress bars and prompts need one.
    err_terminal: bool,
    /// JSON events on stdout instead of human output (`--json` of apply and destroy).
    events: bool,
}

impl Printer {
    /// Decide colour from the environment; `no_color` is `--no-color`, which wins.
    pub fn from_env(no_color_flag: bool) -> Self {
        let no_color = if no_color_flag {
            Some(std::ffi::OsString::from("1"))
        } else {
            std::env::var_os("NO_COLOR")
        };
        let err_terminal = std::io::stderr().is_terminal();
        Printer {
            color: use_color(no_color.as_deref(), err_terminal),
            out_color: use_color(no_color.as_deref(), std::io::stdout().is_terminal()),
            err_terminal,
            events: false,
        }
    }

    /// The same printer speaking JSON events: diagnostics and errors become `diagnostic`
    /// events on stdout, notes and [`Printer::out`] print nothing.
    pub fn events(self) -> Self {
        Printer {
            events: true,
            color: false,
            out_color: false,
            ..self
        }
    }

    /// Whether this printer speaks JSON events ([`Printer::events`]).
    pub fn is_events(&self) -> bool {
        self.events
    }

    /// Whether stdout gets colour (a plan printed by `iac plan` or `iac apply`).
    pub fn out_color(&self) -> bool {
        self.out_color
    }

    /// Whether stderr gets colour (diagnostics, progress).
    pub fn err_color(&self) -> bool {
        self.color
    }

    /// Whether stderr is a terminal (live progress lines instead of one line per event).
    pub fn err_terminal(&self) -> bool {
        self.err_terminal
    }

    /// A line on stderr: notes and progress that are not the command's result.
    pub fn note(&self, message: &str) {
        if self.events {
            return;
        }
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }

    /// Make miette render any `miette::Report` the way [`Printer::diagnostic`] does. Called
    /// once, from `main`: miette accepts only one hook per process.
    pub fn install_miette_hook(&self) {
        let color = self.color;
        // Fails only when a hook is already installed, which `main` rules out.
        let _ = miette::set_hook(Box::new(move |_| {
            let theme = if color {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            };
            Box::new(miette::GraphicalReportHandler::new_themed(theme).with_width(100))
        }));
    }

    /// Print one diagnostic on stderr, with its source lines.
    pub fn diagnostic(&self, d: &Diag) {
        if self.events {
            crate::reporter_json::emit_stdout(&Event::Diagnostic(d.to_json()));
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", render(d, self.color).trim_end());
        let _ = writeln!(err);
    }

    /// Print the diagnostics on stderr, in the order found: with `verbose` every one in
    /// full, else the first [`SHOWN_PER_CODE`] of each code in full and the rest of that
    /// code in one line naming where each points (a stack with a warning on each of 2,500
    /// log groups stays readable).
    pub fn diagnostics<'a>(&self, ds: impl IntoIterator<Item = &'a Diag>, verbose: bool) {
        let ds: Vec<&Diag> = ds.into_iter().collect();
        if self.events {
            // A program reads every one; nothing is summed up.
            for d in ds {
                self.diagnostic(d);
            }
            return;
        }
        let keep = if verbose { usize::MAX } else { SHOWN_PER_CODE };
        for item in group(&ds, keep) {
            match item {
                Shown::Full(d) => self.diagnostic(d),
                Shown::More {
                    code,
                    severity,
                    places,
                } => {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "{}", more_line(code, severity, &places, self.color));
                    let _ = writeln!(err);
                }
            }
        }
    }

    /// A one-line error on stderr: `error: ...`.
    pub fn error(&self, message: &str) {
        if self.events {
            crate::reporter_json::emit_stdout(&Event::Diagnostic(JsonDiag {
                code: "iac::error",
                severity: Severity::Error,
                file: None,
                line: None,
                column: None,
                message: message.to_string(),
                help: None,
            }));
            return;
        }
        let prefix = if self.color {
            "error".style(Style::new().bold().red()).to_string()
        } else {
            "error".to_string()
        };
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {message}");
    }

    /// The command's result on stdout. A closed pipe (`iac schema | head`) is reported as
    /// `BrokenPipe` so the caller can stop quietly instead of panicking like `println!`.
    /// Speaking events, nothing: stdout carries only JSON lines then.
    pub fn out(&self, text: &str) -> std::io::Result<()> {
        if self.events {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

/// How many places a summed-up line names before it only counts the rest.
const PLACES_NAMED: usize = 20;

/// `⚠ 2,497 more `iac::protect::unprotected_stateful` warnings: `lg3`, `lg4`, ... and 2,477
/// more; --verbose shows each`.
fn more_line(code: &str, severity: Severity, places: &[String], color: bool) -> String {
    let (mark, kind) = match severity {
        Severity::Warning => ("⚠", "warning"),
        Severity::Error => ("×", "error"),
    };
    let mark = match (color, severity) {
        (false, _) => mark.to_string(),
        (true, Severity::Warning) => mark.yellow().to_string(),
        (true, Severity::Error) => mark.red().to_string(),
    };
    let n = places.len();
    let mut named = places
        .iter()
        .take(PLACES_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if n > PLACES_NAMED {
        named.push_str(&format!(" and {} more", n - PLACES_NAMED));
    }
    let plural = if n == 1 { "" } else { "s" };
    format!(
        "{mark} {n} more `{code}` {kind}{plural} like the above: {named}; `--verbose` shows each"
    )
}

/// Colour only on a terminal, and not when `NO_COLOR` is set to anything but the empty string.
fn use_color(no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::use_color;

    #[test]
    fn the_rest_of_one_code_is_one_line_naming_where_each_points() {
        let places: Vec<String> = (0..25).map(|i| format!("`lg{i}`")).collect();
        let line = super::more_line(
            "iac::protect::unprotected_stateful",
            iac_stack::Severity::Warning,
            &places,
            false,
        );
        assert!(
            line.starts_with("⚠ 25 more `iac::protect::unprotected_stateful` warnings like the above: `lg0`, `lg1`,"),
            "{line}"
        );
        assert!(
            line.contains("`lg19` and 5 more; `--verbose` shows each"),
            "{line}"
        );
        assert!(!line.contains("`lg20`"), "{line}");
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(use_color(None, true));
        assert!(use_color(Some(OsStr::new("")), true));
        assert!(!use_color(Some(OsStr::new("1")), true));
        assert!(!use_color(None, false));
    }
}
