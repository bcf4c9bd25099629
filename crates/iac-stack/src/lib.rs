//! Stack files of iac: YAML text in, a checked [`Stack`] and its dependency [`StackGraph`]
//! out, or every problem found as [`Diag`]nostics pointing into the file.
//!
//! Architecture invariant: this crate reads the files it is given and nothing else. It makes
//! no network call and knows nothing of AWS APIs or of state: every check here is one that
//! can be decided from the stack text alone.

pub mod diag;
pub mod graph;
pub mod implied;
pub mod load;
pub mod model;
pub mod policies;
pub mod rules;
pub mod schema;
pub mod span;
pub mod value;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use diag::{Diag, Diagnostics, Severity};
pub use graph::StackGraph;
pub use load::suggest;
pub use model::{Implied, Moved, Output, RefSite, Resource, ResourceSpans, Stack};
pub use span::{SourceFile, Span};
pub use value::{Part, Reference, Value};

/// `[a-z][a-z0-9_]*`: what a resource may be named (in `resources:`, `moved:`, and by
/// `iac state mv`), or `PARENT.CHILD`: a child of a web service.
pub fn is_resource_name(s: &str) -> bool {
    load::is_ident(s) || load::is_child_name(s)
}

/// The parent and the child of `PARENT.CHILD`, the name of a resource a composite
/// (`aws.web_service`) made; `None` for a name written in `resources:`.
pub fn child_name(name: &str) -> Option<(&str, &str)> {
    name.split_once('.')
}

/// Inputs from the command line that shape a stack besides its file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var-file FILE.yaml`, applied in order.
    pub var_files: Vec<PathBuf>,
    /// `--var name=value`, applied after the var files, in order (last wins).
    pub vars: Vec<(String, String)>,
    /// `--region`, overriding the stack's `region:`.
    pub region: Option<String>,
}

/// A stack that passed every check, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub stack: Stack,
    pub graph: StackGraph,
    /// Warnings only (a load with errors returns `Err`).
    pub warnings: Diagnostics,
}

/// Read and check a stack file. `Err` holds every diagnostic found (errors and warnings).
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&path.display().to_string(), &text, opts),
        Err(e) => Err(Diagnostics(vec![Diag::error(
            "iac::io::read",
            format!("cannot read `{}`: {e}", path.display()),
        )
        .help("check the path of the stack file")])),
    }
}

/// Check stack text; `name` is how diagnostics name the file.
pub fn load_str(name: &str, text: &str, opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let source = SourceFile::new(name, text);
    let mut diags = Diagnostics::default();
    let stack = load::build(&source, opts, &mut diags);
    let Some(mut stack) = stack else {
        return Err(diags);
    };
    implied::infer(&mut stack);
    policies::add(&mut stack);
    let graph = StackGraph::build(&stack, &mut diags);
    if !diags.has_errors() {
        rules::check(&stack, &graph, &mut diags);
        rules::check_cost(&stack, &mut diags);
    }
    name_resources(&stack, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Loaded {
        stack,
        graph,
        warnings: diags,
    })
}

/// Fills in [`Diag::resource`]: the resource whose entry in the file holds each
/// diagnostic's primary label. One binary search per diagnostic over the resources sorted
/// by where they are written.
fn name_resources(stack: &Stack, diags: &mut Diagnostics) {
    let mut extents: Vec<(usize, usize, &str)> = stack
        .resources
        .values()
        .map(|r| {
            (
                r.spans.name.start,
                r.spans.body.end.max(r.spans.name.end),
                r.name.as_str(),
            )
        })
        .collect();
    extents.sort_unstable();
    for d in &mut diags.0 {
        if d.resource.is_some() || d.source.as_ref().map(|s| &*s.name) != Some(&*stack.source.name)
        {
            continue;
        }
        let Some(at) = d.labels.first().map(|l| l.span.start) else {
            continue;
        };
        let i = extents.partition_point(|e| e.0 <= at);
        if let Some(&(start, end, name)) = i.checked_sub(1).map(|i| &extents[i]) {
            if start <= at && at <= end {
                d.resource = Some(name.to_string());
            }
        }
    }
}
