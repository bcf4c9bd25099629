//! Loading a stack for a command: the command-line inputs turned into
//! [`iac_stack::LoadOptions`], file names shown relative to the working directory, and the
//! diagnostics printed the same way by every command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iac_stack::{Diag, Diagnostics, LoadOptions, Loaded};

use super::Exit;
use crate::cli::{LoadArgs, StackArgs};
use crate::printer::Printer;

/// What a command asks to load. Borrowed from the command's clap arguments, so commands
/// whose arguments are not a [`StackArgs`] (e.g. `apply`, which also takes a saved plan)
/// can fill it in themselves.
#[derive(Debug, Clone, Copy)]
pub struct StackRequest<'a> {
    pub stack: &'a Path,
    pub var_files: &'a [PathBuf],
    /// `--var` as written: `name=value`.
    pub vars: &'a [String],
    pub region: Option<&'a str>,
    pub deny_warnings: bool,
    /// Every diagnostic in full (`--verbose`).
    pub verbose: bool,
}

impl<'a> From<&'a StackArgs> for StackRequest<'a> {
    fn from(a: &'a StackArgs) -> Self {
        StackRequest::new(&a.stack, &a.load)
    }
}

impl<'a> StackRequest<'a> {
    /// `stack` loaded as `load` says.
    pub fn new(stack: &'a Path, load: &'a LoadArgs) -> Self {
        StackRequest {
            stack,
            var_files: &load.var_files,
            vars: &load.vars,
            region: load.region.as_deref(),
            deny_warnings: load.deny_warnings,
            verbose: load.verbose,
        }
    }
}

impl StackRequest<'_> {
    /// The stack file as messages name it: relative to the working directory when inside it.
    pub fn display_path(&self) -> PathBuf {
        display_path(self.stack)
    }

    /// The loader's options; `Err` names every malformed `--var`.
    pub fn options(&self) -> Result<LoadOptions, Diagnostics> {
        let mut vars = Vec::with_capacity(self.vars.len());
        let mut bad = Diagnostics::default();
        for v in self.vars {
            match parse_var(v) {
                Some(kv) => vars.push(kv),
                None => bad.push(
                    Diag::error("iac::cli::var", format!("`--var {v}` is not `name=value`"))
                        .help("write each var as `--var name=value`, e.g. `--var tasks=3`"),
                ),
            }
        }
        if !bad.0.is_empty() {
            return Err(bad);
        }
        Ok(LoadOptions {
            var_files: self.var_files.iter().map(|p| display_path(p)).collect(),
            vars,
            region: self.region.map(str::to_string),
        })
    }
}

/// `name=value` -> `(name, value)`; the value may be empty or contain `=`. `None` when
/// there is no `=` or no name.
pub fn parse_var(s: &str) -> Option<(String, String)> {
    let (name, value) = s.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then(|| (name.to_string(), value.to_string()))
}

/// A path as messages should show it: relative to the working directory when the file is
/// inside it (so output is the same on every machine and in snapshots), else as given.
/// Relative paths stay as written; the relative form opens the same file.
pub fn display_path(p: &Path) -> PathBuf {
    if p.is_relative() {
        return p.to_path_buf();
    }
    let (Ok(cwd), Ok(abs)) = (
        std::env::current_dir().and_then(|d| d.canonicalize()),
        p.canonicalize(),
    ) else {
        return p.to_path_buf();
    };
    match abs.strip_prefix(&cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => p.to_path_buf(),
    }
}

/// Load and check the stack. `Err` holds every diagnostic, errors and warnings (including
/// malformed `--var`s). Warnings of a successful load are in [`Loaded::warnings`]; whether
/// they are denied is the caller's decision (see [`StackRequest::deny_warnings`]).
///
/// The region is `--region`, else the stack's `region:`, else `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`): the environment only fills in a region the stack does not name,
/// so a shell left pointing at another region cannot move a stack that says where it lives.
pub fn load(req: &StackRequest<'_>) -> Result<Loaded, Diagnostics> {
    let opts = req.options()?;
    let path = req.display_path();
    match iac_stack::load_file(&path, &opts) {
        Err(diags) if opts.region.is_none() && misses_region(&diags) => match env_region() {
            Some(region) => iac_stack::load_file(
                &path,
                &LoadOptions {
                    region: Some(region),
                    ..opts
                },
            ),
            None => Err(diags),
        },
        other => other,
    }
}

/// The stack names no `region:` (the loader's `missing_key` diagnostic for it).
fn misses_region(diags: &Diagnostics) -> bool {
    diags
        .iter()
        .any(|d| d.code == "iac::stack::missing_key" && d.message.contains("`region`"))
}

/// The region the AWS tools would use from the environment.
fn env_region() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// Load for a command that needs a valid stack: warnings and errors are printed on stderr;
/// `Err` carries the exit code after a one-line summary. Warnings fail the load under
/// `--deny-warnings`.
pub fn load_and_report(req: &StackRequest<'_>, printer: &Printer) -> Result<Loaded, ExitCode> {
    let diags = match load(req) {
        Ok(loaded) => {
            printer.diagnostics(loaded.warnings.iter(), req.verbose);
            if !(req.deny_warnings && loaded.warnings.warning_count() > 0) {
                return Ok(loaded);
            }
            loaded.warnings
        }
        Err(diags) => {
            printer.diagnostics(diags.iter(), req.verbose);
            diags
        }
    };
    let all: Vec<&Diag> = diags.iter().collect();
    printer.error(&failure_summary(
        &req.display_path(),
        &all,
        req.deny_warnings,
    ));
    Err(Exit::Error.into())
}

/// The last line after a stack failed to load, e.g.
/// `` `stacks/x.yaml` is not valid: 2 errors, 1 warning ``.
pub fn failure_summary(file: &Path, diags: &[&Diag], deny_warnings: bool) -> String {
    let file = file.display();
    if diags
        .iter()
        .any(|d| d.is_error() && d.code.starts_with("iac::cli::"))
    {
        return format!("`{file}` was not checked: fix the command line first");
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let denied = if errors == 0 && deny_warnings && warnings > 0 {
        " (warnings are denied by `--deny-warnings`)"
    } else {
        ""
    };
    format!(
        "`{file}` is not valid: {}, {}{denied}",
        count(errors, "error"),
        count(warnings, "warning")
    )
}

/// `1 warning`, `2 warnings`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_split_at_the_first_equals() {
        assert_eq!(
            parse_var("image=nginx:1.27").unwrap(),
            ("image".into(), "nginx:1.27".into())
        );
        assert_eq!(parse_var("q=a=b").unwrap(), ("q".into(), "a=b".into()));
        assert_eq!(
            parse_var("empty=").unwrap(),
            ("empty".into(), String::new())
        );
    }

    #[test]
    fn vars_without_a_name_or_equals_are_rejected() {
        for bad in ["tasks", "=3", ""] {
            assert_eq!(parse_var(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_bad_var_is_reported_by_name() {
        let vars = ["a=1".to_string(), "b".into(), "c".into()];
        let req = StackRequest {
            stack: Path::new("s.yaml"),
            var_files: &[],
            vars: &vars,
            region: None,
            deny_warnings: false,
            verbose: false,
        };
        let diags = req.options().unwrap_err();
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "`--var b` is not `name=value`",
                "`--var c` is not `name=value`"
            ]
        );
        assert!(diags.iter().all(|d| d.code == "iac::cli::var"));
    }

    #[test]
    fn counts_are_plural_aware() {
        assert_eq!(count(0, "error"), "0 errors");
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(21, "resource"), "21 resources");
    }

    #[test]
    fn display_paths_are_relative_inside_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let inside = cwd.join("Cargo.toml");
        assert_eq!(display_path(&inside), Path::new("Cargo.toml"));
        assert_eq!(display_path(Path::new("x/y.yaml")), Path::new("x/y.yaml"));
        let outside = Path::new("/definitely/not/here.yaml");
        assert_eq!(display_path(outside), outside);
    }
}
