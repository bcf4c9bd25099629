//! Diagnostics: every problem found in a stack, with a stable code, the span it points at
//! and a help line. Rendered by miette in the binary, or as JSON for editors and CI.

use serde::Serialize;

use crate::span::{SourceFile, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A labelled span; the first label of a diagnostic is the primary one.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: Option<String>,
}

/// One problem in a stack file.
#[derive(Debug, Clone)]
pub struct Diag {
    /// Stable code, e.g. `iac::reference::unknown_resource`; documented in docs/.
    pub code: &'static str,
    pub severity: Severity,
    /// What is wrong, naming the values in backticks, no trailing period.
    pub message: String,
    /// The file the labels point into (a stack or a var file); `None` for problems that
    /// have no place in a file (e.g. a `--var` on the command line).
    pub source: Option<SourceFile>,
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// The labelled lines may hold a secret: the report names the file and line but does
    /// not print the source, so the value never reaches a terminal or a CI log.
    pub redacted: bool,
    /// The resource the primary label points into, when the loader knows it (filled in
    /// once the stack is built): how a summed-up group of diagnostics names its places.
    pub resource: Option<String>,
}

/// The text of the label on the alias a labelled value came through.
pub const ALIAS_LABEL: &str = "used here, through this alias";

impl Diag {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            code,
            severity: Severity::Error,
            message: message.into(),
            source: None,
            labels: vec![],
            help: None,
            redacted: false,
            resource: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, message)
        }
    }
    /// Report the place without printing the source lines (see [`Diag::redacted`]).
    pub fn redact(mut self) -> Self {
        self.redacted = true;
        self
    }
    pub fn in_file(mut self, source: &SourceFile) -> Self {
        self.source = Some(source.clone());
        self
    }
    /// Label `span`. A span of a value that came through a YAML alias gets a second label
    /// on the alias, so the report shows where the value is written (under its anchor) and
    /// where it is used.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: Some(text.into()),
        });
        self.label_alias(span)
    }
    pub fn span(mut self, span: Span) -> Self {
        self.labels.push(Label { span, text: None });
        self.label_alias(span)
    }
    fn label_alias(mut self, span: Span) -> Self {
        if let Some(alias) = span.alias() {
            if !self.labels.iter().any(|l| l.span == alias) {
                self.labels.push(Label {
                    span: alias,
                    text: Some(ALIAS_LABEL.to_string()),
                });
            }
        }
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The machine-readable form used by `iac validate --format json`.
    pub fn to_json(&self) -> JsonDiag {
        let (line, column) = match (&self.source, self.labels.first()) {
            (Some(src), Some(l)) => {
                let (line, col) = src.line_col(l.span.start);
                (Some(line), Some(col))
            }
            _ => (None, None),
        };
        JsonDiag {
            code: self.code,
            severity: self.severity,
            file: self.source.as_ref().map(|s| s.name.clone()),
            line,
            column,
            message: self.message.clone(),
            help: self.help.clone(),
        }
    }
}

/// A diagnostic as JSON: `{code, severity, file, line, column, message, help}`.
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiag {
    pub code: &'static str,
    pub severity: Severity,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for Diag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        // A redacted diagnostic shows no source snippet, so its place goes in the message.
        if let (true, Some(json)) = (self.redacted, Some(self.to_json())) {
            if let (Some(file), Some(line), Some(col)) = (json.file, json.line, json.column) {
                write!(f, " (at {file}:{line}:{col})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diag {}

impl miette::Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.redacted {
            return None;
        }
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() || self.redacted {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            if i == 0 {
                miette::LabeledSpan::new_primary_with_span(l.text.clone(), l.span)
            } else {
                miette::LabeledSpan::new_with_span(l.text.clone(), l.span)
            }
        })))
    }
}

/// How many diagnostics of one code are shown in full; the rest of that code are summed up
/// in one line (all of them with `--verbose`, and always in `--format json`).
pub const SHOWN_PER_CODE: usize = 3;

/// One item of a report: a diagnostic in full, or the rest of one code summed up.
#[derive(Debug)]
pub enum Shown<'a> {
    Full(&'a Diag),
    /// The diagnostics of `code` after the first [`SHOWN_PER_CODE`], by where they point
    /// (the resource, else `line N`), in the order found.
    More {
        code: &'static str,
        severity: Severity,
        places: Vec<String>,
    },
}

/// The report of `diags`: each in full until `keep` of its code were shown, then one
/// [`Shown::More`] per code with the rest, after all the full ones. Linear in the number of
/// diagnostics.
pub fn group<'a>(diags: &[&'a Diag], keep: usize) -> Vec<Shown<'a>> {
    let mut shown: std::collections::HashMap<&'static str, usize> = Default::default();
    let mut more: Vec<Shown<'a>> = Vec::new();
    let mut more_of: std::collections::HashMap<&'static str, usize> = Default::default();
    let mut out = Vec::with_capacity(diags.len().min(64));
    for d in diags {
        let n = shown.entry(d.code).or_default();
        if *n < keep {
            *n += 1;
            out.push(Shown::Full(d));
            continue;
        }
        let i = *more_of.entry(d.code).or_insert_with(|| {
            more.push(Shown::More {
                code: d.code,
                severity: d.severity,
                places: Vec::new(),
            });
            more.len() - 1
        });
        if let Shown::More { places, .. } = &mut more[i] {
            places.push(d.place());
        }
    }
    out.extend(more);
    out
}

impl Diag {
    /// Where it points, in a word: `` `web_tg` `` (the resource), else `line 12`, else
    /// nothing more precise than the file.
    pub fn place(&self) -> String {
        if let Some(r) = &self.resource {
            return format!("`{r}`");
        }
        match (&self.source, self.labels.first()) {
            (Some(src), Some(l)) => format!("line {}", src.line_col(l.span.start).0),
            (Some(src), None) => format!("`{}`", src.name),
            _ => "the command line".to_string(),
        }
    }
}

/// Every diagnostic of one load, errors and warnings, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diag>);

/// After this many errors the loader stops collecting: the rest is likely noise.
pub const MAX_ERRORS: usize = 50;

impl Diagnostics {
    pub fn push(&mut self, d: Diag) {
        self.0.push(d);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diag::is_error)
    }
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }
    pub fn is_full(&self) -> bool {
        self.error_count() >= MAX_ERRORS
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diag> {
        self.0.iter()
    }
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diag>) {
        self.0.extend(other)
    }
}

/// Render a diagnostic the way the binary shows it: miette's graphical report, with colour
/// or without (snapshots and non-TTY output use plain).
pub fn render(diag: &Diag, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, diag);
    out
}
